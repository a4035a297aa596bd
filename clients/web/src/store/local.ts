/* The maraude phone's local store (docs/sync.md, "Client behaviour"), the web twin of
 * libveille's local.c, outbox.c and replica.c, in the same words: IndexedDB database
 * "veille-maraude-<device id hex>", one per enrolled phone.
 *
 *   records  record id -> the newest Change the phone holds of it (sealed), and its kind
 *   outbox   op counter -> an op not yet acknowledged (sealed Mutation), "pending"; or one the
 *            server answered CONFLICT or REJECTED, "rejected", with its OpResult, until the
 *            user discards it (libveille's problems); with its "save", the op counter of the
 *            record it was saved with, for the user: its own, but for a person's edit queued
 *            with an encounter or a request about them (a new person met), the latter's
 *   edits    person id -> this phone's own profile edits not yet seen back in a pulled
 *            profile, and the colleagues' values that won over some (sealed PersonEdits,
 *            store/person.ts), until the user acknowledges them
 *   meta     one entry, nothing personal: the last op counter, the pull cursor, the clock L,
 *            the lease's end, the last sync, and `rev`, the number of writes so far
 *   places   the last places snapshot and when it came (OPERATIONAL, not personal)
 *
 * Sealing: every personal value (a Change, a Mutation, PersonEdits) is sealed with the
 * phone's store key before it is written, by a Sealer (crypto/keys.ts: the key worker), the
 * additional data naming where it lives ("veille.web/v1/records/<record id>",
 * "veille.web/v1/outbox/<op counter>", "veille.web/v1/edits/<person id>"). Record ids, kinds,
 * op counters and the server's reasons stay plain: ids are random, reasons never hold a value
 * (net/errors.ts).
 *
 * One write, one transaction. IndexedDB commits a transaction as soon as it has no request
 * pending, so it cannot wait for the key worker: a write reads what it needs and seals its
 * values first, then writes them in one read-write transaction that first checks that meta's
 * rev is still the one it read (nothing was written since, by this page or another tab) and
 * raises it. If rev moved, the write starts over from the read, at most WRITE_ATTEMPTS times.
 * Writes of this page are also run one at a time, so they never make each other start over.
 * Hence, as in libveille: an op, its counter and the clock it ticked are written together, so
 * a counter is never given twice nor lost with its op; an op leaves the outbox only in the
 * transaction that records its result; a pulled page and the cursor after it are written
 * together, so a phone killed mid-pull resumes from the last page it stored. A person edit's
 * entry in `edits` is written with its op, and what a pulled page teaches of it with the page.
 * A save (queue) is written with IndexedDB's "strict" durability: it completes once on the
 * disk, so a phone whose battery dies just after "Rencontre enregistrée" still holds it; the
 * other writes (results, pulled pages, places) hold what the server has and would send again,
 * and take the browser's default.
 *
 * Records: events (encounters, orientation records) are replaced by a version at least as
 * new (the server's copy of the version this phone had acknowledged carries the team and
 * author it set); persons are merged field by field on their stamps (store/person.ts), so
 * pulled profiles and this phone's acknowledged edits fold in any order. What the phone shows
 * of a record (get, all) is the held change with the pending ops about it folded in; rejected
 * ops are not folded: they are listed apart.
 *
 * Errors: LocalError (French message, English detail); KeyError from the sealer. */
