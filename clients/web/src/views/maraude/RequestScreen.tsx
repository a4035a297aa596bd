/* "Demander un hébergement" for a person, on the phone: the desk's form (views/terminal),
 * saved on the phone like an encounter and sent to the SIAO when the network allows. */
import type { PersonItem, Round } from "../../state/maraude";
import { useValue } from "../useValue";
import { ShelterRequestForm } from "../terminal/ShelterRequestForm";
import { personLabel } from "./PersonSearch";

export function RequestScreen({ round, person, onBack }: { round: Round; person: PersonItem; onBack(): void }) {
  const live = useValue(round.status).link.kind === "live";
  const open = useValue(round.requests)
    .map((r) => r.view)
    .filter((r) => r.personId === person.id && (r.status === "waiting" || r.status === "proposed"));
  return (
    <main class="screen" aria-labelledby="request-screen-title">
      <button type="button" class="link back" onClick={onBack}>
        <span aria-hidden="true">←</span> Retour
      </button>
      <h1 id="request-screen-title">Demande d'hébergement</h1>
      <p>Pour {personLabel(person)}, au SIAO du territoire.</p>
      <ShelterRequestForm
        personId={person.id}
        household={person.household}
        open={open}
        now={Date.now()}
        send={round.requestShelter}
        sent={`Demande enregistrée sur le téléphone ; elle ${live ? "part" : "partira au retour du réseau"} vers le SIAO. Son suivi s'affiche sur la fiche de la personne.`}
        failed="La demande n'a pas été enregistrée sur le téléphone."
      />
    </main>
  );
}
