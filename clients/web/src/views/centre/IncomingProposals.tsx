/* "Propositions reçues": the SIAO's proposals to this centre awaiting its decision, the one
 * that expires first on top, each with only the request's DECISION fields (household, urgency,
 * reduced mobility, animal, languages, categories: what the rules give a centre before it
 * decides) and the time left on the hold. Two actions: admit (with the stay's duration) or
 * refuse (with a motive). A card stays where it is while its numbers tick. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Desk, ProposalView, RequestView } from "../../state/model";
import { useValue } from "../useValue";
import { CATEGORY_LABEL, formatHousehold, formatRemaining, formatTime, formatWhen, URGENCY_LABEL } from "../../state/labels";
import { StatusMessage } from "../forms/Messages";
import { AdmitForm } from "./AdmitForm";
import { RefuseForm } from "./RefuseForm";
import "./centre.css";

const SOON_MS = 15 * 60_000;

export function IncomingProposals({ desk }: { desk: Desk }) {
  const o = useValue(desk.orientations);
  const [message, setMessage] = useState("");
  const head = useRef<HTMLHeadingElement>(null);
  const refocus = useRef(false);
  /* Proposals that arrive while the page is open are highlighted and announced. */
  const firstSeen = useRef<Map<string, number> | null>(null);
  const [arrivedNote, setArrivedNote] = useState("");
  useEffect(() => {
    if (!o.loaded) return;
    const known = firstSeen.current;
    const next = new Map<string, number>();
    const fresh: string[] = [];
    for (const { proposal } of o.incoming) {
      next.set(proposal.id, known?.get(proposal.id) ?? (known ? Date.now() : 0));
      if (known && !known.has(proposal.id)) fresh.push(CATEGORY_LABEL[proposal.category]);
    }
    firstSeen.current = next;
    if (fresh.length) setArrivedNote(`Nouvelle proposition du SIAO : ${fresh.join(", ")}.`);
  }, [o]);
  const isFresh = (id: string) => {
    const t = firstSeen.current?.get(id);
    return t !== undefined && t > 0 && Date.now() - t < 2000;
  };

  /* A decided card loses its form (and the focus with it): give the focus to the section's
   * heading, just above the message saying what was done, rather than to the page. */
  useEffect(() => {
    if (refocus.current && (!document.activeElement || document.activeElement === document.body)) head.current?.focus();
    refocus.current = false;
  });

  const decided = (m: string) => {
    refocus.current = true;
    setMessage(m);
  };

  const n = o.incoming.length;
  return (
    <section class="centre__panel" aria-labelledby="incoming-title">
      <h2 id="incoming-title" class="centre__title" tabIndex={-1} ref={head}>
        Propositions reçues{o.loaded && n > 0 ? ` (${n})` : ""}
      </h2>
      <StatusMessage message={message} />
      <p class="visually-hidden" aria-live="polite">
        {arrivedNote}
      </p>
      {!o.loaded ? (
        <p class="muted">Chargement des propositions…</p>
      ) : n === 0 ? (
        <div class="empty">
          <p class="empty__title">Aucune proposition en attente</p>
          <p class="hint">Les propositions du SIAO s'affichent ici dès leur envoi, sans recharger la page.</p>
        </div>
      ) : (
        <ul class="proposals">
          {o.incoming.map(({ proposal, request }) => (
            <li key={proposal.id} class={isFresh(proposal.id) ? "arrived" : undefined}>
              <ProposalCard desk={desk} proposal={proposal} request={request} onDecided={decided} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function yesNo(b: boolean): string {
  return b ? "Oui" : "Non";
}

interface CardProps {
  desk: Desk;
  proposal: ProposalView;
  request: RequestView | null;
  onDecided(message: string): void;
}

function ProposalCard({ desk, proposal, request, onDecided }: CardProps) {
  const now = useValue(desk.clock);
  const [mode, setMode] = useState<"admit" | "refuse" | null>(null);
  const [done, setDone] = useState("");
  const admitBtn = useRef<HTMLButtonElement>(null);
  const refuseBtn = useRef<HTMLButtonElement>(null);
  const pid = proposal.id;
  const left = proposal.holdUntil - now;
  const expired = left <= 0;
  const titleId = `proposal-${pid}`;

  const finish = (m: string) => {
    setDone(m);
    setMode(null);
    onDecided(m);
  };
  /* Cancelling closes the form and gives the focus back to the button that opened it. */
  const cancel = () => {
    const btn = mode === "admit" ? admitBtn : refuseBtn;
    setMode(null);
    setTimeout(() => btn.current?.focus(), 0);
  };

  return (
    <article class={`proposal${expired ? " proposal--expired" : ""}`} aria-labelledby={titleId}>
      <div class="proposal__head">
        <h3 id={titleId} class="proposal__title">
          Place proposée : {CATEGORY_LABEL[proposal.category]}
        </h3>
        <p class={`proposal__clock${!expired && left < SOON_MS ? " proposal__clock--soon" : ""}`}>
          {expired ? (
            <>
              <span class="badge warn">Délai dépassé</span> La place n'est plus retenue pour cette demande.
            </>
          ) : (
            <>
              À décider avant <strong>{formatTime(proposal.holdUntil)}</strong>{" "}
              <span class="proposal__left">(encore {formatRemaining(proposal.holdUntil, now)})</span>
            </>
          )}
        </p>
      </div>

      {request ? (
        <dl class="facts">
          <div>
            <dt>Ménage</dt>
            <dd>{formatHousehold(request.household.adults, request.household.children)}</dd>
          </div>
          <div>
            <dt>Urgence</dt>
            <dd>
              <span class={request.urgency === 1 ? "badge danger" : ""}>{URGENCY_LABEL[request.urgency]}</span>
            </dd>
          </div>
          <div>
            <dt>Mobilité réduite</dt>
            <dd>{yesNo(request.household.reducedMobility)}</dd>
          </div>
          <div>
            <dt>Animal</dt>
            <dd>{yesNo(request.household.animal)}</dd>
          </div>
          <div>
            <dt>Langues parlées</dt>
            <dd>{request.household.languages.trim() || <span class="muted">Non précisées</span>}</dd>
          </div>
          <div>
            <dt>Catégories demandées</dt>
            <dd>
              {request.categories.length ? (
                request.categories.map((c) => CATEGORY_LABEL[c]).join(", ")
              ) : (
                <span class="muted">Non précisées</span>
              )}
            </dd>
          </div>
          <div class="facts__wide">
            <dt>Demande</dt>
            <dd>
              faite {formatWhen(request.requestedAt, now)}
              {request.requesterName && request.requesterName !== request.requesterId ? ` par ${request.requesterName}` : ""}
            </dd>
          </div>
        </dl>
      ) : (
        <p class="muted">Les informations de la demande arrivent…</p>
      )}

      {done ? (
        <p class="proposal__done">{done}</p>
      ) : (
        !expired && (
          <>
            <div class="button-group proposal__actions">
              <button
                type="button"
                ref={admitBtn}
                class={mode === "admit" ? "" : "secondary"}
                aria-expanded={mode === "admit"}
                aria-controls={`decide-${pid}`}
                onClick={() => setMode(mode === "admit" ? null : "admit")}
              >
                Admettre
              </button>
              <button
                type="button"
                ref={refuseBtn}
                class={mode === "refuse" ? "" : "secondary"}
                aria-expanded={mode === "refuse"}
                aria-controls={`decide-${pid}`}
                onClick={() => setMode(mode === "refuse" ? null : "refuse")}
              >
                Refuser
              </button>
            </div>
            <div id={`decide-${pid}`}>
              {mode === "admit" && (
                <AdmitForm desk={desk} proposal={proposal} onDone={finish} onCancel={cancel} />
              )}
              {mode === "refuse" && (
                <RefuseForm desk={desk} proposal={proposal} onDone={finish} onCancel={cancel} />
              )}
            </div>
          </>
        )
      )}
    </article>
  );
}
