/* The maraude phone's frame: the screen the state says (state/maraude.ts). The round's views
 * are a module of their own, loaded once the first screen is painted (the gate's screens need
 * none of them; the service worker holds both, so it loads offline too). */
import { useEffect, useState } from "preact/hooks";
import { UNLOADED, type Maraude } from "../../state/maraude";
import { useValue } from "../../state/observable";
import { EnrolScreen, PinScreen, RevokedScreen, SetPinScreen } from "./Gate";

type RoundViews = typeof import("./RoundView");
let roundViews: Promise<RoundViews> | null = null;
const loadRoundViews = () => (roundViews ??= import("./RoundView"));

function useRoundViews(): RoundViews | "failed" | null {
  const [views, setViews] = useState<RoundViews | "failed" | null>(null);
  useEffect(() => {
    let live = true;
    /* after the first paint, as the gate starts the round's code (state/maraude.ts prepare) */
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
  }, []);
  return views;
}

export function MaraudeApp({ app }: { app: Maraude }) {
  const s = useValue(app.screen);
  const views = useRoundViews();
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
          <p class="boot" role="alert">
            {UNLOADED}
          </p>
        );
      return views ? <views.RoundView round={s.round} /> : <p class="boot">Ouverture de la maraude…</p>;
    case "revoked":
      return <RevokedScreen app={app} s={s} />;
  }
}
