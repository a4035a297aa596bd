/* Small helpers shared by the places views (table, map, proposal panel): what a category
 * filter selects, the free places it counts, and a hook that re-renders only when a derived
 * value changes (a table of 500 centres need not redraw every second for an age shown to
 * the minute). No I/O: everything here reads the state layer's plain values. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Observable } from "../../state/observable";
import { CATEGORIES, type Category, type Centre, type Counts } from "../../state/model";

/** `select(obs.value)`, re-rendering the caller only when that result changes (Object.is). */
export function useSelect<T, R>(obs: Observable<T>, select: (v: T) => R): R {
  const [, setTick] = useState(0);
  const fn = useRef(select);
  fn.current = select;
  const last = useRef<R>(select(obs.value));
  useEffect(
    () =>
      obs.subscribe((v) => {
        const r = fn.current(v);
        if (!Object.is(r, last.current)) {
          last.current = r;
          setTick((t) => t + 1);
        }
      }),
    [obs],
  );
  last.current = select(obs.value);
  return last.current;
}

/** The clock's time to the minute, re-rendering once a minute: enough for ages shown as
 * "il y a 2 h 05", and a stable value between ticks (rows compare it to skip redrawing). */
export function useMinute(clock: Observable<number>): number {
  return useSelect(clock, (t) => Math.floor(t / 60_000)) * 60_000;
}

/** The categories a filter shows: the selected ones, or every one when none is selected. */
export function shown(selected: readonly Category[]): readonly Category[] {
  return selected.length ? CATEGORIES.filter((c) => selected.includes(c)) : CATEGORIES;
}

/** Whether the centre has capacity in one of the categories (as the server's filter). */
export function receives(c: Centre, cats: readonly Category[]): boolean {
  return cats.some((k) => (c.capacity[k] ?? 0) > 0);
}

/** Free places of the categories (what may be proposed now). */
export function freeIn(c: Centre, cats: readonly Category[]): number {
  let n = 0;
  for (const k of cats) n += c.free[k] ?? 0;
  return n;
}

export function count(c: Counts, k: Category): number {
  return c[k] ?? 0;
}

/** "3 places libres", "1 place libre", "aucune place libre" */
export function freeText(n: number): string {
  if (n === 0) return "aucune place libre";
  return n === 1 ? "1 place libre" : `${n} places libres`;
}

/** A live change to highlight: the class alternates between two identical animations, so a
 * second change within the highlight's two seconds starts it again. First sight of an item
 * (a snapshot, a remount, a row scrolled into view) highlights nothing unless the caller says
 * it is new (a request that just arrived). The caller is drawn again when the last highlight
 * ends, so that its class is dropped (a row shown again by a filter does not flash, and a
 * static highlight, as the places table's, ends on time). */
export function useArrivals(): (id: string, stamp: number | string, isNew?: boolean) => string {
  const seen = useRef(new Map<string, { stamp: number | string; phase: string; at: number }>());
  const [, setTick] = useState(0);
  const timer = useRef<{ id: ReturnType<typeof setTimeout>; at: number } | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current.id);
  }, []);
  /* one timer, for the earliest highlight still on */
  const redrawAt = (end: number) => {
    const t = timer.current;
    if (t && t.at <= end) return;
    if (t) clearTimeout(t.id);
    timer.current = {
      at: end,
      id: setTimeout(() => {
        timer.current = null;
        setTick((n) => n + 1);
      }, Math.max(0, end - Date.now()) + 20),
    };
  };
  return (id, stamp, isNew = false) => {
    const prev = seen.current.get(id);
    const now = Date.now();
    let entry = prev;
    if (!entry) {
      entry = { stamp, phase: isNew ? "arrived-a" : "", at: isNew ? now : 0 };
      seen.current.set(id, entry);
    } else if (entry.stamp !== stamp) {
      entry.stamp = stamp;
      entry.phase = entry.phase === "arrived-a" ? "arrived-b" : "arrived-a";
      entry.at = now;
    }
    if (!entry.phase || now - entry.at >= ARRIVAL_MS) return "";
    redrawAt(entry.at + ARRIVAL_MS);
    return entry.phase;
  };
}

export const ARRIVAL_MS = 2500;

/** Whether the data shown is live; else the view says how old it is. */
export function isLive(kind: string): boolean {
  return kind === "live";
}
