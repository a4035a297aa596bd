/* The SIAO desk, for the coordinateur SIAO (role 4) and the écoutant 115 (role 3): the day's
 * indicators on top; on the left the queue of open requests, most urgent then oldest first
 * (the state layer's order), so that the request to handle first is the first card; on the
 * right the places, map and table. A coordinator opens a request to propose a free place of
 * its categories; an écoutant sees the same list read-only. What happens live (a refusal, an
 * expired hold, a proposal made) is highlighted where it happens and said in one status line. */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ROLE, type Category, type Desk, type Orientations, type Refusal, type RequestView } from "../../state/model";
import { useValue } from "../useValue";
import { formatHousehold, formatTime, MOTIVE_LABEL, URGENCY_LABEL } from "../../state/labels";
import { Indicators } from "../indicators/Indicators";
import { PlacesPanel } from "../map/PlacesPanel";
import { useArrivals, useMinute } from "../places/live";
import { ProposePanel } from "./ProposePanel";
import { RequestCard } from "./RequestCard";
import { useFillHeight } from "./layout";
import "./siao.css";


export interface SiaoViewProps {
  desk: Desk;
}

export function SiaoView({ desk }: SiaoViewProps) {
  const [categories, setCategories] = useState<Category[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useFillHeight(box);
  return (
    <div class="desk-view siao-view" ref={box}>
      <Indicators indicators={desk.indicators} />
      <div class="siao-view__main">
        <RequestQueue desk={desk} onSelectCentre={setSelectedId} />
        <PlacesPanel
          desk={desk}
          categories={categories}
          onCategories={setCategories}
          selectedId={selectedId}
          onSelect={setSelectedId}
        />
      </div>
    </div>
  );
}

/** Open requests: waiting for a proposal, or with one awaiting the centre's decision. */
function openOnes(o: Orientations): { waiting: RequestView[]; proposed: RequestView[] } {
  const waiting: RequestView[] = [];
  const proposed: RequestView[] = [];
  for (const r of o.requests) {
    if (r.status === "waiting") waiting.push(r);
    else if (r.status === "proposed") proposed.push(r);
  }
  return { waiting, proposed };
}

function arrivalNews(fresh: RequestView[]): string {
  if (fresh.length > 1) return `${fresh.length} nouvelles demandes reçues.`;
  const r = fresh[0]!;
  const h = r.household;
  return `Nouvelle demande reçue : ${URGENCY_LABEL[r.urgency] ?? "urgence non précisée"}, ${formatHousehold(h.adults, h.children)}.`;
}

function refusalNews(f: Refusal): string {
  return `Refus motivé reçu de ${f.centreName} à ${formatTime(f.decidedAt)} : ${MOTIVE_LABEL[f.motive]}. La demande revient dans la file « À orienter ».`;
}

export interface RequestQueueProps {
  desk: Pick<Desk, "orientations" | "places" | "clock" | "principal" | "actions">;
  /** a centre chosen in a proposal panel, shown on the map and in the table */
  onSelectCentre(id: string | null): void;
}

export function RequestQueue({ desk, onSelectCentre }: RequestQueueProps) {
  const o = useValue(desk.orientations);
  const now = useMinute(desk.clock);
  const role = desk.principal.role;
  const canPropose = role === ROLE.COORDINATEUR_SIAO;
  const [open, setOpen] = useState<string | null>(null);
  const [news, setNews] = useState<{ text: string; tone: "ok" | "warn" | "info" } | null>(null);
  const arrival = useArrivals();
  const newsRef = useRef<HTMLParagraphElement>(null);
  const { waiting, proposed } = useMemo(() => openOnes(o), [o]);
  const tonight = waiting.filter((r) => r.urgency === 1).length;

  /* Requests and refusals that arrive live (not those already there when the queue was first
   * shown): highlighted where they appear and said in the status line. */
  const known = useRef<{ requests: Set<string>; refusals: Set<string> } | null>(null);
  const fresh = useMemo(() => {
    const k = known.current;
    return k && o.loaded ? [...waiting, ...proposed].filter((r) => !k.requests.has(r.id)) : [];
  }, [o]);
  useEffect(() => {
    if (!o.loaded) return;
    const k = known.current;
    if (k) {
      const refusal = o.refusals.find((f) => !k.refusals.has(f.decisionId));
      if (refusal) setNews({ text: refusalNews(refusal), tone: "warn" });
      else if (fresh.length) setNews({ text: arrivalNews(fresh), tone: "info" });
    }
    known.current = {
      requests: new Set(o.requests.map((r) => r.id)),
      refusals: new Set(o.refusals.map((f) => f.decisionId)),
    };
  }, [o]);

  /* A request that left the queue (admitted, withdrawn) closes its panel. */
  useEffect(() => {
    if (open && !waiting.some((r) => r.id === open)) setOpen(null);
  }, [waiting, open]);

  const card = (r: RequestView) => {
    const expanded = open === r.id;
    const action =
      r.status === "waiting"
        ? {
            label: canPropose ? "Proposer une place" : "Voir les places libres",
            primary: canPropose,
            onToggle: () => {
              setOpen(expanded ? null : r.id);
              if (expanded) onSelectCentre(null);
            },
          }
        : undefined;
    return (
      <RequestCard
        key={r.id}
        request={r}
        clock={desk.clock}
        now={now}
        flash={arrival(r.id, `${r.status}:${r.history.length}`, fresh.includes(r))}
        expanded={expanded}
        action={action}
      >
        <ProposePanel
          request={r}
          places={desk.places}
          clock={desk.clock}
          propose={canPropose ? desk.actions.propose : undefined}
          onSelectCentre={onSelectCentre}
          onProposed={(msg) => {
            setOpen(null);
            setNews({ text: msg, tone: "ok" });
            /* the panel and its button are gone (the request moved): focus goes to the message */
            requestAnimationFrame(() => newsRef.current?.focus());
          }}
        />
      </RequestCard>
    );
  };

  return (
    <section class="queue" aria-labelledby="queue-title">
      <div class="queue__head">
        <h2 id="queue-title">File des demandes</h2>
        {o.loaded && (
          <p class="queue__summary">
            <strong>{waiting.length}</strong> à orienter
            {tonight > 0 && (
              <>
                , dont <strong class="queue__tonight">{tonight} ce soir</strong>
              </>
            )}{" "}
            · <strong>{proposed.length}</strong> proposition{proposed.length > 1 ? "s" : ""} en cours
          </p>
        )}
        {role === ROLE.ECOUTANT_115 && (
          <p class="queue__note">Les propositions de place sont faites par la coordination du SIAO.</p>
        )}
        <p class={`queue__news${news ? ` queue__news--${news.tone}` : ""}`} role="status" tabIndex={-1} ref={newsRef}>
          {news?.text}
        </p>
      </div>
      <div class="queue__body">
        {!o.loaded ? (
          <p class="queue__state" role="status">
            Chargement de la file des demandes…
          </p>
        ) : waiting.length + proposed.length === 0 ? (
          <div class="queue__empty">
            <p class="queue__empty-title">Aucune demande en attente</p>
            <p>Les nouvelles demandes apparaissent ici en direct.</p>
          </div>
        ) : (
          <>
            <h3 class="queue__group">
              À orienter <span class="queue__count">({waiting.length})</span>
            </h3>
            {waiting.length ? (
              <ol class="queue__list">{waiting.map(card)}</ol>
            ) : (
              <p class="queue__none">Toutes les demandes ont une proposition en cours.</p>
            )}
            {proposed.length > 0 && (
              <>
                <h3 class="queue__group">
                  Proposition en cours <span class="queue__count">({proposed.length})</span>
                </h3>
                <ol class="queue__list">{proposed.map(card)}</ol>
              </>
            )}
          </>
        )}
      </div>
    </section>
  );
}