import {
  clone,
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { deleteDB, openDB, unwrap, type DBSchema, type IDBPDatabase, type IDBPTransaction } from "idb";
import { SEAL_BATCH_MAX, type Bound } from "../crypto/keycore";
import type { ErrorCode } from "../gen/veille/v1/error_pb";
import { PlacesSnapshotSchema, type PlacesSnapshot } from "../gen/veille/v1/places_pb";
import {
  ChangeSchema,
  MutationSchema,
  OpStatus,
  type Change,
  type Mutation,
  type OpResult,
  type PullResult,
} from "../gen/veille/v1/sync_pb";
import { fromWire, observe, tick, toWire, type Stamp } from "../net/hlc";
import { fromHex } from "../net/ids";
import {
  checkEdit,
  decodeEdits,
  encodeEdits,
  forget,
  mergePerson,
  noEdits,
  reconcile,
  recordEdit,
  type Notice,
  type PersonEdits,
} from "./person";

export type { Notice };

/** Ops in one push, and their encoded size (docs/sync.md), as libveille's outbox.h. */
export const OUTBOX_MAX_BATCH_OPS = 1000;
export const OUTBOX_MAX_BATCH_BYTES = 512 * 1024;
/** One op alone must fit a batch. */
export const OUTBOX_MAX_OP_BYTES = OUTBOX_MAX_BATCH_BYTES - 64;

const DB_PREFIX = "veille-maraude-";
const DB_VERSION = 3; /* 2: the store "edits"; 3: the outbox's saves */
const META_KEY = "device";
const PLACES_KEY = "last";
const AD_DOMAIN = "veille.web/v1/";
const SEAL_OVERHEAD = 24 + 16; /* nonce and tag (crypto/keycore.ts) */
const WRITE_ATTEMPTS = 8;
const DECODE_SLICE = 250; /* records decoded between two yields to the page */
const RETRY_WAIT_MS = 5; /* the first wait's bound, doubling with each attempt */
const RECORD_ID_MAX = 64; /* bytes, as libveille's replica.c; the server's are 32 hex */

const encoder = new TextEncoder();

/** What a record is: the case of Change.record and Mutation.record. */
export type RecordKind = NonNullable<Mutation["record"]["case"]>;

/** Seals and opens values with the phone's store key (crypto/keys.ts Keys is one); at most
 * SEAL_BATCH_MAX values a call. */
export interface Sealer {
  sealMany(items: Bound[]): Promise<Uint8Array[]>;
  openMany(items: Bound[]): Promise<Uint8Array[]>;
}

/** The phone's state that is not personal. Times are Date.now() milliseconds, 0 for never. */
export interface Meta {
  /** writes so far: a write commits only if it is still the rev it read */
  rev: number;
  /** the last op counter given: the next op has opCounter + 1 */
  opCounter: number;
  /** the pull cursor: the last sequence stored */
  cursor: bigint;
  /** the clock L: the last stamp made or seen (net/hlc.ts) */
  hlc: { wallMs: number; counter: number };
  /** the lease's end on this phone's clock: the store opens after it only once authenticated */
  leaseUntilMs: number;
  /** when a pull last reached the end of the feed */
  lastSyncMs: number;
}

/** An op of the outbox as kept in the clear: nothing personal, nothing to unseal. */
export interface OutboxEntry {
  opCounter: number;
  /** the op counter of the record it was saved with (see the design) */
  save: number;
  recordId: string;
  kind: RecordKind;
  state: "pending" | "rejected";
  /** state "rejected": the server's answer (CONFLICT or REJECTED) and when it came */
  result?: Rejection;
}

/** An op of the outbox, opened. */
export interface OutboxOp extends OutboxEntry {
  mutation: Mutation;
}

export interface Rejection {
  status: OpStatus;
  code: ErrorCode;
  /** CONFLICT: the record's current version */
  version: number;
  /** the server's reason, short English: the UI shows errors.ts's sentence for code */
  reason: string;
  atMs: number;
}

/** A record as the phone shows it: the change held with the pending ops about it folded in
 * (version 0 and seq 0 for a record only this phone has yet); pending: those ops' count, 0
 * once the server has them all ("received by the server"). */
export interface LocalRecord {
  change: Change;
  pending: number;
}

export type LocalErrorCode = "full" | "lease" | "invalid" | "too-big" | "corrupt" | "busy" | "closed";

/** A failure of the local store: `message` is the French sentence for the user, `detail` the
 * English one for logs. Nothing is half written: a write that fails writes nothing. */
export class LocalError extends Error {
  constructor(
    readonly code: LocalErrorCode,
    readonly detail = "",
  ) {
    super(localMessage(code));
    this.name = "LocalError";
  }
}

function localMessage(code: LocalErrorCode): string {
  switch (code) {
    case "full":
      return (
        "Le stockage du téléphone est plein : cet enregistrement n'a pas été fait. Tout ce qui était " +
        "déjà enregistré est conservé. Libérez de la place sur le téléphone, puis réessayez."
      );
    case "lease":
      return (
        "Ce téléphone ne s'est pas connecté au serveur depuis trop longtemps : ses données restent " +
        "verrouillées jusqu'à la prochaine connexion."
      );
    case "invalid":
      return "Enregistrement refusé par l'application : une valeur est incorrecte.";
    case "too-big":
      return "Enregistrement trop volumineux : raccourcissez la note.";
    case "corrupt":
      return "Les données de ce téléphone sont illisibles. Prévenez l'administrateur.";
    case "busy":
      return "L'application est ouverte dans un autre onglet qui enregistre en même temps. Réessayez.";
    case "closed":
      return "Le stockage du téléphone est fermé : rouvrez l'application.";
  }
}

/* What IndexedDB keeps. */
interface RecordRow {
  recordId: string;
  kind: RecordKind;
  sealed: Uint8Array; // Change
}

interface OutboxRow {
  opCounter: number;
  save: number;
  recordId: string;
  kind: RecordKind;
  state: "pending" | "rejected";
  sealed: Uint8Array; // Mutation
  result?: Rejection;
}

interface EditsRow {
  recordId: string; // the person's
  sealed: Uint8Array; // PersonEdits (store/person.ts encodeEdits)
}

interface PlacesRow {
  snapshot: Uint8Array; // PlacesSnapshot, plain
  savedAtMs: number;
}

interface LocalDB extends DBSchema {
  records: { key: string; value: RecordRow; indexes: { kind: string } };
  outbox: { key: number; value: OutboxRow; indexes: { state: string; record: string; saves: [string, number] } };
  edits: { key: string; value: EditsRow };
  meta: { key: string; value: Meta };
  places: { key: string; value: PlacesRow };
}

type StoreName = "records" | "outbox" | "edits" | "meta" | "places";
const STORES: StoreName[] = ["records", "outbox", "edits", "meta", "places"];

/* What one write writes, besides meta; and what it returns. */
interface Plan<T> {
  result: T;
  meta: Meta;
  records?: { put?: RecordRow[]; drop?: string[] };
  outbox?: { put?: OutboxRow[]; drop?: number[] };
  edits?: { put?: EditsRow[]; drop?: string[] };
  places?: PlacesRow;
  /** flushed to the disk before the write completes (IndexedDB's "strict" durability): what
   * only the phone holds, its new ops; the rest can be sent or pulled again */
  strict?: boolean;
}

const NEW_META: Meta = {
  rev: 0,
  opCounter: 0,
  cursor: 0n,
  hlc: { wallMs: 0, counter: 0 },
  leaseUntilMs: 0,
  lastSyncMs: 0,
};

const dbName = (deviceIdHex: string) => DB_PREFIX + deviceIdHex;

function checkDeviceId(deviceIdHex: string): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(deviceIdHex)) throw new RangeError("deviceIdHex: 32 lowercase hex");
  return fromHex(deviceIdHex);
}

