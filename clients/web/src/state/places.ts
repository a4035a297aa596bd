/* The live view of the territory's places (docs/places.md): a snapshot, then deltas in
 * sequence; a gap means subscribing again for a fresh snapshot (PlacesTracker says which).
 * Held in memory only: places are OPERATIONAL data, but nothing on a desk is kept. */
import type { CategoryCount, CentrePlaces, PlacesDelta, PlacesSnapshot } from "../gen/veille/v1/places_pb";
import { PlacesTracker } from "../net/connection";
import { Observable } from "./observable";
import type { Centre, Counts, Places } from "./model";

function counts(list: CategoryCount[]): Counts {
  const c: Counts = {};
  for (const cc of list) c[cc.category as keyof Counts] = cc.count;
  return c;
}

export function centreOf(p: CentrePlaces, changedAt: number): Centre {
  return {
    id: p.structureId,
    name: p.name,
    kind: p.kind,
    territory: p.territory,
    address: p.address,
    location: p.located ? { lat: p.latitude, lon: p.longitude } : null,
    capacity: counts(p.capacity),
    vacancies: counts(p.vacancies),
    held: counts(p.held),
    free: counts(p.free),
    declaredAt: Number(p.declaredAtMs),
    periodMs: Number(p.periodMs),
    stale: p.stale,
    changedAt,
  };
}

/* tools/bench/web-desk times each delta from its arrival to the frame that shows it: it
 * defines `__veilleBench.onDelta(t0)` in the page before the app loads; nothing else does. */
function benchProbe(): ((t0: number) => void) | undefined {
  return (globalThis as { __veilleBench?: { onDelta(t0: number): void } }).__veilleBench?.onDelta;
}

const collator = new Intl.Collator("fr");
const byName = (a: Centre, b: Centre) => collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** `centres` (sorted by name) with `c` in its place: a copy, one centre replaced or inserted
 * (a delta touches one centre: no sort of the whole territory). */
function withCentre(centres: readonly Centre[], c: Centre): Centre[] {
  const next = centres.slice();
  const at = next.findIndex((x) => x.id === c.id);
  if (at >= 0 && next[at]!.name === c.name) {
    next[at] = c;
    return next;
  }
  if (at >= 0) next.splice(at, 1);
  let lo = 0;
  let hi = next.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byName(next[mid]!, c) < 0) lo = mid + 1;
    else hi = mid;
  }
  next.splice(lo, 0, c);
  return next;
}

export class PlacesState {
  readonly value = new Observable<Places>({ loaded: false, territory: "", centres: [], receivedAt: 0 });
  private readonly tracker = new PlacesTracker();

  constructor(private territory: string) {}

  /** A snapshot replaces everything (first subscription, or after a gap). */
  snapshot(s: PlacesSnapshot): void {
    this.tracker.apply({ snapshot: s }); /* a new snapshot starts the sequences afresh */
    const t = s.territories.find((x) => x.territory === this.territory) ?? s.territories[0];
    const centres = (t?.centres ?? []).map((c) => centreOf(c, 0)).sort(byName);
    this.value.set({ loaded: true, territory: t?.territory ?? this.territory, centres, receivedAt: Number(s.nowMs) });
  }

  /** Applies a delta; returns false when it shows a gap (the caller subscribes again). */
  delta(d: PlacesDelta): boolean {
    const t0 = performance.now();
    const r = this.tracker.apply({ delta: d });
    if (r === "gap") return false;
    if (r !== "applied" || !d.centre) return true;
    const cur = this.value.value;
    const c = centreOf(d.centre, Date.now());
    this.value.set({ ...cur, centres: withCentre(cur.centres, c), receivedAt: Number(d.nowMs) });
    benchProbe()?.(t0);
    return true;
  }

  /** Centre names by id, for the orientation views. */
  nameOf(id: string): string {
    return this.value.value.centres.find((c) => c.id === id)?.name ?? id;
  }
}
