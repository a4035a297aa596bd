/* What an opened round shows, read from the phone's local store (store/local.ts): the persons
 * the team holds with their profile and the notices about them, the encounters, the outbox,
 * and the shelter requests with the SIAO's proposals and the centres' decisions (folded as the
 * desk folds them, state/orient.ts). Plain data for the views.
 *
 * RoundReader reads every record once, when the store opens; then only what a change touched:
 * the records of the ids a save, a push's results or a pulled page name, and the outbox list
 * when its counts move, opening only the ops it does not show yet. Reading (unsealing and
 * decoding) every record after each change made a first pull quadratic, and a save wait behind
 * the reading of the one before (10,000 records: seconds on a slow phone). */
import { PersonField } from "../gen/veille/v1/records_pb";
import { errorMessage } from "../net/errors";
import type { LocalRecord, LocalStore, Notice, OutboxEntry, OutboxOp } from "../store/local";
import type { Household, Need, RequestView, Service } from "./model";
import { deriveOrientations } from "./orient";
import { householdOf, noticeText, profileOf, type Profile } from "./profile";
import { Records } from "./records";

/** A person the team holds, as the search and their screen show them. */
export interface PersonItem {
  id: string;
  givenName: string;
  familyName: string;
  nickname: string;
  birthYear: number | null;
  profile: Profile;
  household: Household;
  /** changes about them still on the phone */
  pending: number;
  /** the colleagues' values that won over this phone's edits, until acknowledged
   * ("Modifié aussi par un collègue : …") */
  notices: string[];
}

/** An encounter this phone knows, newest first. */
export interface EncounterItem {
  id: string;
  personId: string;
  occurredAt: number;
  needs: Need[];
  services: Service[];
  area: string;
  note: string;
  /** "" unless this phone's professional may read it (a health professional) */
  healthNote: string;
  /** 0: received by the server */
  pending: number;
}

/** What the outbox list shows: a record waiting (an encounter and the new person it is about
 * are one: store/local.ts OutboxOp.save), or an op the server refused. */
export interface OutboxItem {
  opCounter: number;
  kind: string;
  state: "pending" | "rejected";
  /** the person it is about, for the list's wording ("" if unknown) */
  personId: string;
  at: number;
  /** rejected: the reason, in French */
  reason?: string;
}

/** A shelter request of the team, where it stands (RequestView); pending: ops about it still
 * on the phone (a request never received by the server has no date nor answer yet). */
export interface RequestItem {
  view: RequestView;
  pending: number;
}

export interface RoundRecords {
  persons: PersonItem[];
  encounters: EncounterItem[];
  outbox: OutboxItem[];
  requests: RequestItem[];
}

/** What a read asks for: every record and the outbox (the store opened), the records of ids
 * (a change touched them; one no longer held, withdrawn, leaves the lists), the outbox list
 * (its counts moved). */
export interface ReadWhat {
  all?: boolean;
  ids?: Iterable<string>;
  outbox?: boolean;
}

/** The records of a round by id, the outbox's items by op counter, and the views' lists made
 * from them; read() refreshes what it is asked and returns the lists that moved. One read at
 * a time (the caller's): reads run against one store, in order. */
export class RoundReader {
  private readonly persons = new Map<string, PersonItem>();
  /** requests, proposals and decisions: folded together into the requests' views */
  private readonly orientation = new Map<string, LocalRecord>();
  private readonly ops = new Map<number, OutboxItem>();
  /** newest first */
  private encounters: EncounterItem[] = [];

  /** opts.health: the professional may read HEALTH fields (the server sends them to no one
   * else; this holds if it ever did); opts.centreName names a centre from the places. */
  constructor(
    readonly store: LocalStore,
    private readonly opts: { health: boolean; centreName(id: string): string },
  ) {}

  async read(what: ReadWhat): Promise<Partial<RoundRecords>> {
    const out: Partial<RoundRecords> = {};
    const ids = what.all ? [] : [...new Set(what.ids ?? [])];
    if (what.all || ids.length) Object.assign(out, await this.readRecords(what.all ? "all" : ids));
    if (what.all || what.outbox) out.outbox = await this.readOutbox();
    return out;
  }