/* A failure of IndexedDB, typed: a full quota and a closed database are the user's to know. */
function storageError(e: unknown): unknown {
  const name = (e as { name?: unknown } | null)?.name;
  if (name === "QuotaExceededError") return new LocalError("full", String(e));
  if (name === "InvalidStateError") return new LocalError("closed", String(e));
  return e;
}

/* The database of a phone, created the first time; gone() when another tab needs it closed
 * (it wipes this phone, or a newer app upgrades it) or the browser closed it. */
function openDatabase(deviceIdHex: string, gone: () => void): Promise<IDBPDatabase<LocalDB>> {
  return openDB<LocalDB>(dbName(deviceIdHex), DB_VERSION, {
    /* From the version the phone had: an update of the app keeps everything. */
    upgrade(d, from, _to, tx) {
      if (from < 1) {
        d.createObjectStore("records", { keyPath: "recordId" }).createIndex("kind", "kind");
        const outbox = d.createObjectStore("outbox", { keyPath: "opCounter" });
        outbox.createIndex("state", "state");
        outbox.createIndex("record", "recordId");
        d.createObjectStore("meta").put(NEW_META, META_KEY);
        d.createObjectStore("places");
      }
      if (from < 2) d.createObjectStore("edits", { keyPath: "recordId" });
      if (from < 3) {
        const outbox = tx.objectStore("outbox");
        outbox.createIndex("saves", ["state", "save"]);
        /* an op queued before saves were kept: a save of its own */
        void (async () => {
          for (let c = await outbox.openCursor(); c; c = await c.continue())
            if (c.value.save === undefined) await c.update({ ...c.value, save: c.value.opCounter });
        })();
      }
    },
    blocking: gone,
    terminated: gone,
  });
}

/** What waits in the outbox. */
export interface OutboxCounts {
  /** records saved on the phone and waiting: saves with an op pending (an encounter with the
   * new person it is about is one) */
  pending: number;
  /** ops the server refused, kept until discarded */
  rejected: number;
  /** ops waiting: what pushes have to send */
  pendingOps: number;
}

async function countOutbox(db: IDBPDatabase<LocalDB>): Promise<OutboxCounts> {
  const tx = db.transaction("outbox");
  const saves = tx.store.index("saves");
  const waiting = IDBKeyRange.bound(["pending"], ["pending", []]); /* every ["pending", save] */
  const [pendingOps, rejected] = await Promise.all([saves.count(waiting), tx.store.index("state").count("rejected")]);
  let pending = 0;
  for (let c = await saves.openKeyCursor(waiting, "nextunique"); c; c = await c.continue()) pending++;
  return { pending, rejected, pendingOps };
}

const ad = (store: "records" | "outbox" | "edits", key: string | number) => encoder.encode(`${AD_DOMAIN}${store}/${key}`);

/* Bytes an op of len bytes takes inside a PushRequest: tag, varint length, body. */
function framedSize(len: number): number {
  let n = 1 + len;
  for (let v = len; ; v = Math.floor(v / 128)) {
    n++;
    if (v < 128) return n;
  }
}

/**
 * Opens the store of the phone deviceIdHex (creating it the first time), sealing with sealer.
 * After the lease's end (opts.nowMs, Date.now() by default) it stays locked (LocalError
 * "lease") unless opened just after an authentication: opts.leaseUntilMs then is the new
 * lease's end on this phone's clock (0: the server gave none), written before anything else.
 * Errors: LocalError "lease", RangeError (not a device id), IndexedDB's.
 */
export async function openLocal(
  deviceIdHex: string,
  sealer: Sealer,
  opts: { nowMs?: number; leaseUntilMs?: number } = {},
): Promise<LocalStore> {
  const deviceId = checkDeviceId(deviceIdHex);
  let store: LocalStore | undefined;
  const db = await openDatabase(deviceIdHex, () => store?.close());
  store = new LocalStore(db, deviceIdHex, deviceId, sealer);
  if (opts.leaseUntilMs !== undefined) {
    await store.renewLease(opts.leaseUntilMs);
  } else {
    const { leaseUntilMs } = await store.meta();
    if (leaseUntilMs && (opts.nowMs ?? Date.now()) > leaseUntilMs) {
      store.close();
      throw new LocalError("lease", "the lease ran out: authenticate to open the store");
    }
  }
  return store;
}

/** What waits in the outbox of the phone deviceIdHex: no key needed (the PIN screen says how
 * many unsent records a wipe would lose). */
export async function outboxCounts(deviceIdHex: string): Promise<OutboxCounts> {
  checkDeviceId(deviceIdHex);
  const db = await openDatabase(deviceIdHex, () => db.close());
  try {
    return await countOutbox(db);
  } finally {
    db.close();
  }
}

/** Deletes the store of the phone deviceIdHex, open or not (revocation). */
export async function deleteLocal(deviceIdHex: string): Promise<void> {
  checkDeviceId(deviceIdHex);
  await deleteDB(dbName(deviceIdHex));
}

export class LocalStore {
  private closed = false;
  private writing: Promise<unknown> = Promise.resolve();
  /* meta as this page last read or wrote it: the next write starts from it without reading
   * it again (its rev check catches another tab's write) */
  private known: Meta | null = null;

