/* The territory's centres as a sortable table: the accessible equivalent of the map, and the
 * place where a coordinator compares counts. Live but calm:
 * - rows are in name order (the state layer's) and never move when a count changes;
 * - sorting by a count or an age takes a snapshot of the order when the header is clicked,
 *   and keeps it while counts change; a button offers to sort again when the snapshot is out
 *   of date (a row never moves under the pointer by itself);
 * - a row whose centre just changed is highlighted for two seconds;
 * - selecting a centre (its name) selects it on the map too, and the reverse.
 * Rows are components that redraw only when their centre, the columns, the selection or the
 * minute change: a delta redraws one row, not 500. */
import { Component, type ComponentChildren } from "preact";
import { useEffect, useId, useMemo, useRef, useState } from "preact/hooks";
import type { Category, Centre, Desk } from "../../state/model";
import { useValue } from "../useValue";
import { CATEGORY_LABEL, CATEGORY_SHORT, kindLabel } from "../../state/labels";
import { count, freeIn, receives, shown, useArrivals, useMinute } from "./live";
import { DeclarationAge } from "./StaleFlag";
import { useRowWindow } from "./rowWindow";
import "./places.css";

export interface PlacesTableProps {
  desk: Pick<Desk, "places" | "clock">;
  /** the category filter (empty or absent: all), shared with the map */
  categories?: readonly Category[];
  /** the centre selected here or on the map */
  selectedId?: string | null;
  /** choosing a centre's name selects it (absent: names are plain text, no map to show them on) */
  onSelect?(id: string | null): void;
}

const ALL: readonly Category[] = [];

type SortKey = "name" | "total" | "declared" | Category;
type Dir = "ascending" | "descending";
interface SortState {
  key: SortKey;
  dir: Dir;
  /** the order when the header was clicked (null: live name order) */
  order: string[] | null;
}

const NAME_SORT: SortState = { key: "name", dir: "ascending", order: null };

/** Counts sort most first, ages oldest first, words A to Z: what one looks for first. */
function firstDir(key: SortKey): Dir {
  return key === "total" || typeof key === "number" ? "descending" : "ascending";
}

function sortIds(centres: readonly Centre[], key: SortKey, dir: Dir, cats: readonly Category[]): string[] {
  const value = (c: Centre): number | string => {
    if (key === "name") return 0; /* centres come in name order */
    if (key === "total") return freeIn(c, cats);
    if (key === "declared") return c.declaredAt; /* 0, never declared, is the oldest */
    return (c.capacity[key] ?? 0) > 0 ? count(c.free, key) : -1;
  };
  const sign = dir === "ascending" ? 1 : -1;
  const idx = new Map(centres.map((c, i) => [c.id, i]));
  return [...centres]
    .sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      const d = typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb), "fr");
      return sign * d || (key === "name" ? sign : 1) * (idx.get(a.id)! - idx.get(b.id)!);
    })
    .map((c) => c.id);
}

/** The rows in the order shown: the snapshot, then centres that appeared since, by name. */
function ordered(centres: readonly Centre[], sort: SortState): Centre[] {
  if (!sort.order) return sort.dir === "ascending" ? [...centres] : [...centres].reverse();
  const byId = new Map(centres.map((c) => [c.id, c]));
  const out: Centre[] = [];
  for (const id of sort.order) {
    const c = byId.get(id);
    if (c) {
      out.push(c);
      byId.delete(id);
    }
  }
  for (const c of centres) if (byId.has(c.id)) out.push(c);
  return out;
}

