/* The maraude phone's frame: the screen the state says (state/maraude.ts). The round's views
 * are a module of their own, loaded once a PIN screen is painted (the gate's screens need none
 * of them; the service worker holds both, so it loads offline too). */
import { useEffect, useState } from "preact/hooks";
import { UNLOADED, type Maraude } from "../../state/maraude";
import { useValue } from "../useValue";
import { EnrolScreen, PinScreen, RevokedScreen, SetPinScreen } from "./Gate";

type RoundViews = typeof import("./RoundView");
let roundViews: Promise<RoundViews> | null = null;
const loadRoundViews = () => (roundViews ??= import("./RoundView"));

/* The round's views, loading from when `wanted` (the PIN screen is up: a first visit's
 * enrolment screen does not share the link with them). */
function useRoundViews(wanted: boolean): RoundViews | "failed" | null {
  const [views, setViews] = useState<RoundViews | "failed" | null>(null);
  useEffect(() => {
    if (!wanted || views) return;
    let live = true;
    /* once the screen is painted, as the gate starts the round's code (state/maraude.ts prepare) */
    requestAnimationFrame(() =>
      setTimeout(() =>
        loadRoundViews().then(
          (m) => live && setViews(m),
          () => {
            roundViews = null;
            if (live) setViews("failed");
          },
        ),
      ),
    );
    return () => void (live = false);
  }, [wanted]);
  return views;
}

export function MaraudeApp({ app }: { app: Maraude }) {
  const s = useValue(app.screen);
  const views = useRoundViews(s.kind === "pin" || s.kind === "set-pin" || s.kind === "round");
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
      if (views === "failed")
        return (
          <main class="screen">
            <p role="alert">
              {UNLOADED}
            </p>
            {/* an installed app has no browser bar to reload from */}
            <button type="button" class="wide big" onClick={() => location.reload()}>
              Recharger
            </button>
          </main>
        );
      return views ? <views.RoundView round={s.round} /> : <p class="boot">Ouverture de la maraude…</p>;
    case "revoked":
      return <RevokedScreen app={app} s={s} />;
  }
}
