/* "Séjours en cours et échéances": the dates R345-4 sets for every stay of this centre (a bilan
 * at least every six months, the last day to ask for an extension, one month before the end,
 * the end itself, and when an extension was asked the day it is deemed accepted), in date
 * order. The next 60 days come first and stand out; later ones are folded away. */
import type { AdmissionView, Desk, Reminder } from "../../state/model";
import { useValue } from "../useValue";
import { CATEGORY_LABEL, formatDate } from "../../state/labels";
import { dayKey, daysFrom, formatDaysFrom } from "../forms/dates";
import "./centre.css";

const HORIZON_DAYS = 60;
const WEEK_DAYS = 7;

const REMINDER_LABEL: Record<Reminder["kind"], string> = {
  1: "Bilan de la situation",
  2: "Dernier jour pour demander une prolongation",
  3: "Prolongation réputée acceptée",
  4: "Fin du séjour",
};

const REMINDER_HINT: Partial<Record<Reminder["kind"], string>> = {
  1: "au moins tous les 6 mois",
  2: "un mois avant la fin, demande motivée",
  3: "sans réponse du préfet dans le mois",
};

interface Row {
  key: string;
  reminder: Reminder;
  stay: AdmissionView;
}

export function Stays({ desk }: { desk: Desk }) {
  const o = useValue(desk.orientations);
  const now = useValue(desk.clock);
  const today = dayKey(now);

  const current = o.admissions.filter((a) => dayKey(a.endAt) >= today);
  const rows: Row[] = current
    .flatMap((stay) =>
      stay.reminders.map((reminder, i) => ({ key: `${stay.decisionId}-${i}`, reminder, stay })),
    )
    .filter((r) => dayKey(r.reminder.dueAt) >= today)
    .sort((a, b) => a.reminder.dueAt - b.reminder.dueAt || a.key.localeCompare(b.key));
  const soon = rows.filter((r) => daysFrom(now, r.reminder.dueAt) <= HORIZON_DAYS);
  const later = rows.filter((r) => daysFrom(now, r.reminder.dueAt) > HORIZON_DAYS);

  return (
    <section class="centre__panel centre__stays" aria-labelledby="stays-title">
      <h2 id="stays-title" class="centre__title">
        Séjours en cours et échéances
      </h2>
      {!o.loaded ? (
        <p class="muted">Chargement des séjours…</p>
      ) : current.length === 0 ? (
        <div class="empty">
          <p class="empty__title">Aucun séjour en cours</p>
          <p class="hint">Les séjours s'affichent ici dès l'admission, avec leurs bilans et la date de fin.</p>
        </div>
      ) : (
        <>
          <p class="stays__summary">
            <strong>
              {current.length} séjour{current.length > 1 ? "s" : ""} en cours
            </strong>{" "}
            ·{" "}
            {soon.length === 0
              ? `aucune échéance dans les ${HORIZON_DAYS} prochains jours`
              : `${soon.length} échéance${soon.length > 1 ? "s" : ""} dans les ${HORIZON_DAYS} prochains jours`}
          </p>
          {soon.length > 0 && (
            <ReminderTable rows={soon} now={now} caption={`Dans les ${HORIZON_DAYS} prochains jours`} highlight />
          )}
          {later.length > 0 && (
            <details class="stays__later">
              <summary>
                Échéances plus lointaines ({later.length})
              </summary>
              <ReminderTable rows={later} now={now} caption="Échéances plus lointaines" />
            </details>
          )}
        </>
      )}
    </section>
  );
}

function ReminderTable({ rows, now, caption, highlight }: { rows: Row[]; now: number; caption: string; highlight?: boolean }) {
  return (
    <table class={`stays${highlight ? " stays--soon" : ""}`}>
      <caption class={highlight ? "" : "visually-hidden"}>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Échéance</th>
          <th scope="col">Séjour</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ key, reminder, stay }) => {
          const days = daysFrom(now, reminder.dueAt);
          const urgent = highlight && days <= WEEK_DAYS;
          return (
            <tr key={key} class={urgent ? "stays__row--week" : undefined}>
              <td class="stays__date">
                <strong>{formatDate(reminder.dueAt)}</strong>
                <span class={urgent ? "badge warn" : "muted"}>{formatDaysFrom(now, reminder.dueAt)}</span>
              </td>
              <td>
                {REMINDER_LABEL[reminder.kind] ?? "Échéance"}
                {REMINDER_HINT[reminder.kind] && <span class="muted"> ({REMINDER_HINT[reminder.kind]})</span>}
              </td>
              <td>
                {CATEGORY_LABEL[stay.category]} · du {formatDate(stay.startAt)} au {formatDate(stay.endAt)}
                {stay.emergency && <span class="badge warn stays__tag">Admission en urgence</span>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
