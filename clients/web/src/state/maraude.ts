/* The maraude phone: what state/app.ts and state/desk.ts are to the desk, over the sync engine
 * (sync/engine.ts) and the sealed local store (store/local.ts).
 *
 * One phone, one professional: the phone's account (store/accounts.ts, its device key and
 * store key wrapped under the PIN). Enrolment: a key pair made in the key worker, the pairing
 * code signed and sent, then a store key made, both wrapped under the PIN chosen, the account
 * kept. Opening: the PIN unwraps them in a fresh key worker; the engine opens the store,
 * connects, syncs (at opening, on the browser's `online` events, on the server's pokes).
 *
 * Wrong PINs: each one past the third makes the next try wait longer (PIN_DELAYS_S); the
 * tenth wipes the phone (its account, then its store: the outbox with it), and the last tries
 * say how many records waiting to be sent a wipe would lose.
 *
 * lock() is the one way a round ends — the inactivity timer, the page going to the background
 * (visibilitychange), the button — but a revocation: the engine stops (connection closed,
 * store closed), every record held in memory is dropped, the key worker is terminated; then
 * the PIN screen, or after a revocation (the engine erased the account and the store) a
 * screen saying the phone was withdrawn. */
import { Keys } from "../crypto/keys";
import type { PlacesEvent } from "../net/connection";
import { enrol as enrolDevice } from "../net/connection";
import { errorMessage } from "../net/errors";
import { fromHex, newRecordId, toHex } from "../net/ids";
import * as accounts from "../store/accounts";
import type { Account } from "../store/accounts";
import { deleteLocal, LocalError, outboxCounts } from "../store/local";
import { initialStatus, SyncEngine, type SyncStatus } from "../sync/engine";
import { checkPin, PIN_MAX, PIN_MIN } from "./pin";
import { encounterOps, type NewEncounterInput } from "./encounter";
import { geohashEncode } from "./geohash";
import { readsHealth, type NewRequest, type Places } from "./model";
import { requestRecord } from "./orient";
import { IdleTimer } from "./idle";
import { Observable } from "./observable";
import { PlacesState } from "./places";
import { profileEdit, type Draft } from "./profile";
import { RoundReader, type EncounterItem, type OutboxItem, type PersonItem, type ReadWhat, type RequestItem } from "./round";

export { PIN_MAX, PIN_MIN, type Account, type SyncStatus };
export type { EncounterItem, NewEncounterInput, OutboxItem, PersonItem, RequestItem };
export { draftOf, PROFILE_GROUPS, type Draft, type FieldSpec, type Profile } from "./profile";

/** Wrong PINs in a row that wipe the phone. */
export const MAX_PIN_TRIES = 10;
/** The wait before the next try, in seconds, after n wrong PINs (index n - 1). */
const PIN_DELAYS_S = [0, 0, 0, 5, 15, 30, 60, 120, 300];
/** From this many tries left, the PIN screen says what a wipe would lose. */
const WARN_FROM = 3;
export const DEFAULT_LOCK_SECONDS = 120;
/** Persons shown in the search at most. */
const SEARCH_MAX = 8;

export interface MaraudeConfig {
  url: string;
  workerUrl: string;
  lockSeconds: number;
}

export type MaraudeScreen =
  | { kind: "loading" }
  | { kind: "enrol"; error?: string; notice?: string; busy?: boolean }
  | { kind: "set-pin"; label: string; error?: string; busy?: boolean }
  | {
      kind: "pin";
      account: Account;
      error?: string;
      notice?: string;
      /** Date.now() before which no try is accepted */
      waitUntil?: number;
      /** the last tries: what a wipe would lose */
      warning?: string;
      busy?: boolean;
    }
  | { kind: "round"; round: Round }
  /** the server withdrew this phone (DEVICE_REVOKED): everything local is erased; error: what
   * could not be erased, if anything */
  | { kind: "revoked"; error?: string };

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


