/* "Proposer une place": the centres with a free place in one of the request's categories
 * (free = vacancies − held: what may be proposed now), live; the coordinator chooses a centre
 * and a category and proposes. The server has the last word (two coordinators, one last
 * place: one gets NO_PLACE), and its answer is shown as it says it. An écoutant 115 sees the
 * same list read-only: proposals are made by the coordination. */
import { Component } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { CATEGORIES, type Actions, type Category, type Centre, type Places, type RequestView } from "../../state/model";
import type { Observable } from "../../state/observable";
import { useValue } from "../useValue";
import { CATEGORY_LABEL, kindLabel } from "../../state/labels";
import { count, freeText, useMinute } from "../places/live";
import { DeclarationAge } from "../places/StaleFlag";

export interface Candidate {
  centre: Centre;
  category: Category;
  free: number;
}

/** Free places for the request: fresh declarations first, then by name (a row does not move
 * when its count changes; it leaves when its last place is taken). */
export function candidatesFor(centres: readonly Centre[], r: RequestView): Candidate[] {
  const cats = r.categories.length ? CATEGORIES.filter((k) => r.categories.includes(k)) : CATEGORIES;
  const out: Candidate[] = [];
  for (const c of centres)
    for (const k of cats) {
      const free = count(c.free, k);
      if (free > 0) out.push({ centre: c, category: k, free });
    }
  return out.sort((a, b) => Number(a.centre.stale) - Number(b.centre.stale));
}

const keyOf = (centreId: string, k: Category) => `${centreId}|${k}`;

export interface ProposePanelProps {
  request: RequestView;
  places: Observable<Places>;
  clock: Observable<number>;
  /** the coordinator's action; absent: read-only (écoutant 115) */
  propose?: Actions["propose"];
  /** a centre chosen here is shown on the map */
  onSelectCentre(id: string | null): void;
  /** the proposal was applied: the message to announce */
  onProposed(message: string): void;
}

export function ProposePanel({ request, places, clock, propose, onSelectCentre, onProposed }: ProposePanelProps) {
  const pl = useValue(places);
  const now = useMinute(clock);
  const list = useMemo(() => candidatesFor(pl.centres, request), [pl.centres, request]);
  const [choice, setChoice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const name = `propose-${request.id}`;
  const box = useRef<HTMLFieldSetElement>(null);
  /* one function for every item, so that an item redraws only when its own values change */
  const onSelect = useRef(onSelectCentre);
  onSelect.current = onSelectCentre;
  const choose = useMemo(
    () => (key: string, centreId: string) => {
      setChoice(key);
      setNotice("");
      setError("");
      onSelect.current(centreId);
    },
    [],
  );

  /* A place chosen, then taken by someone else (live): say so, choose again. */
  useEffect(() => {
    if (choice && !list.some((c) => keyOf(c.centre.id, c.category) === choice)) {
      setChoice(null);
      setNotice("La place choisie n'est plus libre : choisissez-en une autre.");
    }
  }, [list, choice]);

  /* opened from its button: the keyboard goes on to the first choice */
  useEffect(() => box.current?.querySelector<HTMLInputElement>("input[type=radio]")?.focus(), [pl.loaded]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!propose || busy) return;
    const cand = list.find((c) => keyOf(c.centre.id, c.category) === choice);
    if (!cand) {
      setError("Choisissez d'abord un centre et une catégorie dans la liste.");
      return;
    }
    setBusy(true);
    setError("");
    setNotice("");
    const r = await propose(request.id, cand.centre.id, cand.category);
    setBusy(false);
    if (r.ok) onProposed(`Place proposée à ${cand.centre.name} (${CATEGORY_LABEL[cand.category]}) : elle est retenue pendant que le centre décide.`);
    else setError(r.message);
  };

  const wanted = request.categories.length ? request.categories.map((k) => CATEGORY_LABEL[k]).join(", ") : "toutes";
  const legend = propose ? "Choisir une place libre" : "Places libres pour cette demande";

  if (!pl.loaded) return <p class="propose__state">Chargement des places…</p>;

  const options = (
    <fieldset class="propose__set" ref={box}>
      <legend class="propose__legend">{legend}</legend>
      <p class="propose__hint" id={`${name}-hint`}>
        Catégories demandées : {wanted}. Les places déjà retenues par une autre proposition ne sont pas comptées ; la liste se met à
        jour en direct.
      </p>
      {list.length === 0 ? (
        <p class="propose__empty">Aucune place libre en ce moment dans ces catégories.</p>
      ) : (
        <ul class="propose__list">
          {list.map((c) => {
            const key = keyOf(c.centre.id, c.category);
            return (
              <CandidateItem
                key={key}
                cand={c}
                name={name}
                chosen={choice === key}
                now={now}
                onChoose={propose ? choose : undefined}
              />
            );
          })}
        </ul>
      )}
    </fieldset>
  );

  if (!propose)
    return (
      <div class="propose propose--readonly">
        {options}
        <p class="propose__note">Les propositions sont faites par la coordination du SIAO.</p>
      </div>
    );

  return (
    <form class="propose" onSubmit={submit} noValidate>
      {options}
      <p class="propose__notice" role="status">
        {notice}
      </p>
      <div class="propose__error" role="alert">
        {error}
      </div>
      <button type="submit" class="propose__submit" disabled={busy || list.length === 0}>
        {busy ? "Envoi de la proposition…" : "Proposer cette place"}
      </button>
    </form>
  );
}

interface CandidateItemProps {
  cand: Candidate;
  name: string;
  chosen: boolean;
  now: number;
  /** absent: read-only (no radio) */
  onChoose?(key: string, centreId: string): void;
}

/** One free place of the list; redrawn only when its own values change (500 centres, a
 * declaration every 100 ms: the open panel must not redraw them all). */
class CandidateItem extends Component<CandidateItemProps> {
  override shouldComponentUpdate(n: CandidateItemProps): boolean {
    const p = this.props;
    return (
      n.cand.centre !== p.cand.centre ||
      n.cand.category !== p.cand.category ||
      n.cand.free !== p.cand.free ||
      n.chosen !== p.chosen ||
      n.now !== p.now ||
      n.onChoose !== p.onChoose
    );
  }

  override render({ cand: c, name, chosen, now, onChoose }: CandidateItemProps) {
    const key = keyOf(c.centre.id, c.category);
    const id = `${name}-${c.centre.id}-${c.category}`;
    const body = (
      <>
        <span class="cand__name">{c.centre.name}</span>
        <span class="cand__meta">
          {kindLabel(c.centre.kind)} · {CATEGORY_LABEL[c.category]} : <strong class="cand__free">{freeText(c.free)}</strong>
        </span>
        <span class="cand__decl">
          Déclaré <DeclarationAge centre={c.centre} now={now} compact />
        </span>
      </>
    );
    return (
      <li class={`cand${chosen ? " cand--chosen" : ""}${c.centre.stale ? " cand--stale" : ""}`}>
        {onChoose ? (
          <>
            <input
              type="radio"
              id={id}
              name={name}
              value={key}
              checked={chosen}
              aria-describedby={`${name}-hint`}
              onChange={() => onChoose(key, c.centre.id)}
            />
            <label for={id} class="cand__label">
              {body}
            </label>
          </>
        ) : (
          <div class="cand__label">{body}</div>
        )}
      </li>
    );
  }
}
