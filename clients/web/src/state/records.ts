/* The records this professional's structure may see, folded from pulled changes
 * (docs/sync.md): the newest version of each record, a `withdrawn` change dropping it. Kept in
 * memory only, for the signed-in session: locking or signing out drops it all. The views'
 * shapes are derived from it in orient.ts and people.ts. */
import type { Change } from "../gen/veille/v1/sync_pb";
import type { Encounter, Person } from "../gen/veille/v1/records_pb";
import type { Decision, Proposal, Request } from "../gen/veille/v1/orientation_pb";

export interface Versioned<T> {
  version: number;
  value: T;
}

export class Records {
  readonly requests = new Map<string, Versioned<Request>>();
  readonly proposals = new Map<string, Versioned<Proposal>>();
  readonly decisions = new Map<string, Versioned<Decision>>();
  readonly persons = new Map<string, Versioned<Person>>();
  readonly encounters = new Map<string, Versioned<Encounter>>();

  private maps(): Map<string, Versioned<unknown>>[] {
    return [this.requests, this.proposals, this.decisions, this.persons, this.encounters];
  }

  /** Applies one page of changes, in order. Returns whether anything changed. */
  apply(changes: Change[]): boolean {
    let changed = false;
    for (const ch of changes) {
      if (ch.withdrawn) {
        for (const m of this.maps()) changed = m.delete(ch.recordId) || changed;
        continue;
      }
      const version = Number(ch.version);
      const r = ch.record;
      switch (r.case) {
        case "request":
          changed = keep(this.requests, ch.recordId, version, r.value) || changed;
          break;
        case "proposal":
          changed = keep(this.proposals, ch.recordId, version, r.value) || changed;
          break;
        case "decision":
          changed = keep(this.decisions, ch.recordId, version, r.value) || changed;
          break;
        case "person":
          changed = keep(this.persons, ch.recordId, version, r.value) || changed;
          break;
        case "encounter":
          changed = keep(this.encounters, ch.recordId, version, r.value) || changed;
          break;
        default:
          break; /* a kind this app does not know (newer server): ignored */
      }
    }
    return changed;
  }

  clear(): void {
    for (const m of this.maps()) m.clear();
  }
}

/* A version older than the one held is ignored: applying a change twice is harmless. */
function keep<T>(m: Map<string, Versioned<T>>, id: string, version: number, value: T): boolean {
  const cur = m.get(id);
  if (cur && cur.version > version) return false;
  m.set(id, { version, value });
  return true;
}
