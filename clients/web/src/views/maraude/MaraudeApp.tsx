/* The maraude phone's frame: the screen the state says (state/maraude.ts). */
import type { Maraude } from "../../state/maraude";
import { useValue } from "../../state/observable";
import { EnrolScreen, PinScreen, RevokedScreen, SetPinScreen } from "./Gate";
import { RoundView } from "./RoundView";

export function MaraudeApp({ app }: { app: Maraude }) {
  const s = useValue(app.screen);
  switch (s.kind) {
    case "loading":
      return <p class="boot">Ouverture de la maraude…</p>;
    case "enrol":
      return <EnrolScreen app={app} s={s} />;
    case "set-pin":
      return <SetPinScreen app={app} s={s} />;
    case "pin":
      return <PinScreen app={app} s={s} />;
    case "round":
      return <RoundView round={s.round} />;
    case "revoked":
      return <RevokedScreen app={app} s={s} />;
  }
}
