/* The key holder: one Ed25519 key pair at a time, the two proofs it signs (docs/protocol.md,
 * "Auth"), the phone's store key that seals its local values, and both wrapped under a PIN for
 * the browser's storage.
 *
 * Design: libsodium is passed in, never imported, so that the browser runs this in the key
 * worker (keys-worker.ts, the only module importing libsodium) and Node's unit tests run it
 * with libsodium's CommonJS build. Secrets never leave a KeyHolder: its methods return public
 * keys, signatures and wrapped keys. The page reaches it only through keys.ts; this module's
 * other exports (types, KeyError, normalisePairingCode) hold no secret and need no libsodium.
 *
 * Wrapped key (what IndexedDB keeps, store/accounts.ts): the key pair's 32-byte seed sealed
 * with XChaCha20-Poly1305-IETF under a 32-byte key derived from the PIN with argon2id13
 * (opslimit 2, memlimit 19 MiB: OWASP's argon2id minimum; not libsodium's INTERACTIVE, whose
 * 64 MiB would slow every sign-in on a modest desk PC), with additional data
 * "veille.web/v1/key" || device id, so a wrapped key opens only for the device it was made
 * for. A wrong PIN fails the AEAD tag: unwrap says ok: false and nothing else.
 *
 * Store key (the maraude phone only; a desk keeps nothing personal and has none): 32 random
 * bytes made at enrolment, wrapped beside the seed under the same PIN-derived key (its own
 * nonce, additional data "veille.web/v1/store-key" || device id, so neither sealed key can pass
 * for the other). It seals each value of the phone's local store (store/local.ts) with
 * XChaCha20-Poly1305-IETF: nonce (24 bytes) || ciphertext and tag, the additional data naming
 * where the value lives, so a value moved to another place does not open. */
import type sodium from "libsodium-wrappers-sumo";

type Sodium = typeof sodium;

/** A device key (and the phone's store key) as kept at rest: only ever opened by
 * KeyHolder.unwrap with the PIN. */
export interface WrappedKey {
  v: 1;
  salt: Uint8Array; // argon2id salt, 16 bytes
  nonce: Uint8Array; // XChaCha20 nonce, 24 bytes
  ct: Uint8Array; // the sealed 32-byte seed and its 16-byte tag
  opslimit: number;
  memlimit: number;
  /** the store key sealed under the same PIN-derived key; absent on a desk */
  store?: { nonce: Uint8Array; ct: Uint8Array };
}

/** A value and the additional data that binds it to its place (store/local.ts). */
export interface Bound {
  data: Uint8Array;
  ad: Uint8Array;
}

export type UnwrapResult = { ok: true; publicKey: Uint8Array } | { ok: false };

export const PWHASH_OPSLIMIT = 2;
export const PWHASH_MEMLIMIT = 19 * 1024 * 1024;
/* What unwrap accepts from storage: never weaker than what wrap makes, and bounded so that a
 * damaged record cannot make a sign-in run for minutes or take gigabytes. */
const OPSLIMIT_MAX = 16;
const MEMLIMIT_MAX = 256 * 1024 * 1024;
const PIN_MAX_BYTES = 128;
const PAIRING_CODE_MAX = 32; /* bytes of Enrol.pairing_code, as libveille's PROOF_CODE_MAX */
/** Values one sealMany or openMany call takes: a pulled page holds at most 1000 changes. */
export const SEAL_BATCH_MAX = 1000;
/* A sealed value is at most a message the server may send (connection.ts); the additional
 * data is a store name and a key. */
const SEAL_VALUE_MAX = 16 * 1024 * 1024;
const SEAL_AD_MAX = 1024;

const SEED_BYTES = 32;
const WRAP_KEY_BYTES = 32; /* XChaCha20-Poly1305 key */
const STORE_KEY_BYTES = 32; /* XChaCha20-Poly1305 key */
const SALT_BYTES = 16;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const ID_BYTES = 16; /* device_id, server_id */
const CHALLENGE_BYTES = 32;

const encoder = new TextEncoder();
const ENROL_CONTEXT = encoder.encode("veille.v1/enrol");
const AUTH_CONTEXT = encoder.encode("veille.v1/auth");
const WRAP_CONTEXT = encoder.encode("veille.web/v1/key");
const STORE_WRAP_CONTEXT = encoder.encode("veille.web/v1/store-key");

