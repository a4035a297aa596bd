/* An opened round of the maraude phone (state/maraude.ts opens it once the PIN unwrapped the
 * keys): the sync engine (sync/engine.ts) over the sealed local store, what the views show
 * (state/round.ts, re-read as changes touch records), the places live or as last kept, and what
 * the maraudeur may do. Loaded by the gate with a dynamic import, beside the PIN screen: the
 * protocol's code, the engine and the store are not needed to paint it. */
import type { Keys } from "../crypto/keys";
import type { PlacesEvent } from "../net/connection";
import { errorMessage } from "../net/errors";
import { fromHex, newRecordId } from "../net/ids";
import type { Account } from "../store/accounts";
import { LocalError } from "../store/local";
import { initialStatus, SyncEngine, type SyncStatus } from "../sync/engine";
import { encounterOps, type NewEncounterInput } from "./encounter";
import { geohashEncode } from "./geohash";
import { readsHealth, type NewRequest, type Places } from "./model";
import { Observable } from "./observable";
import { requestRecord } from "./orient";
import { PlacesState } from "./places";
import { profileEdit, type Draft } from "./profile";
import { matches, queryTokens } from "./search";
import { RoundReader, type EncounterItem, type OutboxItem, type PersonItem, type ReadWhat, type RequestItem } from "./round";

export type { EncounterItem, NewEncounterInput, OutboxItem, PersonItem, RequestItem, SyncStatus };
/* for the gate (state/maraude.ts), which loads them with this module */
export { enrol as enrolDevice } from "../net/connection";
export { errorMessage } from "../net/errors";
export { deleteLocal, outboxCounts } from "../store/local";

/** Persons shown in the search at most. */
const SEARCH_MAX = 8;

export interface PlacesNow {
  places: Places;
  /** true while the link is live and a snapshot came in this round */
  live: boolean;
  /** Date.now() when the places shown were received (0: never) */
  savedAt: number;
}

/** What an action did; id: the record it is about (an encounter's: the person's); field: the
 * profile field at fault, if one is. */
export type Outcome = { ok: true; id?: string } | { ok: false; message: string; field?: number };

/** One opened round: what the phone's views read and may do. */
export interface Round {
  label: string;
  /** a health professional: the encounter's health note is theirs to write and read */
  health: boolean;
  status: Observable<SyncStatus>;
  persons: Observable<PersonItem[]>;
  encounters: Observable<EncounterItem[]>;
  outbox: Observable<OutboxItem[]>;
  /** the team's shelter requests and where each stands */
  requests: Observable<RequestItem[]>;
  places: Observable<PlacesNow>;
  search(q: string): PersonItem[];
  recordEncounter(e: NewEncounterInput): Promise<Outcome>;
  /** saves the fields of draft that differ from base (the draft the form opened with) */
  editPerson(id: string, base: Draft, draft: Draft): Promise<Outcome>;
  /** the user has read the person's notices */
  acknowledge(id: string): Promise<Outcome>;
  /** a shelter request to the SIAO, saved on the phone like an encounter */
  requestShelter(r: NewRequest): Promise<Outcome>;
  /** the phone's position as a 6-character geohash; asked only when the user taps */
  locate(): Promise<{ ok: true; geohash: string } | { ok: false; message: string }>;
  discard(opCounter: number): Promise<Outcome>;
  syncNow(): void;
  lock(): void;
}


export interface RoundOptions {
  url: string;
  account: Account;
  /** the key worker holding this phone's keys */
  keys: Keys;
  /** the server withdrew the phone: the engine erased its account and store (error: what
   * could not be erased) */
  onWiped(error: string | null): void;
  /** the round's "Verrouiller" */
  onLock(): void;
}

/** An opened round: start() opens the store and connects (once), stop() ends it (the
 * connection and the store closed). */
export interface RoundSession {
  round: Round;
  /** null, or why the store did not open, in French */
  start(): Promise<string | null>;
  stop(): void;
  syncNow(): void;
}

