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

const byName = (a: Centre, b: Centre) => a.name.localeCompare(b.name, "fr") || a.id.localeCompare(b.id);

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
    const centres = cur.centres.filter((x) => x.id !== c.id);
    centres.push(c);
    centres.sort(byName);
    this.value.set({ ...cur, centres, receivedAt: Number(d.nowMs) });
    benchProbe()?.(t0);
    return true;
  }

  /** Centre names by id, for the orientation views. */
  nameOf(id: string): string {
    return this.value.value.centres.find((c) => c.id === id)?.name ?? id;
  }
}
