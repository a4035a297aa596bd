/* The person's recent visits as the team recorded them (newest first). */
import type { EncounterView } from "../../state/model";
import { formatWhen, NEED_LABEL, SERVICE_LABEL } from "../../state/labels";

const SHOWN = 8;

export function Visits({ encounters, now }: { encounters: EncounterView[]; now: number }) {
  if (!encounters.length) return <p class="muted">Aucun passage enregistré.</p>;
  const shown = encounters.slice(0, SHOWN);
  return (
    <>
      <ul class="visits">
        {shown.map((e) => (
          <li key={e.id} class="visit">
            <p class="visit__when">
              <strong>{formatWhen(e.occurredAt, now)}</strong>
              {e.area && <span class="muted"> · {e.area}</span>}
            </p>
            {e.needs.length > 0 && (
              <p class="visit__line">
                <span class="visit__key">Besoins :</span> {e.needs.map((n) => NEED_LABEL[n]).join(", ")}
              </p>
            )}
            {e.services.length > 0 && (
              <p class="visit__line">
                <span class="visit__key">Services :</span> {e.services.map((s) => SERVICE_LABEL[s]).join(", ")}
              </p>
            )}
            {e.note && <p class="visit__note">{e.note}</p>}
          </li>
        ))}
      </ul>
      {encounters.length > SHOWN && (
        <p class="hint">
          {encounters.length - SHOWN} passage{encounters.length - SHOWN > 1 ? "s" : ""} plus ancien
          {encounters.length - SHOWN > 1 ? "s" : ""} non affiché{encounters.length - SHOWN > 1 ? "s" : ""}.
        </p>
      )}
    </>
  );
}