/** Lower case, no accents: "Hélène" is found by "helene". */
export function foldText(s: string): string {
  return s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/œ/g, "oe")
    .replace(/['’\-.,]/g, " ");
}

/** The wait, in ms, before the try after `failed` wrong PINs. */
export function pinDelayMs(failed: number): number {
  if (failed <= 0) return 0;
  return 1000 * (PIN_DELAYS_S[Math.min(failed, PIN_DELAYS_S.length) - 1] ?? 0);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n > 1 ? many : one}`;
}

export class Maraude {
  readonly screen = new Observable<MaraudeScreen>({ kind: "loading" });
  private keys: Keys | null = null;
  private engine: SyncEngine | null = null;
  private account: Account | null = null;
  private pending: { keys: Keys; deviceIdHex: string; serverIdHex: string; label: string; role: number } | null = null;
  private readonly idle: IdleTimer;
  private readonly onHidden = () => {
    if (document.visibilityState === "hidden") this.lock();
  };
  private readonly onOnline = () => this.engine?.syncNow();
  private persistAsked = false;
  /* A key worker started before it is needed, holding no key: each PIN screen, once painted,
   * starts one, so that its script and libsodium load while the PIN is typed (130 ms of a
   * 400 ms unlock at CPU x4); the next sign-in (or enrolment, after a wipe) takes it. */
  private spare: Promise<Keys> | null = null;

  constructor(private readonly cfg: MaraudeConfig) {
    this.idle = new IdleTimer(cfg.lockSeconds, () => this.lock());
  }

  /** The inactivity lock, seconds (the server's setting, once read). */
  setLockSeconds(seconds: number): void {
    this.idle.setSeconds(seconds);
  }

  /** The phone's account, if enrolled: the PIN screen; else enrolment. */
  async init(notice?: string): Promise<void> {
    const list = (await accounts.list()).filter((a) => a.app === "maraude");
    const acc = list.sort((a, b) => b.enrolledAt - a.enrolledAt)[0];
    if (!acc) return this.screen.set({ kind: "enrol", notice });
    this.screen.set(await this.pinScreen(acc, { notice }));
  }

  /** Enrolment, step 1: key pair, pairing code signed and sent, store key made. */
  async enrol(code: string, label: string): Promise<void> {
    this.screen.set({ kind: "enrol", busy: true });
    this.dropPending();
    let keys: Keys | null = null;
    try {
      keys = await this.takeSpare();
      const { publicKey } = await keys.generate();
      const signed = await keys.signEnrol(code);
      const ok = await enrolDevice(this.cfg.url, {
        code: signed.code,
        publicKey,
        label: label || "téléphone de maraude",
        signature: signed.signature,
      });
      await keys.newStoreKey();
      const p = ok.principal;
      const name = p ? `${p.displayName} — ${p.structureName}` : "Maraude";
      this.pending = { keys, deviceIdHex: toHex(ok.deviceId), serverIdHex: toHex(ok.serverId), label: name, role: p?.role ?? 0 };
      this.screen.set({ kind: "set-pin", label: name });
    } catch (e) {
      keys?.lock();
      this.screen.set({ kind: "enrol", error: errorMessage(e) });
    }
  }

  /** Enrolment, step 2: both keys wrapped under the PIN, the account kept, the round opens. */
  async setPin(pin: string, confirm: string): Promise<void> {
    const p = this.pending;
    if (!p) return this.init();
    const bad = checkPin(pin, confirm);
    if (bad) return this.screen.set({ kind: "set-pin", label: p.label, error: bad });
    this.screen.set({ kind: "set-pin", label: p.label, busy: true });
    try {
      const wrapped = await p.keys.wrap(pin, fromHex(p.deviceIdHex));
      const account: Account = {
        deviceIdHex: p.deviceIdHex,
        serverIdHex: p.serverIdHex,
        wrapped,
        label: p.label,
        role: p.role,
        failedPins: 0,
        opCounter: 0,
        enrolledAt: Date.now(),
        app: "maraude",
      };
      await accounts.put(account);
      this.pending = null;
      await this.open(account, p.keys);
    } catch (e) {
      this.screen.set({ kind: "set-pin", label: p.label, error: errorMessage(e) });
    }
  }

  /** The PIN: opens the round, or counts a wrong one (delays, then the wipe). */
  async signIn(account: Account, pin: string): Promise<void> {
    const cur = await accounts.get(account.deviceIdHex);
    if (!cur) return this.init();
    const waitUntil = (cur.failedAt ?? 0) + pinDelayMs(cur.failedPins);
    if (Date.now() < waitUntil) return this.screen.set(await this.pinScreen(cur, {}));
    this.screen.set({ kind: "pin", account: cur, busy: true });
    let keys: Keys | null = null;
    try {
      keys = await this.takeSpare();
      const r = await keys.unwrap(cur.wrapped, pin, fromHex(cur.deviceIdHex));
      if (r.ok) {
        if (cur.failedPins) await accounts.resetFailedPins(cur.deviceIdHex);
        return await this.open({ ...cur, failedPins: 0 }, keys);
      }
    } catch (e) {
      keys?.lock();
      return this.screen.set({ ...(await this.pinScreen(cur, {})), error: errorMessage(e) });
    }
    keys.lock();
    const left = await accounts.recordFailedPin(cur.deviceIdHex, MAX_PIN_TRIES);
    if (left <= 0) {
      await deleteLocal(cur.deviceIdHex).catch(() => undefined);
      return this.init(
        `${MAX_PIN_TRIES} codes PIN erronés : les données de la maraude ont été effacées de ce téléphone. Demandez un nouveau code d'appairage pour l'enrôler à nouveau.`,
      );
    }
    const after = await accounts.get(cur.deviceIdHex);
    this.screen.set({
      ...(await this.pinScreen(after ?? cur, {})),
      error: `Code PIN incorrect. ${plural(left, "essai restant", "essais restants")}.`,
    });
  }

  /** Ends the round: engine stopped, records dropped, key worker terminated; the PIN again. */
  lock(): void {
    const account = this.account;
    this.end();
    if (account) void this.pinScreen(account, {}).then((s) => this.screen.set(s));
    else void this.init();
  }

  private prepare(): void {
    if (this.spare) return;
    this.spare = Keys.start(this.cfg.workerUrl);
    this.spare.catch(() => undefined); /* takeSpare starts another */
  }

  private takeSpare(): Promise<Keys> {
    const url = this.cfg.workerUrl;
    const keys = this.spare?.catch(() => Keys.start(url)) ?? Keys.start(url);
    this.spare = null;
    return keys;
  }

  private async pinScreen(account: Account, extra: { notice?: string }): Promise<Extract<MaraudeScreen, { kind: "pin" }>> {
    /* once the PIN screen is painted: loading the worker first delayed it */
    requestAnimationFrame(() => setTimeout(() => this.prepare()));
    const waitUntil = account.failedAt ? account.failedAt + pinDelayMs(account.failedPins) : 0;
    const left = MAX_PIN_TRIES - account.failedPins;
    let warning: string | undefined;
    if (account.failedPins > 0 && left <= WARN_FROM) {
      const { pending, rejected } = await outboxCounts(account.deviceIdHex).catch(() => ({ pending: 0, rejected: 0 }));
      const lost = pending + rejected;
      warning =
        `Attention : après ${plural(left, "code faux", "codes faux")} de plus, ce téléphone efface ses données.` +
        (lost ? ` ${plural(lost, "enregistrement pas encore envoyé serait perdu", "enregistrements pas encore envoyés seraient perdus")}.` : "");
    }
    return { kind: "pin", account, waitUntil: waitUntil > Date.now() ? waitUntil : undefined, warning, ...extra };
  }

  private async open(account: Account, keys: Keys): Promise<void> {
    this.keys = keys;
    this.account = account;
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
      url: this.cfg.url,
      deviceIdHex: account.deviceIdHex,
      serverId: fromHex(account.serverIdHex),
      keys,
      client: "veille-maraude-web",
      onStatus: (s) => {
        const before = status.value;
        status.set(s);
        if (s.store === "wiped" && before.store !== "wiped") return void this.wiped(s.error);
        if (s.link.kind !== "live") placesLive = false;
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
    this.engine = engine;

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
        const tokens = foldText(q).split(/\s+/).filter(Boolean);
        if (!tokens.length) return [];
        return persons.value
          .filter((p) => {
            const hay = foldText([p.nickname, p.givenName, p.familyName, p.birthYear ?? ""].join(" "));
            return tokens.every((t) => hay.includes(t));
          })
          .slice(0, SEARCH_MAX);
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
      lock: () => this.lock(),
    };

    document.addEventListener("visibilitychange", this.onHidden);
    window.addEventListener("online", this.onOnline);
    this.idle.start();
    this.askPersist();
    this.screen.set({ kind: "round", round });
    try {
      await engine.start();
    } catch (e) {
      this.end();
      return this.screen.set({ ...(await this.pinScreen(account, {})), error: describe(e) });
    }
    const kept = await engine.store?.places().catch(() => undefined);
    if (kept && !placesLive) {
      placesState.snapshot(kept.snapshot);
      placesSavedAt = kept.savedAtMs;
      showPlaces();
    }
    void reread({ all: true });
  }

  private wiped(error: string | null): void {
    this.end();
    this.screen.set({ kind: "revoked", error: error ?? undefined });
  }

  private end(): void {
    this.idle.stop();
    document.removeEventListener("visibilitychange", this.onHidden);
    window.removeEventListener("online", this.onOnline);
    this.engine?.stop();
    this.engine = null;
    this.keys?.lock();
    this.keys = null;
    this.account = null;
    this.dropPending();
  }

  private dropPending(): void {
    this.pending?.keys.lock();
    this.pending = null;
  }


  /* Asked once per page: a phone that clears storage under pressure would lose the outbox. */
  private askPersist(): void {
    if (this.persistAsked) return;
    this.persistAsked = true;
    const s = navigator.storage;
    if (!s?.persist) return;
    void s
      .persisted()
      .then((yes) => (yes ? true : s.persist()))
      .catch(() => false);
  }
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
