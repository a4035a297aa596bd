/* The professionals enrolled in this browser: IndexedDB database "veille-desk", store
 * "accounts", one record per device (a shared terminal holds several).
 *
 * NOTHING ABOUT A PERSON IS EVER WRITTEN HERE, nor anywhere else in the browser's storage
 * (docs/web.md): only what a professional needs to sign in again — the device and server ids,
 * the device key wrapped under their PIN (crypto/keycore.ts), the label shown in the sign-in
 * list (their display name and structure), their role, the count of wrong PINs, the last op
 * counter used and the last HLC time. Records, places and views live in memory only.
 *
 * Each function is one transaction; those that change a value read it in the same
 * transaction, so two tabs cannot interleave (op counters are reserved before use and never
 * given twice, docs/sync.md). Errors: the DOMException of IndexedDB (quota, closed...). */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { WrappedKey } from "../crypto/keycore";

export interface Account {
  deviceIdHex: string; // 32 lowercase hex: the key
  serverIdHex: string;
  wrapped: WrappedKey;
  /** the professional's display name and structure name, shown in the sign-in list */
  label: string;
  role: number; // Role of auth.proto
  failedPins: number; // wrong PINs since the last good one
  opCounter: number; // the last op counter reserved: the next op uses opCounter + 1
  hlc?: { wallMs: number; counter: number }; // the clock's last stamp (net/hlc.ts)
  enrolledAt: number; // ms since the epoch
  failedAt?: number; // ms since the epoch of the last wrong PIN (the phone's growing delays)
  /** "maraude": the phone app's account (/maraude/, with a sealed local store); absent: a
   * desk's. Both apps share the origin, hence this database: each lists only its own. */
  app?: "maraude";
}

/** Wrong PINs in a row that erase the account's wrapped key: the professional pairs again. */
export const MAX_FAILED_PINS = 5;
/** Op counters one call may reserve (a push holds at most 1000 mutations). */
const MAX_RESERVED = 1000;

const DB_NAME = "veille-desk";
const DB_VERSION = 1;
const STORE = "accounts";

interface DeskDB extends DBSchema {
  accounts: { key: string; value: Account };
}

let opened: Promise<IDBPDatabase<DeskDB>> | null = null;

/* One connection per page, opened on first use; let go when another tab needs to delete or
 * upgrade the database (the next call opens it again). */
function db(): Promise<IDBPDatabase<DeskDB>> {
  opened ??= openDB<DeskDB>(DB_NAME, DB_VERSION, {
    upgrade(d) {
      d.createObjectStore(STORE, { keyPath: "deviceIdHex" });
    },
    blocking() {
      void release();
    },
    terminated() {
      opened = null;
    },
  });
  return opened;
}

async function release(): Promise<void> {
  const p = opened;
  opened = null;
  if (p) (await p).close();
}

/* What a change does: write the account anew, erase it, or neither; and what it returns. */
type Change<T> = { save?: Account; erase?: true; result: T };

/* Applies change to the account in one read-write transaction; undefined if there is none. */
async function update<T>(deviceIdHex: string, change: (acc: Account) => Change<T>): Promise<T | undefined> {
  const tx = (await db()).transaction(STORE, "readwrite");
  const acc = await tx.store.get(deviceIdHex);
  const c = acc && change(acc);
  if (c?.save) await tx.store.put(c.save);
  if (c?.erase) await tx.store.delete(deviceIdHex);
  await tx.done;
  return c?.result;
}

export async function list(): Promise<Account[]> {
  return (await db()).getAll(STORE);
}

export async function get(deviceIdHex: string): Promise<Account | undefined> {
  return (await db()).get(STORE, deviceIdHex);
}

/** Adds or replaces the account of acc.deviceIdHex (32 lowercase hex, else RangeError). */
export async function put(acc: Account): Promise<void> {
  if (!/^[0-9a-f]{32}$/.test(acc.deviceIdHex)) throw new RangeError("deviceIdHex: 32 lowercase hex");
  await (await db()).put(STORE, acc);
}

export async function remove(deviceIdHex: string): Promise<void> {
  await (await db()).delete(STORE, deviceIdHex);
}

/** Counts a wrong PIN (and when: failedAt); returns how many tries remain. The max-th
 * (MAX_FAILED_PINS on a desk; the phone allows more, with growing delays) erases the account
 * (0 remain); an account already gone has 0 too. */
export async function recordFailedPin(deviceIdHex: string, max = MAX_FAILED_PINS, nowMs = Date.now()): Promise<number> {
  const remaining = await update(deviceIdHex, (acc) => {
    const failedPins = acc.failedPins + 1;
    return failedPins >= max
      ? { erase: true, result: 0 }
      : { save: { ...acc, failedPins, failedAt: nowMs }, result: max - failedPins };
  });
  return remaining ?? 0;
}

/** After a good PIN. */
export async function resetFailedPins(deviceIdHex: string): Promise<void> {
  await update(deviceIdHex, (acc) =>
    acc.failedPins ? { save: { ...acc, failedPins: 0 }, result: null } : { result: null },
  );
}

/**
 * Reserves n (1 to 1000) op counters, durably, before they are used: returns the first; the
 * caller numbers its ops first, first + 1, ... first + n - 1. A counter reserved and not used
 * is only a hole: counters need to increase, not to be contiguous. Error: no such account.
 */
export async function nextOpCounters(deviceIdHex: string, n: number): Promise<number> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_RESERVED) throw new RangeError(`reserve 1 to ${MAX_RESERVED} counters`);
  const first = await update(deviceIdHex, (acc) => ({
    save: { ...acc, opCounter: acc.opCounter + n },
    result: acc.opCounter + 1,
  }));
  if (first === undefined) throw new Error("no such account");
  return first;
}

/** Keeps the clock's last stamp, never going back (another tab may have gone further). */
export async function saveHlc(deviceIdHex: string, hlc: { wallMs: number; counter: number }): Promise<void> {
  await update(deviceIdHex, (acc) => {
    const cur = acc.hlc;
    const later = !cur || hlc.wallMs > cur.wallMs || (hlc.wallMs === cur.wallMs && hlc.counter > cur.counter);
    return later
      ? { save: { ...acc, hlc: { wallMs: hlc.wallMs, counter: hlc.counter } }, result: null }
      : { result: null };
  });
}

/** Deletes the whole database: every account of this browser (a full reset). */
export async function wipeAll(): Promise<void> {
  await release();
  await deleteDB(DB_NAME);
}