  constructor(
    private readonly db: IDBPDatabase<LocalDB>,
    readonly deviceIdHex: string,
    private readonly deviceId: Uint8Array,
    private readonly sealer: Sealer,
  ) {}

  /** Queues 1 to 1000 ops, in one transaction with the op counters they take and, for a
   * person edit, the clock they tick: each gets the next counter and this phone's device id;
   * every field of a person edit is stamped with one tick of the clock at nowMs (server time
   * is best). A person edit followed by an encounter or request about them is saved with it
   * (one record waiting, for the user). Returns their op counters. Errors: LocalError
   * "invalid" (an op unfit: see unfit), "too-big" (an op over OUTBOX_MAX_OP_BYTES), "full". */
  queue(ops: MessageInitShape<typeof MutationSchema>[], nowMs: number): Promise<number[]> {
    if (ops.length < 1 || ops.length > OUTBOX_MAX_BATCH_OPS)
      return Promise.reject(new LocalError("invalid", `queue 1 to ${OUTBOX_MAX_BATCH_OPS} ops`));
    const muts = ops.map((m) => create(MutationSchema, m));
    const why = muts.map(unfit).find((w) => w);
    if (why) return Promise.reject(new LocalError("invalid", why));
    return this.write(async (meta) => {
      let counter = meta.opCounter;
      let clock: Stamp = { ...meta.hlc, deviceId: this.deviceId };
      const edits = await this.editsOf(muts.flatMap((m) => (m.record.case === "person" ? [m.recordId] : [])));
      const rows = muts.map((m) => {
        const op = clone(MutationSchema, m);
        op.opCounter = BigInt(++counter);
        op.deviceId = this.deviceId;
        if (op.record.case === "person") {
          clock = tick(clock, nowMs, this.deviceId); /* one edit, one tick: its fields share the stamp */
          for (const f of op.record.value.fields) f.hlc = toWire(clock);
          edits.set(op.recordId, recordEdit(edits.get(op.recordId), op.record.value.fields));
        }
        const bytes = toBinary(MutationSchema, op);
        if (framedSize(bytes.length) > OUTBOX_MAX_OP_BYTES)
          throw new LocalError("too-big", `an op of ${bytes.length} bytes, over a push's ${OUTBOX_MAX_OP_BYTES}`);
        return { opCounter: counter, recordId: op.recordId, kind: op.record.case as RecordKind, bytes };
      });
      const saves = savedWith(muts, rows.map((r) => r.opCounter));
      const sealed = await this.seal(rows.map((r) => ({ data: r.bytes, ad: ad("outbox", r.opCounter) })));
      return {
        result: rows.map((r) => r.opCounter),
        meta: { ...meta, opCounter: counter, hlc: { wallMs: clock.wallMs, counter: clock.counter } },
        outbox: {
          put: rows.map((r, i) => ({
            opCounter: r.opCounter,
            save: saves[i]!,
            recordId: r.recordId,
            kind: r.kind,
            state: "pending" as const,
            sealed: sealed[i]!,
          })),
        },
        edits: await this.sealEdits(edits),
        strict: true,
      };
    });
  }

  /** The first pending ops, in counter order: at most maxOps (<= OUTBOX_MAX_BATCH_OPS) and,
   * past the first, at most maxBytes encoded in a PushRequest. Errors: LocalError "corrupt". */
  async pendingBatch(maxOps = OUTBOX_MAX_BATCH_OPS, maxBytes = OUTBOX_MAX_BATCH_BYTES): Promise<OutboxOp[]> {
    const limit = Math.min(Math.max(1, maxOps), OUTBOX_MAX_BATCH_OPS);
    const rows = await this.read(async (d) => {
      const taken: OutboxRow[] = [];
      let bytes = 0;
      const tx = d.transaction("outbox");
      for (let c = await tx.store.index("state").openCursor("pending"); c; c = await c.continue()) {
        const size = framedSize(c.value.sealed.length - SEAL_OVERHEAD);
        if (taken.length === limit || (taken.length && bytes + size > maxBytes)) break;
        taken.push(c.value);
        bytes += size;
      }
      await tx.done;
      return taken;
    });
    return this.openOps(rows);
  }

  /** The outbox's ops in counter order, pending or rejected (both by default), at most limit
   * (<= OUTBOX_MAX_BATCH_OPS). */
  async outbox(state?: OutboxOp["state"], limit = OUTBOX_MAX_BATCH_OPS): Promise<OutboxOp[]> {
    const n = Math.min(Math.max(1, limit), OUTBOX_MAX_BATCH_OPS);
    const rows = state
      ? await this.read((d) => d.getAllFromIndex("outbox", "state", state, n))
      : await this.read((d) => d.getAll("outbox", null, n));
    return this.openOps(rows);
  }

  /** The outbox's entries in counter order, in the clear: nothing is unsealed (a list that
   * shows the outbox opens only the ops it does not show yet: outboxOps). */
  async outboxEntries(): Promise<OutboxEntry[]> {
    const rows = await this.read((d) => d.getAll("outbox"));
    return rows.map(({ opCounter, save, recordId, kind, state, result }) => ({ opCounter, save, recordId, kind, state, ...(result && { result }) }));
  }

