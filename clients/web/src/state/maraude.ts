/* The maraude phone's gate: what state/app.ts is to the desk. It enrols the phone, opens a
 * round with the PIN and ends it; the round itself (the sync engine over the sealed local
 * store, what the views show: state/roundSession.ts) is a module of its own, loaded once the
 * first screen is painted, so that the PIN screen waits for none of it.
 *
 * One phone, one professional: the phone's account (store/accounts.ts, its device key and
 * store key wrapped under the PIN). Enrolment: a key pair made in the key worker, the pairing
 * code signed and sent, then a store key made, both wrapped under the PIN chosen, the account
 * kept. Opening: the PIN unwraps them in a fresh key worker; the round opens the store,
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
import { fromHex, toHex } from "../net/ids";
import * as accounts from "../store/accounts";
import type { Account } from "../store/accounts";
import { IdleTimer } from "./idle";
import { Observable } from "./observable";
import { checkPin, PIN_MAX, PIN_MIN } from "./pin";
import type { Round, RoundSession } from "./roundSession";

export { PIN_MAX, PIN_MIN, type Account };
export type { EncounterItem, NewEncounterInput, Outcome, OutboxItem, PersonItem, PlacesNow, RequestItem, Round, SyncStatus } from "./roundSession";

/* What the PIN screen does not need, loaded once it is painted (see prepare): the round (the
 * engine, the store, the protocol's code), which also brings what the gate's rarer paths use:
 * enrolment's request, the errors' French (it holds the protocol's error codes), the store's
 * count and erasure (the last PIN tries, the wipe). One module, not one per need: each module
 * the first paint shares with it is a file of its own, and a first visit over a slow link
 * waits for every file at once. */
const roundCode = () => import("./roundSession");

/* An error in French. */
async function describe(e: unknown): Promise<string> {
  try {
    return (await roundCode()).errorMessage(e);
  } catch {
    return UNLOADED;
  }
}
/** What a screen says when a module of the app did not load. */
export const UNLOADED = "L'application n'a pas pu se charger entièrement. Rechargez la page.";

/** Wrong PINs in a row that wipe the phone. */
export const MAX_PIN_TRIES = 10;
/** The wait before the next try, in seconds, after n wrong PINs (index n - 1). */
const PIN_DELAYS_S = [0, 0, 0, 5, 15, 30, 60, 120, 300];
/** From this many tries left, the PIN screen says what a wipe would lose. */
const WARN_FROM = 3;
export const DEFAULT_LOCK_SECONDS = 120;

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
  private session: RoundSession | null = null;
  private account: Account | null = null;
  private pending: { keys: Keys; deviceIdHex: string; serverIdHex: string; label: string; role: number } | null = null;
  private readonly idle: IdleTimer;
  private readonly onHidden = () => {
    if (document.visibilityState === "hidden") this.lock();
  };
  private readonly onOnline = () => this.session?.syncNow();
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
      const { enrolDevice } = await roundCode();
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
      this.screen.set({ kind: "enrol", error: await describe(e) });
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
      this.screen.set({ kind: "set-pin", label: p.label, error: await describe(e) });
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
      return this.screen.set({ ...(await this.pinScreen(cur, {})), error: await describe(e) });
    }
    keys.lock();
    const left = await accounts.recordFailedPin(cur.deviceIdHex, MAX_PIN_TRIES);
    if (left <= 0) {
      await roundCode()
        .then((m) => m.deleteLocal(cur.deviceIdHex))
        .catch(() => undefined);
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
    void roundCode().catch(() => undefined); /* open() asks again, and says why it failed */
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
      const { pending, rejected } = await roundCode()
        .then((m) => m.outboxCounts(account.deviceIdHex))
        .catch(() => ({ pending: 0, rejected: 0 }));
      const lost = pending + rejected;
      warning =
        `Attention : après ${plural(left, "code faux", "codes faux")} de plus, ce téléphone efface ses données.` +
        (lost ? ` ${plural(lost, "enregistrement pas encore envoyé serait perdu", "enregistrements pas encore envoyés seraient perdus")}.` : "");
    }
    return { kind: "pin", account, waitUntil: waitUntil > Date.now() ? waitUntil : undefined, warning, ...extra };
  }

  /* The round, once its code is loaded (precached: offline too). */
  private async open(account: Account, keys: Keys): Promise<void> {
    this.keys = keys;
    this.account = account;
    let round: typeof import("./roundSession");
    try {
      round = await roundCode();
    } catch {
      this.end();
      return this.screen.set({ ...(await this.pinScreen(account, {})), error: UNLOADED });
    }
    if (this.keys !== keys) return; /* locked meanwhile */
    const session = round.openRound({
      url: this.cfg.url,
      account,
      keys,
      onWiped: (error) => this.wiped(error),
      onLock: () => this.lock(),
    });
    this.session = session;
    document.addEventListener("visibilitychange", this.onHidden);
    window.addEventListener("online", this.onOnline);
    this.idle.start();
    this.askPersist();
    this.screen.set({ kind: "round", round: session.round });
    const error = await session.start();
    if (error && this.session === session) {
      this.end();
      this.screen.set({ ...(await this.pinScreen(account, {})), error });
    }
  }

  private wiped(error: string | null): void {
    this.end();
    this.screen.set({ kind: "revoked", error: error ?? undefined });
  }

  private end(): void {
    this.idle.stop();
    document.removeEventListener("visibilitychange", this.onHidden);
    window.removeEventListener("online", this.onOnline);
    this.session?.stop();
    this.session = null;
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

