/* Says whether what is on screen is live: "En direct", or since when it is not and when the
 * next attempt comes. Text and shape, never colour alone. */
import { useEffect, useState } from "preact/hooks";
import type { LinkStatus } from "../../state/model";
import { formatTime } from "../../state/labels";

export function linkText(s: LinkStatus, now: number): string {
  switch (s.kind) {
    case "live":
      return "En direct";
    case "connecting":
      return s.attempt > 1 ? `Reconnexion en cours (essai ${s.attempt})…` : "Connexion au serveur…";
    case "offline": {
      const wait = Math.max(0, Math.ceil((s.retryAt - now) / 1000));
      return `Hors ligne depuis ${formatTime(s.since)} : données figées. Nouvel essai ${wait > 0 ? `dans ${wait} s` : "en cours"}.`;
    }
    case "revoked":
      return "Poste révoqué";
    case "refused":
      return `Connexion refusée par le serveur : ${s.reason}`;
    case "stopped":
      return "Déconnecté";
  }
}

export function LinkIndicator({ status }: { status: LinkStatus }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (status.kind !== "offline") return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [status]);
  return (
    <p class={`link link--${status.kind}`} role="status" aria-live="polite">
      <span class="link__dot" aria-hidden="true" />
      {linkText(status, now)}
    </p>
  );
}
