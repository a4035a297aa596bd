/* The page's handle on the key worker (keys-worker.ts): every method is a message to it and
 * its answer. The page never imports libsodium and never sees a secret key: it gets public
 * keys, signatures, wrapped keys, and the phone's values sealed or opened under its store
 * key. lock() is the one way keys leave memory (timeout, lock button, sign-out, revocation
 * all call it): the worker is told to wipe its keys and then terminated, and this handle is
 * dead; the next sign-in starts a new one.
 *
 * The worker's URL is the built file's (index.html's <meta name="veille-keys-worker">). */
import {
  KeyError,
  type Bound,
  type KeyHolder,
  type KeyOp,
  type KeyReply,
  type KeyRequest,
  type UnwrapResult,
  type WrappedKey,
} from "./keycore";

export { KeyError, type Bound, type KeyErrorCode, type UnwrapResult, type WrappedKey } from "./keycore";

/* argon2id takes well under a second on a desk PC; far past that the worker is stuck. */
const CALL_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 15_000;
/* How long lock() lets the worker wipe its key before terminating it anyway. */
const WIPE_GRACE_MS = 250;

type Op<K extends KeyOp> = KeyHolder[K] extends (...a: infer A) => infer R ? { args: A; result: R } : never;

interface Pending {
  resolve(v: unknown): void;
  reject(e: KeyError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Keys {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private locked = false;

  private constructor(private readonly worker: Worker) {
    worker.addEventListener("message", (ev: MessageEvent<KeyReply>) => this.settle(ev.data));
    worker.addEventListener("error", () => this.lock());
  }

  /** Starts a key worker and waits until libsodium is ready in it. Errors: KeyError
   * "unavailable" (the script did not load, libsodium could not start, or too slow). */
  static start(workerUrl: string | URL): Promise<Keys> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerUrl, { type: "module", name: "veille-keys" });
      const fail = (why: string) => {
        clearTimeout(timer);
        worker.terminate();
        reject(new KeyError("unavailable", `key worker: ${why}`));
      };
      const timer = setTimeout(() => fail("not ready in time"), START_TIMEOUT_MS);
      const onReady = (ev: MessageEvent<KeyReply>) => {
        if (ev.data.id !== 0) return;
        worker.removeEventListener("message", onReady);
        worker.removeEventListener("error", onError);
        if (!ev.data.ok) return fail(ev.data.error.message);
        clearTimeout(timer);
        resolve(new Keys(worker));
      };
      const onError = (ev: ErrorEvent) => fail(ev.message || "cannot load");
      worker.addEventListener("message", onReady);
      worker.addEventListener("error", onError);
    });
  }

  /** A new key pair in the worker (any key held there is wiped); its public key. */
  generate(): Promise<{ publicKey: Uint8Array }> {
    return this.call("generate");
  }

  /** A new store key in the worker (the phone, at enrolment: after generate, before wrap). */
  newStoreKey(): Promise<void> {
    return this.call("newStoreKey");
  }

  /** The enrolment proof for the key held, and the normalised code to send with it. */
  signEnrol(code: string): Promise<{ signature: Uint8Array; code: string }> {
    return this.call("signEnrol", code);
  }

  /** The key held (and the store key, if held), wrapped under pin for deviceId (argon2id: a
   * few hundred ms). */
  wrap(pin: string, deviceId: Uint8Array): Promise<WrappedKey> {
    return this.call("wrap", pin, deviceId);
  }

  /** Opens a wrapped key with pin: { ok: true, publicKey } and the worker holds it (and its
   * store key), or { ok: false } for a wrong PIN (never a rejection for that). */
  unwrap(wrapped: WrappedKey, pin: string, deviceId: Uint8Array): Promise<UnwrapResult> {
    return this.call("unwrap", wrapped, pin, deviceId);
  }

  /** The authentication proof of the key held (Connection's Signer). */
  signAuth(nonce: Uint8Array, serverId: Uint8Array, deviceId: Uint8Array): Promise<Uint8Array> {
    return this.call("signAuth", nonce, serverId, deviceId);
  }

  /** Up to SEAL_BATCH_MAX values sealed under the store key, each bound to its ad: one
   * message for them all (store/local.ts seals what a transaction writes before opening it). */
  sealMany(items: Bound[]): Promise<Uint8Array[]> {
    return this.call("sealMany", items);
  }

  /** Up to SEAL_BATCH_MAX sealed values opened; KeyError "corrupt" if any does not open. */
  openMany(items: Bound[]): Promise<Uint8Array[]> {
    return this.call("openMany", items);
  }

  /** Drops every key: pending and later calls reject with KeyError "unavailable". Idempotent. */
  lock(): void {
    if (this.locked) return;
    this.locked = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new KeyError("unavailable", "locked"));
    }
    this.pending.clear();
    /* Ask for a wipe (memzero) first, so the key's bytes do not linger in freed memory. */
    const terminate = () => this.worker.terminate();
    const grace = setTimeout(terminate, WIPE_GRACE_MS);
    this.worker.addEventListener("message", () => {
      clearTimeout(grace);
      terminate();
    });
    this.worker.postMessage({ id: this.nextId++, op: "forget", args: [] } satisfies KeyRequest);
  }

  private call<K extends KeyOp>(op: K, ...args: Op<K>["args"]): Promise<Op<K>["result"]> {
    if (this.locked) return Promise.reject(new KeyError("unavailable", "locked"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new KeyError("unavailable", `key worker: no answer to ${op}`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.worker.postMessage({ id, op, args } satisfies KeyRequest);
    });
  }

  private settle(reply: KeyReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new KeyError(reply.error.code, reply.error.message));
  }
}
