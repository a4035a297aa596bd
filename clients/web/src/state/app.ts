/* The terminal's sessions (Bitwarden's model, WEB.md): several professionals may enrol their
 * own key in one browser; each key is kept only wrapped under their PIN (store/accounts.ts)
 * and unwrapped in the key worker at sign-in. `lock()` is the one way a session ends — the
 * inactivity timer, the lock button, sign-out and revocation all call it: it closes the desk
 * (every record dropped) and terminates the key worker (every key gone). Sign-out then
 * leaves the page for /signout, whose answer clears the HTTP cache (Clear-Site-Data). */
import { Keys } from "../crypto/keys";
import { enrol as enrolDevice } from "../net/connection";
import { errorMessage } from "../net/errors";
import { fromHex, toHex } from "../net/ids";
import * as accounts from "../store/accounts";
import type { Account } from "../store/accounts";

export type { Account };
import { DeskSession } from "./desk";
import type { Desk, LinkStatus } from "./model";
import { IdleTimer } from "./idle";
import { Observable } from "./observable";
import { checkPin } from "./pin";

export { checkPin, PIN_MAX, PIN_MIN } from "./pin";
export const PIN_TRIES = 5;

export interface AppConfig {
  url: string; /* ws(s)://host/sync */
  workerUrl: string;
  lockSeconds: number;
  tiles: Desk["tiles"];
}

export type Screen =
  | { kind: "loading" }
  | { kind: "accounts"; accounts: Account[]; notice?: string }
  | { kind: "enrol"; error?: string; notice?: string; busy?: boolean; canCancel?: boolean }
  | { kind: "set-pin"; label: string; error?: string; busy?: boolean }
  | { kind: "pin"; account: Account; locked: boolean; error?: string; busy?: boolean }
  | { kind: "connecting"; account: Account; link: LinkStatus }
  | { kind: "desk"; desk: Desk };

interface PendingEnrolment {
  keys: Keys;
  deviceIdHex: string;
  serverIdHex: string;
  label: string;
  role: number;
}


export class App {
  readonly screen = new Observable<Screen>({ kind: "loading" });
  private keys: Keys | null = null;
  private session: DeskSession | null = null;
  private pending: PendingEnrolment | null = null;
  private readonly idle: IdleTimer;

  constructor(private readonly cfg: AppConfig) {
    this.idle = new IdleTimer(cfg.lockSeconds, () => this.lock());
  }

  async init(notice?: string): Promise<void> {
    /* the maraude phone app's account (same origin, same database) is not a desk's */
    const list = (await accounts.list()).filter((a) => a.app !== "maraude");
    this.screen.set(list.length ? { kind: "accounts", accounts: list, notice } : { kind: "enrol", notice });
  }

  showEnrol(): void {
    this.screen.set({ kind: "enrol", canCancel: true });
  }

  async showAccounts(): Promise<void> {
    this.dropPending();
    await this.init();
  }

  choose(account: Account): void {
    this.screen.set({ kind: "pin", account, locked: false });
  }

  /** Step 1 of enrolment: a new Ed25519 key pair made in the key worker, the pairing code
   * signed with it (proof of possession) and sent; the server answers the device id. */
  async enrol(code: string, label: string): Promise<void> {
    const canCancel = this.screen.value.kind === "enrol" && this.screen.value.canCancel;
    this.screen.set({ kind: "enrol", busy: true, canCancel });
    this.dropPending();
    const started = await startKeys(this.cfg.workerUrl);
    if (!started.ok) return this.screen.set({ kind: "enrol", error: started.error, canCancel });
    const keys = started.keys;
    try {
      const { publicKey } = await keys.generate();
      const signed = await keys.signEnrol(code);
      const ok = await enrolDevice(this.cfg.url, { code: signed.code, publicKey, label: label || "poste web", signature: signed.signature });
      const p = ok.principal;
      const name = p ? `${p.displayName} — ${p.structureName}` : "Professionnel";
      this.pending = { keys, deviceIdHex: toHex(ok.deviceId), serverIdHex: toHex(ok.serverId), label: name, role: p?.role ?? 0 };
      this.screen.set({ kind: "set-pin", label: name });
    } catch (e) {
      keys.lock();
      this.screen.set({ kind: "enrol", error: errorMessage(e), canCancel });
    }
  }

