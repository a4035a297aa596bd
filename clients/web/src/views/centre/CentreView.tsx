/* The centre desk (responsable_centre, role 5): declare the vacant places, decide on the SIAO's
 * proposals (admit for a fixed duration, or refuse with a motive: R345-4), and watch the stays'
 * dates. At 1280x800 the declaration and the proposals sit side by side, above the fold; the
 * stays' dates below. No I/O here: the Desk's observables and actions only. */
import type { Desk } from "../../state/model";
import { DeclarePlaces } from "./DeclarePlaces";
import { IncomingProposals } from "./IncomingProposals";
import { Stays } from "./Stays";
import "./centre.css";

export interface CentreViewProps {
  desk: Desk;
}

export function CentreView({ desk }: CentreViewProps) {
  return (
    <div class="centre">
      <DeclarePlaces desk={desk} />
      <IncomingProposals desk={desk} />
      <Stays desk={desk} />
    </div>
  );
}
