/* One open request in the SIAO's queue: only the DECISION fields the rules give the SIAO
 * (household, urgency, categories, languages, reduced mobility, animal), when and by which
 * structure it was made, and where its orientation stands (the place held and for how long,
 * the last refusal and its motive). No person id, no name, no note: not even in an attribute. */
import type { ComponentChildren } from "preact";
import type { Observable } from "../../state/observable";
import type { ProposalView, RequestView } from "../../state/model";
import { CATEGORY_LABEL, formatAge, formatHousehold, formatRemaining, formatWhen, MOTIVE_LABEL, URGENCY_LABEL } from "../../state/labels";
import { useSelect } from "../places/live";

const URGENCY_CLASS: Record<number, string> = { 0: "urg-none", 1: "urg-tonight", 2: "urg-soon", 3: "urg-planned" };

/** "place retenue encore 1 h 42 min": calm (no live region: it would speak every second). */
export function HoldCountdown({ clock, until }: { clock: Observable<number>; until: number }) {
  /* Re-render once a second under an hour, once a minute above (minutes are all it shows). */
  const now = useSelect(clock, (t) => (until - t > 3_600_000 ? Math.floor(t / 60_000) * 60_000 : t));
  const left = formatRemaining(until, now);
  if (left === "expiré") return <span class="hold hold--over">délai écoulé : la place va être libérée</span>;
  return (
    <span class="hold">
      place retenue encore <strong class="hold__left">{left}</strong>
    </span>
  );
}

function Ended({ p, now }: { p: ProposalView; now: number }) {
  const where = `${p.centreName} (${CATEGORY_LABEL[p.category]})`;
  if (p.status === "refused" && p.refusal)
    return (
      <p class="ended ended--refused">
        <strong>Refus motivé</strong> de {where}, {formatAge(p.refusal.decidedAt, now)} : {MOTIVE_LABEL[p.refusal.motive]}
        {p.refusal.motiveText && <q class="ended__text">{p.refusal.motiveText}</q>}
      </p>
    );
  if (p.status === "expired")
    return (
      <p class="ended ended--expired">
        <strong>Proposition expirée</strong> sans réponse de {where} : la place a été libérée.
      </p>
    );
  return null;
}

export interface RequestCardProps {
  request: RequestView;
  clock: Observable<number>;
  /** the minute clock for ages (the queue re-renders once a minute) */
  now: number;
  /** class for a change just arrived ("arrived-a"/"arrived-b"), or "" */
  flash: string;
  expanded: boolean;
  /** the button that opens the proposal panel; absent: nothing to open */
  action?: { label: string; primary: boolean; onToggle(): void };
  children?: ComponentChildren;
}

export function RequestCard({ request: r, clock, now, flash, expanded, action, children }: RequestCardProps) {
  const h = r.household;
  const headId = `req-${r.id}-title`;
  const panelId = `req-${r.id}-panel`;
  const traits: string[] = [];
  if (h.languages.trim()) traits.push(`Langues : ${h.languages.trim()}`);
  if (h.reducedMobility) traits.push("Mobilité réduite");
  if (h.animal) traits.push("Avec animal");
  const last = r.history[0];
  const cls = ["req", URGENCY_CLASS[r.urgency] ?? "urg-none", expanded ? "req--open" : "", flash].filter(Boolean).join(" ");
  return (
    <li class={cls}>
      <article aria-labelledby={headId}>
        <div class="req__top">
          <span class={`urg-badge ${URGENCY_CLASS[r.urgency] ?? "urg-none"}`}>{URGENCY_LABEL[r.urgency] ?? "Non précisée"}</span>
          <time class="req__age" dateTime={new Date(r.requestedAt).toISOString()} title={`Demande reçue ${formatWhen(r.requestedAt, now)}`}>
            {formatAge(r.requestedAt, now)}
          </time>
        </div>
        <h4 class="req__household" id={headId}>
          {formatHousehold(h.adults, h.children)}
          <span class="visually-hidden">, {URGENCY_LABEL[r.urgency] ?? "urgence non précisée"}</span>
        </h4>
        <p class="req__cats">
          {r.categories.length ? r.categories.map((c) => CATEGORY_LABEL[c]).join(" · ") : "Toute catégorie"}
        </p>
        {traits.length > 0 && (
          <ul class="req__traits">
            {traits.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
        )}
        <p class="req__from">
          Demande de {r.requesterName}, {formatWhen(r.requestedAt, now)}
        </p>
        {r.pending && (
          <p class="req__pending">
            <span>
              Proposée à <strong>{r.pending.centreName}</strong> ({CATEGORY_LABEL[r.pending.category]}) :
            </span>{" "}
            <HoldCountdown clock={clock} until={r.pending.holdUntil} />
            <span class="req__await">En attente de la décision du centre.</span>
          </p>
        )}
        {last && <Ended p={last} now={now} />}
        {r.history.length > 1 && (
          <details class="req__history">
            <summary>{r.history.length - 1} proposition{r.history.length > 2 ? "s" : ""} antérieure{r.history.length > 2 ? "s" : ""}</summary>
            {r.history.slice(1).map((p) => (
              <Ended key={p.id} p={p} now={now} />
            ))}
          </details>
        )}
        {action && (
          <button
            type="button"
            class={action.primary && !expanded ? "req__action" : "req__action secondary"}
            aria-expanded={expanded}
            aria-controls={panelId}
            onClick={action.onToggle}
          >
            {expanded ? "Fermer" : action.label}
            <span class="visually-hidden"> pour la demande : {formatHousehold(h.adults, h.children)}</span>
          </button>
        )}
        <div id={panelId} hidden={!expanded}>
          {expanded && children}
        </div>
      </article>
    </li>
  );
}