  private async readRecords(what: "all" | string[]): Promise<Partial<RoundRecords>> {
    const { store } = this;
    let records: LocalRecord[];
    const gone = new Set<string>();
    if (what === "all") {
      records = (await Promise.all((["person", "encounter", "request", "proposal", "decision"] as const).map((k) => store.all(k)))).flat();
      for (const m of [this.persons, this.orientation]) for (const id of m.keys()) gone.add(id);
    } else {
      records = await store.some(what);
      for (const id of what) gone.add(id);
    }
    const personIds = records.filter((r) => r.change.record.case === "person").map((r) => r.change.recordId);
    const notices = await store.notices(what === "all" ? undefined : personIds);

    const touched = { persons: false, orientation: false };
    const encountersIn: EncounterItem[] = [];
    for (const id of gone) {
      touched.persons = this.persons.delete(id) || touched.persons;
      touched.orientation = this.orientation.delete(id) || touched.orientation;
    }
    for (const r of records) {
      const { change } = r;
      const id = change.recordId;
      switch (change.record.case) {
        case "person":
          this.persons.set(id, personItem(r, notices.get(id) ?? []));
          touched.persons = true;
          break;
        case "encounter": {
          const item = this.encounterItem(r);
          if (item) encountersIn.push(item);
          break;
        }
        case "request":
        case "proposal":
        case "decision":
          this.orientation.set(id, r);
          touched.orientation = true;
          break;
      }
    }

    const out: Partial<RoundRecords> = {};
    if (touched.persons) out.persons = [...this.persons.values()].sort(byName);
    /* the list kept sorted: those read replace theirs (the sort of a sorted list with a few
     * appended is one merge) */
    const kept = what === "all" ? [] : this.encounters.filter((e) => !gone.has(e.id));
    if (encountersIn.length || kept.length !== this.encounters.length) {
      this.encounters = kept.concat(encountersIn).sort((a, b) => b.occurredAt - a.occurredAt);
      out.encounters = this.encounters;
    }
    if (touched.orientation) out.requests = this.requests();
    return out;
  }

  private encounterItem({ change, pending }: LocalRecord): EncounterItem | null {
    if (change.record.case !== "encounter") return null;
    const e = change.record.value;
    return {
      id: change.recordId,
      personId: e.personId,
      occurredAt: Number(e.occurredAtMs),
      needs: e.needs as Need[],
      services: e.services as Service[],
      area: e.location?.area ?? "",
      note: e.note,
      healthNote: this.opts.health ? e.healthNote : "",
      pending,
    };
  }

  private requests(): RequestItem[] {
    const rec = new Records();
    const all = [...this.orientation.values()];
    rec.apply(all.map((r) => r.change));
    const pendingOf = new Map(all.map((r) => [r.change.recordId, r.pending]));
    const o = deriveOrientations(rec, { structureId: "", isCentre: false, centreName: this.opts.centreName });
    return o.requests.map((view) => ({ view, pending: pendingOf.get(view.id) ?? 0 }));
  }

  /* The outbox list from its entries in the clear, opening only the ops not shown yet or
   * whose state moved: a save opens its own ops, not the whole outbox. */
  private async readOutbox(): Promise<OutboxItem[]> {
    const shown = shownEntries(await this.store.outboxEntries());
    const stale = shown.filter((e) => this.ops.get(e.opCounter)?.state !== e.state).map((e) => e.opCounter);
    const opened = stale.length ? await this.store.outboxOps(stale) : [];
    const kept = new Set(shown.map((e) => e.opCounter));
    for (const counter of this.ops.keys()) if (!kept.has(counter)) this.ops.delete(counter);
    for (const op of opened) this.ops.set(op.opCounter, outboxItem(op));
    return shown.flatMap((e) => this.ops.get(e.opCounter) ?? []);
  }
}

const collator = new Intl.Collator("fr");

function byName(a: PersonItem, b: PersonItem): number {
  return collator.compare(a.nickname || a.givenName, b.nickname || b.givenName) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function personItem({ change, pending }: LocalRecord, notices: Notice[]): PersonItem {
  const profile = change.record.case === "person" ? profileOf(change.record.value) : {};
  const text = (f: PersonField) => String(profile[f] ?? "");
  return {
    id: change.recordId,
    givenName: text(PersonField.GIVEN_NAME),
    familyName: text(PersonField.FAMILY_NAME),
    nickname: text(PersonField.NICKNAME),
    birthYear: Number(profile[PersonField.BIRTH_YEAR]) || null,
    profile,
    household: householdOf(profile),
    pending,
    notices: notices.map(noticeText),
  };
}

/* The entries the list shows, in counter order: one per record waiting (shown by the op the
 * others were saved with, if it waits too) and one per op refused. */
function shownEntries(entries: OutboxEntry[]): OutboxEntry[] {
  const waiting = new Map<number, OutboxEntry>();
  for (const o of entries) if (o.state === "pending" && (!waiting.has(o.save) || o.opCounter === o.save)) waiting.set(o.save, o);
  const refused = entries.filter((o) => o.state === "rejected");
  return [...waiting.values(), ...refused].sort((a, b) => a.opCounter - b.opCounter);
}

function outboxItem(op: OutboxOp): OutboxItem {
  const r = op.mutation.record;
  const personId = r.case === "encounter" || r.case === "request" ? r.value.personId : r.case === "person" ? op.recordId : "";
  const at = r.case === "encounter" ? Number(r.value.occurredAtMs) : (op.result?.atMs ?? 0);
  return {
    opCounter: op.opCounter,
    kind: op.kind,
    state: op.state,
    personId,
    at,
    reason: op.result ? errorMessage({ code: op.result.code, message: op.result.reason }) : undefined,
  };
}