/** The operations the key worker serves, in the order of KeyHolder's methods. */
const KEY_OPS = [
  "generate",
  "newStoreKey",
  "signEnrol",
  "wrap",
  "unwrap",
  "signAuth",
  "sealMany",
  "openMany",
  "forget",
] as const;
export type KeyOp = (typeof KEY_OPS)[number];

/** The worker's messages: requests, and replies with the same id (id 0: the worker is
 * ready, or could not start). */
export interface KeyRequest {
  id: number;
  op: KeyOp;
  args: unknown[];
}
export type KeyReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: KeyErrorCode; message: string } };

/**
 * Why a key operation failed: "no-key" (nothing held: never generated, or forgotten; or no
 * store key), "bad-argument" (a size, a PIN or a pairing code out of its form), "corrupt" (a
 * wrapped key that is not one this code makes, or a sealed value that does not open: damaged,
 * moved, or sealed under another key), "unavailable" (the key worker could not start, timed
 * out or was locked; keys.ts only).
 */
export type KeyErrorCode = "no-key" | "bad-argument" | "corrupt" | "unavailable";

export class KeyError extends Error {
  constructor(
    readonly code: KeyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "KeyError";
  }
}

/**
 * The pairing code as signed and sent (docs/protocol.md, "Enrolment"): "-" and spaces removed,
 * upper-cased, Crockford's I and L read as 1 and O as 0. Null if it holds anything but ASCII
 * letters and digits, or nothing, or more than 32 characters (libveille's proof.c rule; the
 * server then checks the 12-character Crockford form itself).
 */
export function normalisePairingCode(code: string): string | null {
  let out = "";
  for (const c of code) {
    if (c === "-" || c === " ") continue;
    /* ASCII only, tested before upper-casing: "ß".toUpperCase() is "SS" */
    if (!/^[A-Za-z0-9]$/.test(c) || out.length === PAIRING_CODE_MAX) return null;
    const ch = c.toUpperCase();
    out += ch === "I" || ch === "L" ? "1" : ch === "O" ? "0" : ch;
  }
  return out.length ? out : null;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function bytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw new KeyError("bad-argument", `${what}: expected ${length} bytes`);
  return value;
}

function pinBytes(pin: unknown): Uint8Array {
  const b = typeof pin === "string" ? encoder.encode(pin) : null;
  if (!b || b.length === 0 || b.length > PIN_MAX_BYTES)
    throw new KeyError("bad-argument", `PIN: 1 to ${PIN_MAX_BYTES} bytes`);
  return b;
}

function sealedKey(s: unknown): boolean {
  const k = s as WrappedKey["store"];
  return (
    k !== null &&
    typeof k === "object" &&
    k.nonce instanceof Uint8Array &&
    k.nonce.length === NONCE_BYTES &&
    k.ct instanceof Uint8Array &&
    k.ct.length === STORE_KEY_BYTES + TAG_BYTES
  );
}

function checkWrapped(w: unknown): WrappedKey {
  const k = w as Partial<WrappedKey> | null;
  const ok =
    k !== null &&
    typeof k === "object" &&
    k.v === 1 &&
    k.salt instanceof Uint8Array &&
    k.salt.length === SALT_BYTES &&
    k.nonce instanceof Uint8Array &&
    k.nonce.length === NONCE_BYTES &&
    k.ct instanceof Uint8Array &&
    k.ct.length === SEED_BYTES + TAG_BYTES &&
    Number.isInteger(k.opslimit) &&
    k.opslimit! >= PWHASH_OPSLIMIT &&
    k.opslimit! <= OPSLIMIT_MAX &&
    Number.isInteger(k.memlimit) &&
    k.memlimit! >= PWHASH_MEMLIMIT &&
    k.memlimit! <= MEMLIMIT_MAX &&
    (k.store === undefined || sealedKey(k.store));
  if (!ok) throw new KeyError("corrupt", "not a wrapped key of this version");
  return k as WrappedKey;
}

function checkBatch(items: unknown, what: string): Bound[] {
  if (!Array.isArray(items) || items.length > SEAL_BATCH_MAX)
    throw new KeyError("bad-argument", `${what}: 0 to ${SEAL_BATCH_MAX} values`);
  for (const it of items as Partial<Bound>[]) {
    const ok =
      it?.data instanceof Uint8Array &&
      it.data.length <= SEAL_VALUE_MAX &&
      it.ad instanceof Uint8Array &&
      it.ad.length <= SEAL_AD_MAX;
    if (!ok) throw new KeyError("bad-argument", `${what}: values <= ${SEAL_VALUE_MAX} bytes, data <= ${SEAL_AD_MAX}`);
  }
  return items as Bound[];
}