  /** The ops of these counters, opened; those no longer in the outbox are left out. */
  async outboxOps(counters: number[]): Promise<OutboxOp[]> {
    const rows = await this.read((d) => getMany(d, "outbox", counters));
    return this.openOps(rows.filter((r): r is OutboxRow => r !== undefined));
  }

  /** What waits to be sent, and what the server refused (not discarded yet). */
  counts(): Promise<OutboxCounts> {
    return this.read(countOutbox);
  }

  /**
   * Records the server's results of ops (results[i] for ops[i], as pendingBatch gave them) in
   * one transaction: APPLIED and DUPLICATE ops leave the outbox and are folded into the
   * records held (a person edit merged field by field; an event kept at the version the
   * server gave it, unless a newer one is held); CONFLICT, REJECTED and any status newer than
   * this app stay, "rejected", with their result. Ops no longer pending are skipped. Returns
   * the ids of the records the settled ops were about (what the phone shows of them moved).
   */
  settle(ops: OutboxOp[], results: OpResult[], nowMs: number): Promise<string[]> {
    if (ops.length !== results.length)
      return Promise.reject(new LocalError("invalid", "settle: one result per op"));
    return this.write(async (meta) => {
      const rows = await this.read((d) => getMany(d, "outbox", ops.map((op) => op.opCounter)));
      const settled = ops
        .map((op, i) => ({ op, result: results[i]!, row: rows[i] }))
        .filter((s): s is typeof s & { row: OutboxRow } => s.row?.state === "pending");
      const acked = settled.filter((s) => done(s.result.status));
      const held = await this.held(acked.map((s) => s.op.recordId));
      const moved = new Map<string, Change>();
      for (const { op, result } of acked) {
        const m = op.mutation;
        const cur = held.get(m.recordId);
        const next =
          m.record.case === "person"
            ? mergePerson(cur, m.recordId, cur?.seq ?? 0n, cur?.version ?? 0n, m.record.value)
            : !cur || cur.version < result.version
              ? create(ChangeSchema, { recordId: m.recordId, version: result.version, record: m.record })
              : cur;
        if (next && next !== cur) {
          held.set(m.recordId, next);
          moved.set(m.recordId, next);
        }
      }
      /* A person edit refused will never be merged: no colleague's value can win over it. */
      const refused = settled.filter((s) => !done(s.result.status));
      const edits = await this.editsOf(refused.map((s) => s.op.recordId));
      const forgotten = new Map<string, PersonEdits>();
      for (const { op } of refused) {
        const e = edits.get(op.recordId);
        const m = op.mutation;
        if (!e || m.record.case !== "person") continue;
        const next = forget(e, m.record.value.fields);
        if (next === e) continue;
        edits.set(op.recordId, next);
        forgotten.set(op.recordId, next);
      }
      return {
        result: [...new Set(settled.map((s) => s.row.recordId))],
        meta,
        records: { put: await this.sealChanges([...moved.values()]) },
        outbox: {
          drop: acked.map((s) => s.row.opCounter),
          put: refused.map(({ row, result }) => ({ ...row, state: "rejected" as const, result: rejection(result, nowMs) })),
        },
        edits: await this.sealEdits(forgotten),
      };
    });
  }

  /** Forgets a rejected op (the user confirmed). A pending op cannot be discarded: the server
   * may have applied it already (LocalError "invalid"). An op already gone is not an error. */
  discard(opCounter: number): Promise<void> {
    return this.write(async (meta) => {
      const row = await this.read((d) => d.get("outbox", opCounter));
      if (row?.state === "pending") throw new LocalError("invalid", "a pending op cannot be discarded");
      return { result: undefined, meta, outbox: { drop: row ? [opCounter] : [] } };
    });
  }

  /**
   * Stores a pulled page in one transaction: its changes in order (withdrawn: the record is
   * dropped; see the design for the rest), the clock L raised to every stamp of its persons,
   * the cursor raised to its next_cursor (never lowered) and, if it ends the feed (has_more
   * false), nowMs as the last sync. Returns the ids of the records that changed.
   * Errors: LocalError "invalid" (a record id empty or over 64 bytes), "full".
   */
  applyPage(page: PullResult, nowMs: number): Promise<string[]> {
    const bad = page.changes.find((ch) => !ch.recordId || encoder.encode(ch.recordId).length > RECORD_ID_MAX);
    if (bad) return Promise.reject(new LocalError("invalid", `a record id is empty or over ${RECORD_ID_MAX} bytes`));
    return this.write(async (meta) => {
      const ids = [...new Set(page.changes.map((ch) => ch.recordId))];
      const held = await this.held(ids);
      const edits = await this.editsOf(ids);
      let clock: Stamp = { ...meta.hlc, deviceId: this.deviceId };
      const writes = new Map<string, Change | null>(); /* null: drop */
      const editWrites = new Map<string, PersonEdits | null>();
      for (const ch of page.changes) {
        const mine = edits.get(ch.recordId);
        if (ch.withdrawn) {
          held.delete(ch.recordId);
          writes.set(ch.recordId, null);
          if (mine) {
            edits.delete(ch.recordId);
            editWrites.set(ch.recordId, null);
          }
          continue;
        }
        const cur = held.get(ch.recordId);
        let next = cur;
        if (ch.record.case === "person") {
          for (const f of ch.record.value.fields) {
            const s = fromWire(f.hlc);
            if (s) clock = observe(clock, s);
          }
          next = mergePerson(cur, ch.recordId, ch.seq, ch.version, ch.record.value);
          const learnt = mine && reconcile(mine, ch.record.value, this.deviceId);
          if (learnt && learnt !== mine) {
            edits.set(ch.recordId, learnt);
            editWrites.set(ch.recordId, learnt);
          }
        } else if (ch.record.case && (!cur || cur.version <= ch.version)) {
          /* (a kind this app does not know, a newer server's, has no case: not kept) */
          next = ch;
        }
        if (next && next !== cur) {
          held.set(ch.recordId, next);
          writes.set(ch.recordId, next);
        }
      }
      return {
        result: [...new Set([...writes.keys(), ...editWrites.keys()])],
        meta: {
          ...meta,
          cursor: page.nextCursor > meta.cursor ? page.nextCursor : meta.cursor,
          hlc: { wallMs: clock.wallMs, counter: clock.counter },
          lastSyncMs: page.hasMore ? meta.lastSyncMs : nowMs,
        },
        records: {
          put: await this.sealChanges([...writes.values()].filter((c): c is Change => c !== null)),
          drop: [...writes].filter(([, c]) => c === null).map(([id]) => id),
        },
        edits: await this.sealEdits(editWrites),
      };
    });
  }