function sameOrder(a: readonly Centre[], ids: readonly string[]): boolean {
  if (a.length !== ids.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.id !== ids[i]) return false;
  return true;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n > 1 ? many : one}`;
}

export function PlacesTable({ desk, categories = ALL, selectedId = null, onSelect }: PlacesTableProps) {
  const pl = useValue(desk.places);
  const now = useMinute(desk.clock);
  const [sort, setSort] = useState<SortState>(NAME_SORT);
  const arrival = useArrivals();
  const box = useRef<HTMLDivElement>(null);
  const body = useRef<HTMLTableSectionElement>(null);
  const captionId = useId();

  /* Columns: the selected categories, or every category some centre has capacity for. */
  const cols = useMemo(() => {
    const want = shown(categories);
    if (categories.length) return want;
    return want.filter((k) => pl.centres.some((c) => (c.capacity[k] ?? 0) > 0));
  }, [categories, pl.centres]);
  const colsKey = cols.join(",");

  const visible = useMemo(() => pl.centres.filter((c) => receives(c, cols)), [pl.centres, colsKey]);
  const rows = ordered(visible, sort);
  const outOfDate = sort.order !== null && !sameOrder(rows, sortIds(visible, sort.key, sort.dir, cols));

  /* the table (and its scroll box) is drawn once places are loaded and there are some */
  const win = useRowWindow(box, body, rows.length, pl.loaded && pl.centres.length > 0);

  /* A centre selected on the map: bring its row into view, without moving the others. */
  useEffect(() => {
    if (!selectedId || !box.current) return;
    const row = box.current.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(selectedId)}"]`);
    if (row && !win.windowed) row.scrollIntoView({ block: "nearest" });
    else {
      const i = rows.findIndex((c) => c.id === selectedId);
      if (i >= 0) win.reveal(i);
    }
  }, [selectedId]);

  const clickSort = (key: SortKey) => {
    const dir: Dir = sort.key === key ? (sort.dir === "ascending" ? "descending" : "ascending") : firstDir(key);
    setSort(key === "name" ? { key, dir, order: null } : { key, dir, order: sortIds(visible, key, dir, cols) });
  };
  const resort = () => setSort({ ...sort, order: sortIds(visible, sort.key, sort.dir, cols) });

  if (!pl.loaded)
    return (
      <p class="places-state" role="status">
        Chargement des places…
      </p>
    );
  if (!pl.centres.length)
    return <p class="places-state">Aucun centre d'hébergement n'est enregistré dans ce territoire.</p>;

  const header = (key: SortKey, label: ComponentChildren, cls = "") => {
    const active = sort.key === key;
    return (
      <th scope="col" class={cls} aria-sort={active ? sort.dir : undefined}>
        <button type="button" class="sort-button" onClick={() => clickSort(key)}>
          <span class="sort-label">{label}</span>
          <span class={`sort-mark${active ? " sort-mark--on" : ""}`} aria-hidden="true">
            {active ? (sort.dir === "ascending" ? "▲" : "▼") : "↕"}
          </span>
        </button>
      </th>
    );
  };
  const sortName =
    sort.key === "name" ? "nom" : sort.key === "total" ? "total des places libres" : sort.key === "declared" ? "date de déclaration" : CATEGORY_LABEL[sort.key];

  return (
    <div class="places-table">
      {sort.order && (
        <p class="sort-note">
          <span>Trié par {sortName} ; l'ordre ne bouge plus quand les nombres changent.</span>
          {outOfDate && (
            <button type="button" class="link-button" onClick={resort}>
              Trier à nouveau
            </button>
          )}
          <button type="button" class="link-button" onClick={() => setSort(NAME_SORT)}>
            Ordre alphabétique
          </button>
        </p>
      )}
      {/* a scroll box the keyboard can scroll too (WCAG 2.1.1), named by the caption */}
      <div class="table-scroll" ref={box} tabIndex={0} role="region" aria-labelledby={captionId}>
        <table class="centres" aria-rowcount={win.windowed ? rows.length + 1 : undefined}>
          <caption id={captionId}>
            Places des centres : {plural(rows.length, "centre", "centres")}
            <span class="caption-hint"> — libres / vacantes ; « ret. » : retenues par une proposition en attente</span>
          </caption>
          <colgroup>
            <col class="col-name" />
            {cols.map((k) => (
              <col key={k} class="col-cat" />
            ))}
            <col class="col-total" />
            <col class="col-decl" />
          </colgroup>
          <thead>
            <tr aria-rowindex={win.windowed ? 1 : undefined}>
              {header("name", "Centre", "col-name")}
              {cols.map((k) =>
                header(
                  k,
                  <>
                    <span aria-hidden="true">{CATEGORY_SHORT[k]}</span>
                    <span class="visually-hidden">{CATEGORY_LABEL[k]}</span>
                  </>,
                  "num col-cat",
                ),
              )}
              {header(
                "total",
                <>
                  Total<span class="visually-hidden"> des places libres</span>
                </>,
                "num col-total",
              )}
              {header("declared", "Déclaration", "col-decl")}
            </tr>
          </thead>
          <tbody ref={body}>
            {rows.length === 0 && (
              <tr>
                <td colSpan={cols.length + 3} class="empty-row">
                  Aucun centre n'accueille ces catégories.
                </td>
              </tr>
            )}
            {win.first > 0 && <Spacer cols={cols.length + 3} height={win.first * win.rowH} />}
            {rows.slice(win.first, win.last).map((c, i) => (
              <Row
                key={c.id}
                index={win.windowed ? win.first + i + 2 : undefined}
                centre={c}
                cols={cols}
                colsKey={colsKey}
                now={now}
                selected={c.id === selectedId}
                flash={arrival(c.id, c.changedAt)}
                onSelect={onSelect}
              />
            ))}
            {win.last < rows.length && <Spacer cols={cols.length + 3} height={(rows.length - win.last) * win.rowH} />}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The height of the rows not drawn (set through the CSSOM: allowed by the CSP). */
function Spacer({ cols, height }: { cols: number; height: number }) {
  return (
    <tr class="spacer" aria-hidden="true">
      <td colSpan={cols} style={{ height: `${height}px` }} />
    </tr>
  );
}

interface RowProps {
  /** aria-rowindex when the table is drawn by window */
  index: number | undefined;
  centre: Centre;
  cols: readonly Category[];
  colsKey: string;
  now: number;
  selected: boolean;
  flash: string;
  onSelect?(id: string | null): void;
}

class Row extends Component<RowProps> {
  override shouldComponentUpdate(n: RowProps): boolean {
    const p = this.props;
    return (
      n.centre !== p.centre ||
      n.colsKey !== p.colsKey ||
      n.now !== p.now ||
      n.selected !== p.selected ||
      n.flash !== p.flash ||
      n.index !== p.index
    );
  }

  override render({ index, centre: c, cols, now, selected, flash, onSelect }: RowProps) {
    const total = freeIn(c, cols);
    const cls = ["centre-row", selected ? "is-selected" : "", c.stale ? "is-stale" : "", flash].filter(Boolean).join(" ");
    return (
      <tr class={cls} data-id={c.id} aria-rowindex={index}>
        <th scope="row" class="col-name">
          {onSelect ? (
            <button
              type="button"
              class="centre-name"
              aria-pressed={selected}
              title={`${c.name} : ${selected ? "ne plus montrer" : "montrer"} sur la carte`}
              onClick={() => onSelect(selected ? null : c.id)}
            >
              {c.name}
            </button>
          ) : (
            <span class="centre-name centre-name--text">{c.name}</span>
          )}
          <span class="centre-address" title={c.address || undefined}>
            {kindLabel(c.kind)}
            {c.address ? ` · ${c.address}` : ""}
          </span>
        </th>
        {cols.map((k) => (
          <CountCell key={k} c={c} k={k} />
        ))}
        <td class="num col-total">
          <span class={total ? "total" : "total total--zero"}>{total}</span>
        </td>
        <td class="col-decl">
          <DeclarationAge centre={c} now={now} />
        </td>
      </tr>
    );
  }
}

function CountCell({ c, k }: { c: Centre; k: Category }) {
  if ((c.capacity[k] ?? 0) === 0)
    return (
      <td class="num na">
        <span aria-hidden="true">–</span>
        <span class="visually-hidden">pas de place de cette catégorie</span>
      </td>
    );
  const free = count(c.free, k);
  const vac = count(c.vacancies, k);
  const held = count(c.held, k);
  return (
    <td class="num">
      <span aria-hidden="true">
        <span class={free ? "free" : "free free--zero"}>{free}</span>
        <span class="of">/{vac}</span>
        {held > 0 && <span class="held">{held} ret.</span>}
      </span>
      <span class="visually-hidden">
        {free} libre{free > 1 ? "s" : ""} sur {vac} vacante{vac > 1 ? "s" : ""}
        {held > 0 ? `, ${held} retenue${held > 1 ? "s" : ""}` : ""}
      </span>
    </td>
  );
}