/**
 * Holds at most one device key (the 64-byte libsodium secret key: seed || public key) and,
 * on a phone, one store key. Every method is synchronous; argon2id (wrap, unwrap) takes a few
 * hundred milliseconds, which is why the browser runs this in a worker. Errors: KeyError.
 */
export class KeyHolder {
  private secretKey: Uint8Array | null = null;
  private storeKey: Uint8Array | null = null;

  constructor(private readonly na: Sodium) {}

  /** A new key pair, replacing (and wiping) every key held, the store key included: a phone
   * enrolling calls newStoreKey after it, then wrap. */
  generate(): { publicKey: Uint8Array } {
    this.forget();
    const pair = this.na.crypto_sign_keypair();
    this.secretKey = pair.privateKey;
    return { publicKey: pair.publicKey };
  }

  /** A new store key (32 random bytes), replacing (and wiping) any held. */
  newStoreKey(): void {
    this.wipeStoreKey();
    this.storeKey = this.na.randombytes_buf(STORE_KEY_BYTES);
  }

  /** The enrolment proof: Ed25519("veille.v1/enrol" || public_key || normalised code), and
   * the normalised code, which is what Enrol.pairing_code carries. */
  signEnrol(code: string): { signature: Uint8Array; code: string } {
    const normalised = typeof code === "string" ? normalisePairingCode(code) : null;
    if (normalised === null) throw new KeyError("bad-argument", "pairing code: letters and digits, as XXXX-XXXX-XXXX");
    const sk = this.held();
    const message = concat(ENROL_CONTEXT, sk.subarray(SEED_BYTES), encoder.encode(normalised));
    return { signature: this.na.crypto_sign_detached(message, sk), code: normalised };
  }

  /** The authentication proof: Ed25519("veille.v1/auth" || nonce || server_id || device_id). */
  signAuth(nonce: Uint8Array, serverId: Uint8Array, deviceId: Uint8Array): Uint8Array {
    const message = concat(
      AUTH_CONTEXT,
      bytes(nonce, CHALLENGE_BYTES, "nonce"),
      bytes(serverId, ID_BYTES, "server id"),
      bytes(deviceId, ID_BYTES, "device id"),
    );
    return this.na.crypto_sign_detached(message, this.held());
  }