  /** The record as the phone shows it (see LocalRecord), or undefined if it knows nothing of
   * it. */
  async get(recordId: string): Promise<LocalRecord | undefined> {
    return (await this.some([recordId]))[0];
  }

  /** The records of recordIds as the phone shows them (see LocalRecord), in no particular
   * order; those it knows nothing of (withdrawn, or never held) are left out. */
  async some(recordIds: string[]): Promise<LocalRecord[]> {
    const found = await this.read((d) =>
      readBatch(d, ["records", "outbox"], (tx) => {
        const records = tx.objectStore("records");
        const opsOf = tx.objectStore("outbox").index("record");
        return [...recordIds.map((id) => records.get(id)), ...recordIds.map((id) => opsOf.getAll(id))];
      }),
    );
    const rows = found.slice(0, recordIds.length) as (RecordRow | undefined)[];
    const ops = found.slice(recordIds.length) as OutboxRow[][];
    return this.fold(
      rows.filter((r): r is RecordRow => r !== undefined),
      ops.flat(),
    );
  }

  /** Every record of kind as the phone shows it (see LocalRecord), in no particular order. */
  async all(kind: RecordKind): Promise<LocalRecord[]> {
    const [rows, ops] = await this.read((d) => {
      const tx = d.transaction(["records", "outbox"]);
      return Promise.all([
        tx.objectStore("records").index("kind").getAll(kind),
        tx.objectStore("outbox").index("state").getAll("pending"),
      ]);
    });
    return this.fold(
      rows,
      ops.filter((op) => op.kind === kind),
    );
  }

  async meta(): Promise<Meta> {
    this.known = (await this.read((d) => d.get("meta", META_KEY)))!;
    return this.known;
  }

  /** After an authentication: the lease's end on this phone's clock (0: none). */
  renewLease(leaseUntilMs: number): Promise<void> {
    return this.write(async (meta) => ({ result: undefined, meta: { ...meta, leaseUntilMs } }));
  }

  /** Keeps the last places snapshot (with the deltas applied by the caller, or as received). */
  savePlaces(snapshot: PlacesSnapshot, savedAtMs: number): Promise<void> {
    const places: PlacesRow = { snapshot: toBinary(PlacesSnapshotSchema, snapshot), savedAtMs };
    return this.write(async (meta) => ({ result: undefined, meta, places }));
  }

  /** The last places snapshot kept and when, or undefined. */
  async places(): Promise<{ snapshot: PlacesSnapshot; savedAtMs: number } | undefined> {
    const row = await this.read((d) => d.get("places", PLACES_KEY));
    return row && { snapshot: fromBinary(PlacesSnapshotSchema, row.snapshot), savedAtMs: row.savedAtMs };
  }

  /** The colleagues' values that won over this phone's profile edits, by person id, until
   * acknowledged (see store/person.ts): of every person, or of personIds. */
  async notices(personIds?: string[]): Promise<Map<string, Notice[]>> {
    const edits = personIds ? await this.editsOf(personIds) : await this.openEdits(await this.read((d) => d.getAll("edits")));
    return new Map([...edits].filter(([, e]) => e.notices.length).map(([id, e]) => [id, e.notices]));
  }

  /** Forgets the notices of person id: the user has seen them. */
  acknowledge(id: string): Promise<void> {
    return this.write(async (meta) => {
      const e = (await this.editsOf([id])).get(id);
      const seen = new Map<string, PersonEdits>(e?.notices.length ? [[id, { ...e, notices: [] }]] : []);
      return { result: undefined, meta, edits: await this.sealEdits(seen) };
    });
  }

  /** Closes the database; later calls fail with LocalError "closed". Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Closes and deletes this phone's whole store. */
  async wipe(): Promise<void> {
    this.close();
    await deleteLocal(this.deviceIdHex);
  }

  /* ---- reading ---- */

  private async read<T>(f: (db: IDBPDatabase<LocalDB>) => Promise<T>): Promise<T> {
    if (this.closed) throw new LocalError("closed", "the local store is closed");
    try {
      return await f(this.db);
    } catch (e) {
      throw storageError(e);
    }
  }