  /** Step 2: the PIN chosen; the key is wrapped under it and stored, then the desk opens. */
  async setPin(pin: string, confirm: string): Promise<void> {
    const p = this.pending;
    if (!p) return this.init();
    const bad = checkPin(pin, confirm);
    if (bad) return this.screen.set({ kind: "set-pin", label: p.label, error: bad });
    this.screen.set({ kind: "set-pin", label: p.label, busy: true });
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
    };
    await accounts.put(account);
    this.pending = null;
    this.open(account, p.keys);
  }

  /** Sign-in (or unlock): the PIN unwraps the key in a fresh key worker. Five wrong PINs in
   * a row erase this professional's wrapped key from the browser. */
  async signIn(account: Account, pin: string, locked: boolean): Promise<void> {
    this.screen.set({ kind: "pin", account, locked, busy: true });
    const started = await startKeys(this.cfg.workerUrl);
    if (!started.ok) return this.screen.set({ kind: "pin", account, locked, error: started.error });
    const keys = started.keys;
    const r = await keys.unwrap(account.wrapped, pin, fromHex(account.deviceIdHex));
    if (!r.ok) {
      keys.lock();
      const left = await accounts.recordFailedPin(account.deviceIdHex);
      if (left <= 0) {
        return this.init(
          `${PIN_TRIES} codes PIN erronés : la clé de « ${account.label} » a été effacée de ce navigateur. Demandez un nouveau code d'appairage pour enrôler ce poste à nouveau.`,
        );
      }
      return this.screen.set({
        kind: "pin",
        account,
        locked,
        error: `Code PIN incorrect. Il reste ${left} essai${left > 1 ? "s" : ""} avant l'effacement de votre clé sur ce poste.`,
      });
    }
    await accounts.resetFailedPins(account.deviceIdHex);
    this.open({ ...account, failedPins: 0 }, keys);
  }

  /** Ends the session: desk closed (records dropped), key worker terminated (keys gone). */
  lock(): void {
    const account = this.current();
    this.end();
    if (account) this.screen.set({ kind: "pin", account, locked: true });
    else void this.init();
  }

  /** Lock, then leave for /signout: the server's answer clears the HTTP cache and brings the
   * sign-in page back, with a fresh page (nothing of this one stays in memory). The wrapped
   * keys stay: signing out is not forgetting the terminal. */
  signOut(): void {
    this.end();
    this.screen.set({ kind: "loading" });
    location.replace(new URL("signout", document.baseURI).href);
  }

  /** Removes a professional's wrapped key from this browser (they pair again). */
  async forget(account: Account): Promise<void> {
    await accounts.remove(account.deviceIdHex);
    await this.init("Ce poste a été retiré de ce navigateur.");
  }

  private current(): Account | null {
    const s = this.screen.value;
    return s.kind === "pin" || s.kind === "connecting" ? s.account : this.sessionAccount;
  }

  private sessionAccount: Account | null = null;

  private open(account: Account, keys: Keys): void {
    this.keys = keys;
    this.sessionAccount = account;
    const session = new DeskSession({
      url: this.cfg.url,
      account,
      keys,
      tiles: this.cfg.tiles,
      onReady: (desk) => this.screen.set({ kind: "desk", desk }),
      onRevoked: () => void this.revoked(account),
      lock: () => this.lock(),
      signOut: () => this.signOut(),
    });
    this.session = session;
    this.screen.set({ kind: "connecting", account, link: session.link.value });
    session.link.subscribe((link) => {
      const s = this.screen.value;
      if (s.kind === "connecting" && this.session === session) this.screen.set({ ...s, link });
    });
    this.idle.start();
    session.start();
  }

  private async revoked(account: Account): Promise<void> {
    this.end();
    await accounts.remove(account.deviceIdHex);
    await this.init("Ce poste a été révoqué par l'administration : sa clé a été effacée de ce navigateur.");
  }

  private end(): void {
    this.idle.stop();
    this.session?.close();
    this.session = null;
    this.keys?.lock();
    this.keys = null;
    this.sessionAccount = null;
    this.dropPending();
  }

  private dropPending(): void {
    this.pending?.keys.lock();
    this.pending = null;
  }

}

/* The key worker, or why it could not start: its script comes from the server (the HTTP cache
 * is cleared at sign-out), so with the server unreachable there is nothing to unwrap with. */
async function startKeys(url: string): Promise<{ ok: true; keys: Keys } | { ok: false; error: string }> {
  try {
    return { ok: true, keys: await Keys.start(url) };
  } catch {
    return {
      ok: false,
      error: "Le serveur veille est injoignable : le module de chiffrement n'a pas pu être chargé. Vérifiez la connexion, puis réessayez.",
    };
  }
}