export function openRound(o: RoundOptions): RoundSession {
  const { account, keys } = o;
  const status = new Observable<SyncStatus>(initialStatus());
  const persons = new Observable<PersonItem[]>([]);
  const encounters = new Observable<EncounterItem[]>([]);
  const outbox = new Observable<OutboxItem[]>([]);
  const requests = new Observable<RequestItem[]>([]);
  const placesState = new PlacesState("");
  const places = new Observable<PlacesNow>({ places: placesState.value.value, live: false, savedAt: 0 });
  let placesLive = false;
  let placesSavedAt = 0;
  const showPlaces = () =>
    places.set({ places: placesState.value.value, live: placesLive && status.value.link.kind === "live", savedAt: placesSavedAt });

  /* What the views show: every record read when the store opens, then only what a change
   * touched (state/round.ts). One read at a time; what is asked meanwhile is read after it,
   * together. */
  let reader: RoundReader | null = null;
  const wanted = { all: false, outbox: false, ids: new Set<string>() };
  let reading = false;
  const reread = async (what: ReadWhat) => {
    wanted.all ||= !!what.all;
    wanted.outbox ||= !!what.outbox;
    for (const id of what.ids ?? []) wanted.ids.add(id);
    if (reading) return;
    reading = true;
    try {
      while (wanted.all || wanted.outbox || wanted.ids.size) {
        const store = engine.store;
        if (!store) break;
        if (reader?.store !== store) {
          reader = new RoundReader(store, { health: round.health, centreName: (id) => placesState.nameOf(id) });
          wanted.all = true;
        }
        const ask: ReadWhat = { ...wanted, ids: [...wanted.ids] };
        Object.assign(wanted, { all: false, outbox: false, ids: new Set<string>() });
        const r = await reader.read(ask);
        if (r.persons) persons.set(r.persons);
        if (r.encounters) encounters.set(r.encounters);
        if (r.outbox) outbox.set(r.outbox);
        if (r.requests) requests.set(r.requests);
      }
    } catch {
      /* closed by a lock meanwhile */
    } finally {
      reading = false;
    }
  };

  const engine = new SyncEngine({
    url: o.url,
    deviceIdHex: account.deviceIdHex,
    serverId: fromHex(account.serverIdHex),
    keys,
    client: "veille-maraude-web",
    onStatus: (s) => {
      const before = status.value;
      status.set(s);
      if (s.store === "wiped" && before.store !== "wiped") return void o.onWiped(s.error);
      if (s.link.kind !== "live") placesLive = false;
      if (s.store === "locked" && before.store === "open") {
        /* the lease ended while the round was open: nothing read from the store stays shown */
        reader = null;
        for (const list of [persons, encounters, outbox, requests] as Observable<unknown[]>[]) list.set([]);
      }
      if (s.store !== before.store) void reread({ all: true });
      else if (s.pending !== before.pending || s.rejected !== before.rejected) void reread({ outbox: true });
      showPlaces();
    },
    /* [] after the lease's lock: the store's opening (above) reads everything */
    onRecords: (ids) => void reread({ ids }),
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
    label: account.label,
    health: readsHealth(account.role),
    status,
    persons,
    encounters,
    outbox,
    requests,
    places,
    search: (q) => {
      const tokens = queryTokens(q);
      return tokens.length ? persons.value.filter((p) => matches(p, tokens)).slice(0, SEARCH_MAX) : [];
    },
    recordEncounter: (e) => recordEncounter(engine, account.role, e),
    editPerson: (id, base, draft) => editPerson(engine, id, base, draft),
    requestShelter: (r) => act(() => engine.save([{ recordId: newRecordId(), record: { case: "request", value: requestRecord(r) } }])),
    acknowledge: (id) =>
      act(async () => {
        await engine.store?.acknowledge(id);
        void reread({ ids: [id] });
      }),
    locate: () => locate(),
    discard: (opCounter) =>
      act(async () => {
        await engine.discard(opCounter);
        void reread({ outbox: true });
      }),
    syncNow: () => engine.syncNow(),
    lock: () => o.onLock(),
  };

  return {
    round,
    start: async () => {
      try {
        await engine.start();
      } catch (e) {
        engine.stop();
        return describe(e);
      }
      const kept = await engine.store?.places().catch(() => undefined);
      if (kept && !placesLive) {
        placesState.snapshot(kept.snapshot);
        placesSavedAt = kept.savedAtMs;
        showPlaces();
      }
      return null; /* the store's opening read the round (onStatus) */
    },
    stop: () => engine.stop(),
    syncNow: () => engine.syncNow(),
  };
}

/* An action on the store: ok, or its failure in French. */
async function act(f: () => Promise<unknown>): Promise<Outcome> {
  try {
    await f();
    return { ok: true };
  } catch (e) {
    return { ok: false, message: describe(e) };
  }
}

/* An encounter (with the new person met, if any), saved on the phone; its id: the person's. */
async function recordEncounter(engine: SyncEngine, role: number, e: NewEncounterInput): Promise<Outcome> {
  const made = encounterOps(e, role, engine.connection.serverNow(), newRecordId);
  if ("error" in made) return { ok: false, message: made.error };
  const r = await act(() => engine.save(made.ops));
  return r.ok ? { ok: true, id: made.personId } : r;
}

/* A profile edit, saved on the phone like an encounter. */
function editPerson(engine: SyncEngine, id: string, base: Draft, draft: Draft): Promise<Outcome> {
  const edit = profileEdit(base, draft);
  if ("error" in edit) return Promise.resolve({ ok: false, ...edit.error });
  if (!edit.fields.length) return Promise.resolve({ ok: false, message: "Rien n'a changé dans la fiche." });
  return act(() => engine.save([{ recordId: id, record: { case: "person", value: { fields: edit.fields } } }]));
}

function describe(e: unknown): string {
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