  /* The changes held of ids, opened. */
  private async held(ids: string[]): Promise<Map<string, Change>> {
    const rows = (await this.read((d) => getMany(d, "records", ids))).filter(
      (r): r is RecordRow => r !== undefined,
    );
    const plain = await this.open(rows.map((r) => ({ data: r.sealed, ad: ad("records", r.recordId) })));
    return new Map(rows.map((r, i) => [r.recordId, decode(ChangeSchema, plain[i]!)]));
  }

  /* The PersonEdits held of ids (persons or not: only those with a row are in the map). */
  private async editsOf(ids: string[]): Promise<Map<string, PersonEdits>> {
    if (!ids.length) return new Map(); /* an encounter's save: no read transaction for nothing */
    const rows = await this.read((d) => getMany(d, "edits", ids));
    return this.openEdits(rows.filter((r): r is EditsRow => r !== undefined));
  }

  private async openEdits(rows: EditsRow[]): Promise<Map<string, PersonEdits>> {
    const plain = await this.open(rows.map((r) => ({ data: r.sealed, ad: ad("edits", r.recordId) })));
    return new Map(
      rows.map((r, i) => {
        try {
          return [r.recordId, decodeEdits(plain[i]!)];
        } catch {
          throw new LocalError("corrupt", "stored person edits do not decode");
        }
      }),
    );
  }

  private async openOps(rows: OutboxRow[]): Promise<OutboxOp[]> {
    const plain = await this.open(rows.map((r) => ({ data: r.sealed, ad: ad("outbox", r.opCounter) })));
    return rows.map((r, i) => {
      const mutation = decode(MutationSchema, plain[i]!);
      if (mutation.opCounter !== BigInt(r.opCounter))
        throw new LocalError("corrupt", "an outbox op is not under its counter");
      const { opCounter, save, recordId, kind, state, result } = r;
      const op: OutboxOp = { opCounter, save, recordId, kind, state, mutation };
      if (result) op.result = result;
      return op;
    });
  }

  /* Records held and pending ops about them (any order), folded as libveille's replica_get:
   * a person edit merged field by field, an event's queued version replacing the held one. */
  private async fold(rows: RecordRow[], opRows: OutboxRow[]): Promise<LocalRecord[]> {
    const pendingRows = opRows.filter((r) => r.state === "pending").sort((a, b) => a.opCounter - b.opCounter);
    const [plain, ops] = await Promise.all([
      this.open(rows.map((r) => ({ data: r.sealed, ad: ad("records", r.recordId) }))),
      this.openOps(pendingRows),
    ]);
    const out = new Map<string, LocalRecord>();
    for (let i = 0; i < rows.length; i++) {
      /* every record of a store (10,000 took 1 s at CPU x4): in slices, the page answers
       * between, and a lock meanwhile stops the work */
      if (i && i % DECODE_SLICE === 0) {
        await new Promise((r) => setTimeout(r));
        if (this.closed) throw new LocalError("closed", "the local store was closed during a read");
      }
      out.set(rows[i]!.recordId, { change: decode(ChangeSchema, plain[i]!), pending: 0 });
    }
    for (const { mutation: m } of ops) {
      const cur = out.get(m.recordId);
      const held = cur?.change;
      const change =
        m.record.case === "person"
          ? mergePerson(held, m.recordId, held?.seq ?? 0n, held?.version ?? 0n, m.record.value)
          : create(ChangeSchema, {
              recordId: m.recordId,
              seq: held?.seq ?? 0n,
              version: m.baseVersion + 1n,
              record: m.record,
            });
      out.set(m.recordId, { change, pending: (cur?.pending ?? 0) + 1 });
    }
    return [...out.values()];
  }

  /* ---- sealing ---- */

  private async seal(items: Bound[]): Promise<Uint8Array[]> {
    return this.batched(items, (b) => this.sealer.sealMany(b));
  }

  private async open(items: Bound[]): Promise<Uint8Array[]> {
    return this.batched(items, (b) => this.sealer.openMany(b));
  }

