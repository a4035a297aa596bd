/* The person's shelter requests and where each stands: waiting for the SIAO, proposed to a
 * centre (with the time the centre has to answer), admitted, or withdrawn; and what happened
 * to earlier proposals (a refusal with its motive, as R345-4 has it notified to the requester). */
import type { ProposalView, RequestView } from "../../state/model";
import { CATEGORY_LABEL, formatDate, formatHousehold, formatTime, formatWhen, MOTIVE_LABEL, URGENCY_LABEL } from "../../state/labels";

const RECENT_MS = 30 * 86_400_000;

/** Open requests, and those of the last 30 days, shown; older ones folded away. */
export function PersonRequests({ requests, now }: { requests: RequestView[]; now: number }) {
  if (!requests.length) return <p class="muted">Aucune demande d'hébergement pour cette personne.</p>;
  const sorted = [...requests].sort((a, b) => b.requestedAt - a.requestedAt);
  const recent = (r: RequestView) => r.status === "waiting" || r.status === "proposed" || now - r.requestedAt < RECENT_MS;
  const shown = sorted.filter(recent);
  const older = sorted.filter((r) => !recent(r));
  return (
    <>
      {shown.length > 0 ? <RequestList list={shown} now={now} /> : <p class="muted">Aucune demande en cours.</p>}
      {older.length > 0 && (
        <details class="requests__older">
          <summary>
            Demandes plus anciennes ({older.length})
          </summary>
          <RequestList list={older} now={now} />
        </details>
      )}
    </>
  );
}

function RequestList({ list, now }: { list: RequestView[]; now: number }) {
  return (
    <ul class="requests">
      {list.map((r) => (
        <li key={r.id} class="request">
          <p class="request__status">
            <Status r={r} />
          </p>
          <p class="request__meta">
            Demande faite {formatWhen(r.requestedAt, now)} · {URGENCY_LABEL[r.urgency]} ·{" "}
            {formatHousehold(r.household.adults, r.household.children)}
            {r.categories.length > 0 && <> · {r.categories.map((c) => CATEGORY_LABEL[c]).join(", ")}</>}
          </p>
          <History list={r.history.filter((p) => p.status === "refused" || p.status === "expired")} now={now} />
        </li>
      ))}
    </ul>
  );
}

function Status({ r }: { r: RequestView }) {
  switch (r.status) {
    case "waiting":
      return (
        <>
          <span class="badge warn">En attente</span> Le SIAO n'a pas encore proposé de place.
        </>
      );
    case "proposed": {
      const p = r.pending;
      return (
        <>
          <span class="badge info">Proposée</span>{" "}
          {p ? (
            <>
              Place « {CATEGORY_LABEL[p.category]} » proposée à <strong>{p.centreName}</strong> ; le centre répond avant{" "}
              {formatTime(p.holdUntil)}.
            </>
          ) : (
            "Une place est proposée ; le centre va répondre."
          )}
        </>
      );
    }
    case "admitted": {
      const p = r.history.find((x) => x.status === "admitted") ?? (r.pending?.status === "admitted" ? r.pending : null);
      return (
        <>
          <span class="badge ok">Admise</span>{" "}
          {p ? (
            <>
              à <strong>{p.centreName}</strong> ({CATEGORY_LABEL[p.category]})
              {p.admission && (
                <>
                  , du {formatDate(p.admission.startAt)} au {formatDate(p.admission.endAt)}
                </>
              )}
              .
            </>
          ) : (
            "La personne a été admise dans un centre."
          )}
        </>
      );
    }
    case "withdrawn":
      return (
        <>
          <span class="badge">Retirée</span> La demande a été retirée.
        </>
      );
  }
}

function History({ list, now }: { list: ProposalView[]; now: number }) {
  if (!list.length) return null;
  return (
    <ul class="request__history">
      {list.map((p) =>
        p.status === "refused" && p.refusal ? (
          <li key={p.id}>
            <span class="badge danger">Refusée</span> par <strong>{p.refusal.centreName}</strong>{" "}
            {formatWhen(p.refusal.decidedAt, now)} ({CATEGORY_LABEL[p.category]}). Motif : {MOTIVE_LABEL[p.refusal.motive]}
            {p.refusal.motiveText && <q class="request__motive">{p.refusal.motiveText}</q>}
          </li>
        ) : (
          <li key={p.id}>
            <span class="badge">Expirée</span> La proposition de <strong>{p.centreName}</strong> ({CATEGORY_LABEL[p.category]}) a
            expiré sans réponse {formatWhen(p.holdUntil, now)}.
          </li>
        ),
      )}
    </ul>
  );
}
