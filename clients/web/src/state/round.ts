/* A round of the maraude phone, once the PIN opened it: the sync engine (sync/engine.ts) over
 * the sealed local store (store/local.ts), and what the round's views show and do (Round).
 * state/maraude.ts loads this module (a dynamic import) once the PIN screen is painted: the
 * protocol's code, the engine and the store are not evaluated before the first paint (the
 * protocol's descriptors alone took 220 ms at CPU x4). */
import type { Keys } from "../crypto/keys";
import type { PlacesEvent } from "../net/connection";
import { errorMessage } from "../net/errors";
import { fromHex, newRecordId } from "../net/ids";
import type { Account } from "../store/accounts";
import { LocalError, type LocalStore, type OutboxOp } from "../store/local";
import { SyncEngine, type SyncStatus } from "../sync/engine";
import { PersonField, type Person } from "../gen/veille/v1/records_pb";
import { geohashEncode } from "./geohash";
import type { Need, Places, Service } from "./model";
import { Observable } from "./observable";
import { PlacesState } from "./places";

/* What the gate (state/maraude.ts) uses of the protocol and the store, loaded with this module. */
export { enrol } from "../net/connection";
export { errorMessage } from "../net/errors";
export { deleteLocal, outboxCounts } from "../store/local";

/** Persons shown in the search at most. */
const SEARCH_MAX = 8;

/** A person the team holds, as the search shows them. */
export interface PersonItem {
  id: string;
  givenName: string;
  familyName: string;
  nickname: string;
  birthYear: number | null;
  /** changes about them still on the phone */
  pending: number;
}

/** An encounter this phone knows, newest first. */
export interface EncounterItem {
  id: string;
  personId: string;
  occurredAt: number;
  needs: Need[];
  services: Service[];
  area: string;
  /** 0: received by the server */
  pending: number;
}

/** An op of the outbox, as the list shows it. */
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

export interface PlacesNow {
  places: Places;
  /** true while the link is live and a snapshot came in this round */
  live: boolean;
  /** Date.now() when the places shown were received (0: never) */
  savedAt: number;
}

export interface NewEncounterInput {
  /** an existing person, or null with newPerson */
  personId: string | null;
  newPerson?: { nickname: string; givenName: string; familyName: string; birthYear: number | null };
  needs: Need[];
  services: Service[];
  note: string;
  geohash: string;
}

export type Outcome = { ok: true } | { ok: false; message: string };

/** One opened round: what the phone's views read and may do. */
export interface Round {
  label: string;
  status: Observable<SyncStatus>;
  persons: Observable<PersonItem[]>;
  encounters: Observable<EncounterItem[]>;
  outbox: Observable<OutboxItem[]>;
  places: Observable<PlacesNow>;
  search(q: string): PersonItem[];
  recordEncounter(e: NewEncounterInput): Promise<Outcome>;
  /** the phone's position as a 6-character geohash; asked only when the user taps */
  locate(): Promise<{ ok: true; geohash: string } | { ok: false; message: string }>;
  discard(opCounter: number): Promise<Outcome>;
  syncNow(): void;
  lock(): void;
}

