/* The maraude phone: what state/app.ts and state/desk.ts are to the desk, over the sync engine
 * (sync/engine.ts) and the sealed local store (store/local.ts). This module is the gate
 * (enrolment, PIN, lock); an opened round is state/round.ts, loaded once the PIN screen is
 * painted, so that the first paint evaluates no protocol code.
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
 * (visibilitychange), the button, a revocation: the engine stops (connection closed, store
 * closed), every record held in memory is dropped, the key worker is terminated. */
import { Keys } from "../crypto/keys";
import { fromHex, toHex } from "../net/ids";
import * as accounts from "../store/accounts";
import type { Account } from "../store/accounts";
import type { SyncEngine, SyncStatus } from "../sync/engine";
import { IdleTimer } from "./idle";
import { Observable } from "./observable";
import { checkPin, PIN_MAX, PIN_MIN } from "./pin";
import type { Round } from "./round";

export { PIN_MAX, PIN_MIN, type Account, type SyncStatus };
export type { EncounterItem, NewEncounterInput, OutboxItem, Outcome, PersonItem, PlacesNow, Round } from "./round";

/* The round's module, with the protocol's and the store's code the gate uses: loaded after
 * the first paint, once. */
const later = () => import("./round");

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
  | { kind: "round"; round: Round };

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
   * starts one and loads the round's module (state/round.ts), so that they load while the PIN
   * is typed (the worker's start took 130 ms of a 400 ms unlock at CPU x4); the next sign-in
   * (or enrolment, after a wipe) takes the worker. */
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
      const ok = await (await later()).enrol(this.cfg.url, {
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
      this.screen.set({ kind: "enrol", error: await message(e) });
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
      this.screen.set({ kind: "set-pin", label: p.label, error: await message(e) });
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
      console.error("maraude: opening failed:", e instanceof Error ? `${e.name}: ${e.message}` : e);
      keys?.lock();
      return this.screen.set({ ...(await this.pinScreen(cur, {})), error: await message(e) });
    }
    keys.lock();
    const left = await accounts.recordFailedPin(cur.deviceIdHex, MAX_PIN_TRIES);
    if (left <= 0) {
      await later().then((l) => l.deleteLocal(cur.deviceIdHex)).catch(() => undefined);
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
    void later().catch(() => undefined); /* open() asks again */
  }

  private takeSpare(): Promise<Keys> {
    const url = this.cfg.workerUrl;
    const keys = this.spare?.catch(() => Keys.start(url)) ?? Keys.start(url);
    this.spare = null;
    return keys;
  }

  private async pinScreen(account: Account, extra: { notice?: string }): Promise<Extract<MaraudeScreen, { kind: "pin" }>> {
    /* once the PIN screen is painted: loading them first delayed it */
    requestAnimationFrame(() => setTimeout(() => this.prepare()));
    const waitUntil = account.failedAt ? account.failedAt + pinDelayMs(account.failedPins) : 0;
    const left = MAX_PIN_TRIES - account.failedPins;
    let warning: string | undefined;
    if (account.failedPins > 0 && left <= WARN_FROM) {
      const { pending, rejected } = await later()
        .then((l) => l.outboxCounts(account.deviceIdHex))
        .catch(() => ({ pending: 0, rejected: 0 }));
      const lost = pending + rejected;
      warning =
        `Attention : après ${plural(left, "code faux", "codes faux")} de plus, ce téléphone efface ses données.` +
        (lost ? ` ${plural(lost, "enregistrement pas encore envoyé serait perdu", "enregistrements pas encore envoyés seraient perdus")}.` : "");
    }
    return { kind: "pin", account, waitUntil: waitUntil > Date.now() ? waitUntil : undefined, warning, ...extra };
  }

  private async open(account: Account, keys: Keys): Promise<void> {
    const { describe, openRound } = await later();
    this.keys = keys;
    this.account = account;
    const opened = openRound({ url: this.cfg.url, account, keys, lock: () => this.lock(), wiped: () => this.wiped() });
    this.engine = opened.engine;
    document.addEventListener("visibilitychange", this.onHidden);
    window.addEventListener("online", this.onOnline);
    this.idle.start();
    this.askPersist();
    this.screen.set({ kind: "round", round: opened.round });
    try {
      await opened.start();
    } catch (e) {
      console.error("maraude: the local store did not open:", e instanceof Error ? `${e.name}: ${e.message}` : e);
      this.end();
      return this.screen.set({ ...(await this.pinScreen(account, {})), error: describe(e) });
    }
  }

  private wiped(): void {
    this.end();
    void this.init("Ce téléphone a été révoqué : ses données de maraude ont été effacées. Demandez un nouveau code d'appairage.");
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

/* A failure in French (net/errors.ts, loaded with the round's module). */
async function message(e: unknown): Promise<string> {
  try {
    return (await later()).errorMessage(e);
  } catch {
    return "L'application n'a pas pu se charger entièrement. Rechargez la page.";
  }
}