  /** The key held, and the store key if one is held, sealed under pin for the device
   * deviceId (a fresh salt and nonces). */
  wrap(pin: string, deviceId: Uint8Array): WrappedKey {
    const id = bytes(deviceId, ID_BYTES, "device id");
    const sk = this.held();
    const salt = this.na.randombytes_buf(SALT_BYTES);
    const key = this.derive(pin, salt, PWHASH_OPSLIMIT, PWHASH_MEMLIMIT);
    try {
      const seal = (secret: Uint8Array, context: Uint8Array) => {
        const nonce = this.na.randombytes_buf(NONCE_BYTES);
        const ct = this.na.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, concat(context, id), null, nonce, key);
        return { nonce, ct };
      };
      const { nonce, ct } = seal(sk.subarray(0, SEED_BYTES), WRAP_CONTEXT);
      const wrapped: WrappedKey = { v: 1, salt, nonce, ct, opslimit: PWHASH_OPSLIMIT, memlimit: PWHASH_MEMLIMIT };
      if (this.storeKey) wrapped.store = seal(this.storeKey, STORE_WRAP_CONTEXT);
      return wrapped;
    } finally {
      this.na.memzero(key);
    }
  }

  /**
   * Opens wrapped with pin for deviceId and holds its key, and its store key if it has one
   * (wiping any other). A wrong PIN (or a key wrapped for another device) is { ok: false },
   * the keys held unchanged; a wrapped key of another form, or whose store key does not open
   * with the PIN that opens its seed, throws KeyError "corrupt".
   */
  unwrap(wrapped: WrappedKey, pin: string, deviceId: Uint8Array): UnwrapResult {
    const w = checkWrapped(wrapped);
    const id = bytes(deviceId, ID_BYTES, "device id");
    const key = this.derive(pin, w.salt, w.opslimit, w.memlimit);
    let seed: Uint8Array;
    let storeKey: Uint8Array | null = null;
    try {
      try {
        seed = this.na.crypto_aead_xchacha20poly1305_ietf_decrypt(null, w.ct, concat(WRAP_CONTEXT, id), w.nonce, key);
      } catch {
        return { ok: false };
      }
      if (w.store) {
        try {
          storeKey = this.na.crypto_aead_xchacha20poly1305_ietf_decrypt(
            null,
            w.store.ct,
            concat(STORE_WRAP_CONTEXT, id),
            w.store.nonce,
            key,
          );
        } catch {
          this.na.memzero(seed);
          throw new KeyError("corrupt", "the store key does not open with the device key's PIN");
        }
      }
    } finally {
      this.na.memzero(key);
    }
    this.forget();
    const pair = this.na.crypto_sign_seed_keypair(seed);
    this.na.memzero(seed);
    this.secretKey = pair.privateKey;
    this.storeKey = storeKey;
    return { ok: true, publicKey: pair.publicKey };
  }

  /** Each value sealed under the store key: nonce || ciphertext and tag, bound to its ad. */
  sealMany(items: Bound[]): Uint8Array[] {
    return checkBatch(items, "seal").map((it) => this.seal(it.data, it.ad));
  }

  /** Each sealed value opened; KeyError "corrupt" if any does not open with its ad. */
  openMany(items: Bound[]): Uint8Array[] {
    return checkBatch(items, "open").map((it) => this.open(it.data, it.ad));
  }

  /** plaintext sealed under the store key with a fresh nonce: nonce || ciphertext || tag. */
  seal(plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
    const key = this.heldStoreKey();
    const nonce = this.na.randombytes_buf(NONCE_BYTES);
    return concat(nonce, this.na.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key));
  }

  /** What seal sealed with the same ad. KeyError "corrupt" if the tag does not verify. */
  open(sealed: Uint8Array, ad: Uint8Array): Uint8Array {
    const key = this.heldStoreKey();
    if (!(sealed instanceof Uint8Array) || sealed.length < NONCE_BYTES + TAG_BYTES)
      throw new KeyError("corrupt", "a sealed value is too short");
    try {
      return this.na.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        sealed.subarray(NONCE_BYTES),
        ad,
        sealed.subarray(0, NONCE_BYTES),
        key,
      );
    } catch {
      throw new KeyError("corrupt", "a sealed value does not open: damaged, moved, or sealed under another key");
    }
  }

  /** Wipes the keys held, if any. */
  forget(): void {
    if (this.secretKey) this.na.memzero(this.secretKey);
    this.secretKey = null;
    this.wipeStoreKey();
  }

  private wipeStoreKey(): void {
    if (this.storeKey) this.na.memzero(this.storeKey);
    this.storeKey = null;
  }

  private heldStoreKey(): Uint8Array {
    if (!this.storeKey) throw new KeyError("no-key", "no store key held: sign in on the phone first");
    return this.storeKey;
  }

  private held(): Uint8Array {
    if (!this.secretKey) throw new KeyError("no-key", "no key held: sign in first");
    return this.secretKey;
  }

  private derive(pin: string, salt: Uint8Array, opslimit: number, memlimit: number): Uint8Array {
    const p = pinBytes(pin);
    try {
      return this.na.crypto_pwhash(WRAP_KEY_BYTES, p, salt, opslimit, memlimit, this.na.crypto_pwhash_ALG_ARGON2ID13);
    } finally {
      this.na.memzero(p);
    }
  }
}

/** The worker's answer to one request (keys-worker.ts), errors included. */
export function answer(holder: KeyHolder, req: KeyRequest): KeyReply {
  const { id, op, args } = req;
  try {
    if (!KEY_OPS.includes(op) || !Array.isArray(args)) throw new KeyError("bad-argument", "unknown operation");
    const method = holder[op] as (...a: unknown[]) => unknown;
    return { id, ok: true, result: method.apply(holder, args) };
  } catch (e) {
    return failure(id, e);
  }
}

/** A failed reply: KeyErrors as they are, anything else (a TypeError from libsodium on an
 * argument of the wrong type) as "bad-argument". */
export function failure(id: number, e: unknown): KeyReply {
  const error =
    e instanceof KeyError
      ? { code: e.code, message: e.message }
      : { code: "bad-argument" as const, message: e instanceof Error ? e.message : String(e) };
  return { id, ok: false, error };
}