/** Lower case, no accents: "Hélène" is found by "helene". */
export function foldText(s: string): string {
  return s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/œ/g, "oe")
    .replace(/['’\-.,]/g, " ");
}

function text(p: Person, f: PersonField): string {
  const v = p.fields.find((x) => x.field === f);
  return v && !v.cleared && v.value.case === "text" ? v.value.value : "";
}

function num(p: Person, f: PersonField): number | null {
  const v = p.fields.find((x) => x.field === f);
  return v && !v.cleared && v.value.case === "number" ? Number(v.value.value) : null;
}

export interface RoundOptions {
  url: string;
  account: Account;
  /** the key worker holding the unwrapped keys */
  keys: Keys;
  /** every way out of the round (the view's button too) */
  lock(): void;
  /** a revocation erased the phone */
  wiped(): void;
}

/** The round of an account whose keys are unwrapped: its view model and its engine; start()
 * opens the store and connects. Errors of start: the store's (LocalError, IndexedDB's). */
export function openRound(o: RoundOptions): { round: Round; engine: SyncEngine; start(): Promise<void> } {
  const status = new Observable<SyncStatus>({
    link: { kind: "stopped" },
    store: "opening",
    pending: 0,
    rejected: 0,
    lastSyncMs: 0,
    syncing: false,
    error: null,
  });
  const persons = new Observable<PersonItem[]>([]);
  const encounters = new Observable<EncounterItem[]>([]);
  const outbox = new Observable<OutboxItem[]>([]);
  const placesState = new PlacesState("");
  const places = new Observable<PlacesNow>({ places: placesState.value.value, live: false, savedAt: 0 });
  let placesLive = false;
  let placesSavedAt = 0;
  const showPlaces = () =>
    places.set({ places: placesState.value.value, live: placesLive && status.value.link.kind === "live", savedAt: placesSavedAt });

  /* What the views show: every record read when the store opens, then only what a change
   * touched (the records of a pulled page, a save, a push's results) and the outbox: reading
   * every record at each change made a first pull quadratic and a save wait for it. One read
   * at a time; what is asked meanwhile is read after it. */
  const shown: Shown = { persons: new Map(), encounters: new Map(), ops: new Map() };
  const wanted = { all: false, outbox: false, ids: new Set<string>() };
  let reading = false;
  const reread = async (what: "all" | "outbox" | string[]) => {
    if (what === "all") wanted.all = true;
    else if (what === "outbox") wanted.outbox = true;
    else for (const id of what) wanted.ids.add(id);
    if (reading) return;
    reading = true;
    try {
      while (wanted.all || wanted.outbox || wanted.ids.size) {
        const store = engine.store;
        if (!store) break;
        const all = wanted.all;
        const ids = [...wanted.ids];
        const outboxToo = all || wanted.outbox;
        Object.assign(wanted, { all: false, outbox: false, ids: new Set<string>() });
        if (all || ids.length) await readRecords(store, all ? "all" : ids, shown, { persons, encounters });
        if (outboxToo) await readOutbox(store, shown.ops, outbox);
      }
    } catch {
      /* closed by a lock meanwhile */
    } finally {
      reading = false;
    }
  };

  const engine = new SyncEngine({
    url: o.url,
    deviceIdHex: o.account.deviceIdHex,
    serverId: fromHex(o.account.serverIdHex),
    keys: o.keys,
    client: "veille-maraude-web",
    onStatus: (s) => {
      const before = status.value;
      status.set(s);
      if (s.store === "wiped" && before.store !== "wiped") return void o.wiped();
      if (s.link.kind !== "live") placesLive = false;
      if (s.store !== before.store) void reread("all");
      else if (s.pending !== before.pending || s.rejected !== before.rejected) void reread("outbox");
      showPlaces();
    },
    /* [] after the lease's lock: the store's opening (above) reads everything */
    onRecords: (ids) => void (ids.length && reread(ids)),
    onLive: (auth) => {
      void auth;
      void engine.connection.subscribePlaces().catch(() => undefined);
    },
    onPlaces: (ev: PlacesEvent) => {
      if ("snapshot" in ev) {
        placesState.snapshot(ev.snapshot);
        placesLive = true;
        placesSavedAt = Date.now();
        void engine.store?.savePlaces(ev.snapshot, placesSavedAt).catch(() => undefined);
      } else if (!placesState.delta(ev.delta)) {
        void engine.connection.subscribePlaces().catch(() => undefined);
      } else {
        placesSavedAt = Date.now();
      }
      showPlaces();
    },
  });

  const round: Round = {
    label: o.account.label,
    status,
    persons,
    encounters,
    outbox,
    places,
    search: (q) => {
      const tokens = foldText(q).split(/\s+/).filter(Boolean);
      if (!tokens.length) return [];
      return persons.value
        .filter((p) => {
          const hay = foldText([p.nickname, p.givenName, p.familyName, p.birthYear ?? ""].join(" "));
          return tokens.every((t) => hay.includes(t));
        })
        .slice(0, SEARCH_MAX);
    },
    recordEncounter: (e) => recordEncounter(engine, e),
    locate: () => locate(),
    discard: async (opCounter) => {
      try {
        await engine.discard(opCounter);
        void reread("outbox");
        return { ok: true };
      } catch (e) {
        return { ok: false, message: describe(e) };
      }
    },
    syncNow: () => engine.syncNow(),
    lock: () => o.lock(),
  };

  const start = async () => {
    await engine.start();
    const kept = await engine.store?.places().catch(() => undefined);
    if (kept && !placesLive) {
      placesState.snapshot(kept.snapshot);
      placesSavedAt = kept.savedAtMs;
      showPlaces();
    }
  };
  return { round, engine, start };
}

/* What the views show, by record id and op counter. */
interface Shown {
  persons: Map<string, PersonItem>;
  encounters: Map<string, EncounterItem>;
  ops: Map<number, OutboxItem>;
}

/* Reads the records the views show into `shown`, every one or those of ids (a record no
 * longer held, withdrawn, leaves it); then sets the views' lists. */
async function readRecords(
  store: LocalStore,
  what: "all" | string[],
  shown: Shown,
  to: { persons: Observable<PersonItem[]>; encounters: Observable<EncounterItem[]> },
): Promise<void> {
  const records =
    what === "all"
      ? await Promise.all([store.all("person"), store.all("encounter")]).then(([ps, es]) => [...ps, ...es])
      : await store.some(what);
  if (what === "all") {
    shown.persons.clear();
    shown.encounters.clear();
  } else {
    for (const id of what) {
      shown.persons.delete(id);
      shown.encounters.delete(id);
    }
  }
  for (const { change, pending } of records) {
    const id = change.recordId;
    if (change.record.case === "person") {
      const p = change.record.value;
      shown.persons.set(id, {
        id,
        givenName: text(p, PersonField.GIVEN_NAME),
        familyName: text(p, PersonField.FAMILY_NAME),
        nickname: text(p, PersonField.NICKNAME),
        birthYear: num(p, PersonField.BIRTH_YEAR),
        pending,
      });
    } else if (change.record.case === "encounter") {
      const e = change.record.value;
      shown.encounters.set(id, {
        id,
        personId: e.personId,
        occurredAt: Number(e.occurredAtMs),
        needs: e.needs as Need[],
        services: e.services as Service[],
        area: e.location?.area ?? "",
        pending,
      });
    }
  }
  if (what === "all" || records.length || what.length) {
    to.persons.set(
      [...shown.persons.values()].sort(
        (a, b) => (a.nickname || a.givenName).localeCompare(b.nickname || b.givenName, "fr") || a.id.localeCompare(b.id),
      ),
    );
    to.encounters.set([...shown.encounters.values()].sort((a, b) => b.occurredAt - a.occurredAt));
  }
}

/* Reads the outbox's list: its entries in the clear, and only the ops not yet shown (or whose
 * state moved) opened: a save opens one op, not the whole outbox. */
async function readOutbox(store: LocalStore, shown: Map<number, OutboxItem>, to: Observable<OutboxItem[]>): Promise<void> {
  const entries = await store.outboxEntries();
  const stale = entries.filter((e) => shown.get(e.opCounter)?.state !== e.state).map((e) => e.opCounter);
  for (const op of await store.outboxOps(stale)) shown.set(op.opCounter, outboxItem(op));
  const kept = new Set(entries.map((e) => e.opCounter));
  for (const counter of shown.keys()) if (!kept.has(counter)) shown.delete(counter);
  to.set(entries.map((e) => shown.get(e.opCounter)).filter((x): x is OutboxItem => x !== undefined));
}

async function recordEncounter(engine: SyncEngine, e: NewEncounterInput): Promise<Outcome> {
  const now = engine.connection.serverNow();
  const ops: Parameters<SyncEngine["save"]>[0] = [];
  let personId = e.personId;
  if (!personId) {
    const np = e.newPerson;
    const fields: { field: PersonField; value: { case: "text"; value: string } | { case: "number"; value: bigint } }[] = [];
    if (np?.nickname.trim()) fields.push({ field: PersonField.NICKNAME, value: { case: "text", value: np.nickname.trim() } });
    if (np?.givenName.trim()) fields.push({ field: PersonField.GIVEN_NAME, value: { case: "text", value: np.givenName.trim() } });
    if (np?.familyName.trim()) fields.push({ field: PersonField.FAMILY_NAME, value: { case: "text", value: np.familyName.trim() } });
    if (np?.birthYear) fields.push({ field: PersonField.BIRTH_YEAR, value: { case: "number", value: BigInt(np.birthYear) } });
    if (!fields.length) return { ok: false, message: "Indiquez au moins un surnom, un prénom ou un nom." };
    personId = newRecordId();
    ops.push({ recordId: personId, baseVersion: 0n, record: { case: "person", value: { fields } } });
  }
  ops.push({
    recordId: newRecordId(),
    baseVersion: 0n,
    record: {
      case: "encounter",
      value: {
        personId,
        occurredAtMs: BigInt(now),
        needs: e.needs,
        services: e.services,
        note: e.note.trim(),
        location: e.geohash ? { geohash: e.geohash } : undefined,
      },
    },
  });
  try {
    await engine.save(ops);
    return { ok: true };
  } catch (err) {
    return { ok: false, message: describe(err) };
  }
}

function outboxItem(op: OutboxOp): OutboxItem {
  const r = op.mutation.record;
  const personId = r.case === "encounter" ? r.value.personId : r.case === "person" ? op.recordId : "";
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

/** What a failure of the round says, in French. */
export function describe(e: unknown): string {
  return e instanceof LocalError ? e.message : errorMessage(e);
}

/* The Geolocation API, coarse, once per tap: a 6-character geohash, never finer. */
function locate(): Promise<{ ok: true; geohash: string } | { ok: false; message: string }> {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve({ ok: false, message: "Ce téléphone ne donne pas sa position." });
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ ok: true, geohash: geohashEncode(pos.coords.latitude, pos.coords.longitude) }),
      (err) =>
        resolve({
          ok: false,
          message:
            err.code === err.PERMISSION_DENIED
              ? "La position n'est pas autorisée pour cette application."
              : "Position introuvable pour le moment.",
        }),
      { enableHighAccuracy: false, timeout: 15_000, maximumAge: 300_000 },
    );
  });
}