  private async batched(items: Bound[], f: (b: Bound[]) => Promise<Uint8Array[]>): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let i = 0; i < items.length; i += SEAL_BATCH_MAX) out.push(...(await f(items.slice(i, i + SEAL_BATCH_MAX))));
    return out;
  }

  private async sealChanges(changes: Change[]): Promise<RecordRow[]> {
    const sealed = await this.seal(
      changes.map((ch) => ({ data: toBinary(ChangeSchema, ch), ad: ad("records", ch.recordId) })),
    );
    return changes.map((ch, i) => ({ recordId: ch.recordId, kind: ch.record.case as RecordKind, sealed: sealed[i]! }));
  }

  /* What writes edits: a row sealed for each, or dropped if null or empty. */
  private async sealEdits(edits: Map<string, PersonEdits | null>): Promise<NonNullable<Plan<unknown>["edits"]>> {
    const kept = [...edits].filter((x): x is [string, PersonEdits] => x[1] !== null && !noEdits(x[1]));
    const sealed = await this.seal(kept.map(([id, e]) => ({ data: encodeEdits(e), ad: ad("edits", id) })));
    return {
      put: kept.map(([recordId], i) => ({ recordId, sealed: sealed[i]! })),
      drop: [...edits].filter(([, e]) => e === null || noEdits(e)).map(([id]) => id),
    };
  }

  /* ---- writing ---- */

  /**
   * One write (see the design): prepare reads and seals, given meta as it stands (as this
   * page last knew it, at first), and plans what to write; the plan is written in one
   * read-write transaction, after checking that meta's rev has not moved since, and with rev
   * raised. If it moved, the write starts over from meta read again, after a random wait
   * (another tab wrote: let it finish). Writes of this page run one at a time.
   */
  private write<T>(prepare: (meta: Meta) => Promise<Plan<T>>): Promise<T> {
    const run = async (): Promise<T> => {
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        if (attempt) await new Promise((r) => setTimeout(r, Math.random() * RETRY_WAIT_MS * 2 ** attempt));
        const read = (!attempt && this.known) || (await this.meta());
        const plan = await prepare(read);
        if (await this.commit(read.rev, plan)) {
          this.known = { ...plan.meta, rev: read.rev + 1 };
          return plan.result;
        }
      }
      throw new LocalError("busy", `another tab kept writing: ${WRITE_ATTEMPTS} attempts`);
    };
    const done = this.writing.then(run, run);
    this.writing = done.catch(() => undefined);
    return done;
  }

  /* The transaction of a write: false (nothing written) if rev moved. The check and the
   * writes are asked at once (one round trip, not two): requests run in order, so the check
   * runs first, and aborts the transaction if rev moved. The requests
   * are IndexedDB's own (see readBatch); one that fails aborts the transaction, and tx.done
   * says so. */
  private async commit(rev: number, plan: Plan<unknown>): Promise<boolean> {
    if (this.closed) throw new LocalError("closed", "the local store is closed");
    let tx: IDBPTransaction<LocalDB, StoreName[], "readwrite"> | undefined;
    let moved = false;
    try {
      tx = this.db.transaction(STORES, "readwrite", { durability: plan.strict ? "strict" : "default" });
      const t = unwrap(tx);
      const meta = t.objectStore("meta");
      meta.get(META_KEY).onsuccess = (e) => {
        if ((e.target as IDBRequest<Meta | undefined>).result?.rev === rev) return;
        moved = true;
        t.abort();
      };
      const records = t.objectStore("records");
      const outbox = t.objectStore("outbox");
      for (const row of plan.records?.put ?? []) records.put(row);
      for (const id of plan.records?.drop ?? []) records.delete(id);
      for (const row of plan.outbox?.put ?? []) outbox.put(row);
      for (const counter of plan.outbox?.drop ?? []) outbox.delete(counter);
      const edits = t.objectStore("edits");
      for (const row of plan.edits?.put ?? []) edits.put(row);
      for (const id of plan.edits?.drop ?? []) edits.delete(id);
      if (plan.places) t.objectStore("places").put(plan.places, PLACES_KEY);
      meta.put({ ...plan.meta, rev: rev + 1 }, META_KEY);
      await tx.done;
      return true;
    } catch (e) {
      if (moved) return false;
      try {
        tx?.abort(); /* a failure between two requests: none of them may commit */
      } catch {
        /* aborted already */
      }
      await tx?.done.catch(() => undefined);
      throw storageError(e);
    }
  }
}

/* The results of the requests ask makes, in one read transaction, once it completes. The
 * requests are IndexedDB's own: idb's db.get makes a transaction each, and idb's promise per
 * request cost more than the read (a pulled page reads its 500 records). */
function readBatch(d: IDBPDatabase<LocalDB>, stores: StoreName[], ask: (tx: IDBTransaction) => IDBRequest[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const tx = unwrap(d).transaction(stores);
    const requests = ask(tx);
    tx.oncomplete = () => resolve(requests.map((r) => r.result));
    tx.onabort = () => reject(tx.error ?? new DOMException("the read was aborted", "AbortError"));
  });
}

/* The values under keys in one store (undefined where none), in one read transaction. */
async function getMany<S extends "records" | "outbox" | "edits">(
  d: IDBPDatabase<LocalDB>,
  store: S,
  keys: LocalDB[S]["key"][],
): Promise<(LocalDB[S]["value"] | undefined)[]> {
  return (await readBatch(d, [store], (tx) => keys.map((k) => tx.objectStore(store).get(k)))) as (LocalDB[S]["value"] | undefined)[];
}

/* ---- the rules, as libveille's outbox.c, replica.c and person.c ---- */

function done(status: OpStatus): boolean {
  return status === OpStatus.APPLIED || status === OpStatus.DUPLICATE;
}

function rejection(r: OpResult, atMs: number): Rejection {
  return { status: r.status, code: r.code, version: Number(r.version), reason: r.reason, atMs };
}

function decode<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch {
    throw new LocalError("corrupt", `a stored ${schema.typeName} does not decode`);
  }
}

/* The save of each of ops, given their counters: its own counter, but a person's edit
 * followed by an encounter or request about them takes the latter's. */
function savedWith(ops: Mutation[], counters: number[]): number[] {
  const about = (m: Mutation) => (m.record.case === "encounter" || m.record.case === "request" ? m.record.value.personId : "");
  return ops.map((op, i) => {
    const j = op.record.case === "person" ? ops.findIndex((o, k) => k > i && about(o) === op.recordId) : -1;
    return counters[j < 0 ? i : j]!;
  });
}

/* What queue accepts (libveille's unfit): undefined if m is fine, else why not. */
function unfit(m: Mutation): string | undefined {
  if (m.opCounter !== 0n) return "an op already has an op_counter (queued or pushed before)";
  if (!/^[0-9a-f]{32}$/.test(m.recordId)) return "record_id must be 32 lowercase hex characters";
  if (!m.record.case)
    return "an op must hold an encounter, a person, a request, a proposal or a decision";
  return m.record.case === "person" ? checkEdit(m.record.value) : undefined;
}
