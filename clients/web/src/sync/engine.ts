/* The maraude phone's sync (docs/sync.md), libveille's sync.c and client.c in the same words,
 * over net/connection.ts and the phone's local store (store/local.ts). No DOM: the state layer
 * calls syncNow() on the browser's `online` events.
 *
 * Design: a SyncEngine opens the store and keeps a Connection started. After each AuthOk it
 * keeps the lease, then syncs: push the outbox in batches (at most 1000 ops and 512 KiB), each
 * batch's results recorded in one local transaction (an op leaves the outbox only there), then
 * pull from the cursor until has_more is false, each page stored with its cursor in one local
 * transaction. A failure anywhere leaves the store as of its last transaction, which is what
 * the next sync resumes from. It syncs again on a poke about something after its cursor, when
 * an op is queued, at least every RESYNC_MS while live (a poke is only a hint), and on
 * syncNow(). One sync runs at a time; a reason to sync during one runs another after it.
 *
 * Failures: a lost link is the Connection's to mend (it reconnects with the backoff, and the
 * next AuthOk syncs); a server that is busy (UNAVAILABLE, RATE_LIMITED, INTERNAL) is asked
 * again after the backoff's wait (at least its retry_after_ms); a whole push refused for what
 * it holds (LIMIT_EXCEEDED, INVALID_ARGUMENT) is halved until the op at fault is alone, which
 * is then kept as rejected, so that it cannot block the outbox for ever; anything else is
 * reported and waits for the next reason to sync.
 *
 * Revocation and lease (docs/threat-model.md): DEVICE_REVOKED, on any path, erases the
 * phone's account (its wrapped keys) first, then its local store, and reports "wiped": the
 * state layer then locks the key worker. The store does not open after the lease's end
 * ("locked") until the phone authenticates: the engine connects anyway, and opens it at the
 * AuthOk. The lease (AuthOk.lease_until_ms, in server time) is kept on this phone's clock:
 * now + (lease_until_ms - server_time_ms), as libveille does. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { AuthOk } from "../gen/veille/v1/auth_pb";
import { ErrorCode } from "../gen/veille/v1/error_pb";
import { OpResultSchema, OpStatus, type MutationSchema, type OpResult } from "../gen/veille/v1/sync_pb";
import { Backoff } from "../net/backoff";
import { Connection, type LinkStatus, type PlacesEvent, type Signer } from "../net/connection";
import { errorMessage, VeilleError } from "../net/errors";
import { fromHex } from "../net/ids";
import * as accounts from "../store/accounts";
import { deleteLocal, LocalError, openLocal, outboxCounts, type LocalStore, type OutboxOp, type Sealer } from "../store/local";

/** A live phone pulls at least this often (libveille's FOLLOW_RESYNC_MS). */
const RESYNC_MS = 30_000;
/** A refused batch halves at most log2(1000) + 1 times per op (libveille's MAX_TURNS_PER_OP). */
const MAX_TURNS_PER_OP = 12;
/** Pages per sync; a larger backlog goes on at the next sync. */
const MAX_PULL_PAGES = 100_000;

/** Where the local store stands: "locked" after the lease's end until the phone
 * authenticates; "wiped" after a revocation; "closed" after stop(). */
export type StoreState = "opening" | "open" | "locked" | "wiped" | "closed";

export interface SyncStatus {
  link: LinkStatus;
  store: StoreState;
  /** records saved on the phone, waiting for the server (store/local.ts OutboxCounts: an
   * encounter with the new person it is about is one) */
  pending: number;
  /** ops the server refused (CONFLICT, REJECTED), kept until discarded */
  rejected: number;
  /** when a sync last reached the end of the feed (Date.now() ms), 0 for never */
  lastSyncMs: number;
  syncing: boolean;
  /** why the last sync failed, in French; null once one goes through */
  error: string | null;
}

/** The status before the store is opened (a round shows it until the engine reports). */
export function initialStatus(): SyncStatus {
  return { link: { kind: "stopped" }, store: "opening", pending: 0, rejected: 0, lastSyncMs: 0, syncing: false, error: null };
}

export interface SyncOptions {
  /** ws://host:port/sync or wss://… */
  url: string;
  deviceIdHex: string;
  /** the server this phone enrolled with */
  serverId: Uint8Array;
  /** the key worker (crypto/keys.ts Keys): signs the challenge, seals the store */
  keys: Signer & Sealer;
  /** Hello.client, <= 64 bytes */
  client?: string;
  /** every change of the status, as a new object */
  onStatus(s: SyncStatus): void;
  /** the records whose view changed (pulled, acknowledged, queued): read them again */
  onRecords?(ids: string[]): void;
  /** after each authentication (places: subscribe again through `connection`) */
  onLive?(auth: AuthOk): void;
  onPlaces?(ev: PlacesEvent): void;
  /* tests */
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
  requestTimeoutMs?: number;
  /** this phone's clock, for the lease (Date.now by default) */
  now?: () => number;
}

/* Server answers that a later attempt may not meet (libveille's retryable()). */
function busy(e: unknown): e is VeilleError {
  return (
    e instanceof VeilleError &&
    (e.code === ErrorCode.UNAVAILABLE || e.code === ErrorCode.RATE_LIMITED || e.code === ErrorCode.INTERNAL)
  );
}

/* A whole push refused for what it holds (not for the session or the server's state). */
function contentRefusal(e: unknown): e is VeilleError & { code: ErrorCode } {
  return e instanceof VeilleError && (e.code === ErrorCode.LIMIT_EXCEEDED || e.code === ErrorCode.INVALID_ARGUMENT);
}

/* The result of an op the server refuses even alone: rejected with the server's reason. */
function rejectedAlone(op: OutboxOp, e: VeilleError & { code: ErrorCode }): OpResult {
  return create(OpResultSchema, {
    opCounter: BigInt(op.opCounter),
    status: OpStatus.REJECTED,
    code: e.code,
    reason: e.detail,
  });
}

/* What the status says of a failure, in French. */
function describe(e: unknown): string {
  return e instanceof LocalError ? e.message : errorMessage(e);
}

export class SyncEngine {
  readonly connection: Connection;
  private local: LocalStore | null = null;
  private status: SyncStatus = initialStatus();
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private cursor = 0n;
  private running = false;
  private again = false;
  private restarting = false;
  private reconnectNow = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private resyncTimer: ReturnType<typeof setInterval> | undefined;
  /* the lease's end on this device's clock (0: none), and the timer that locks the store then */
  private leaseUntil = 0;
  private leaseTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: SyncOptions) {
    this.now = opts.now ?? Date.now;
    this.backoff = new Backoff(opts.random);
    this.connection = new Connection({
      url: opts.url,
      deviceId: fromHex(opts.deviceIdHex),
      serverId: opts.serverId,
      signer: opts.keys,
      client: opts.client ?? "veille-maraude",
      WebSocketImpl: opts.WebSocketImpl,
      random: opts.random,
      requestTimeoutMs: opts.requestTimeoutMs,
      onStatus: (link) => this.linkChanged(link),
      onLive: (auth) => void this.live(auth),
      onPoke: (seq) => {
        if (seq > this.cursor) this.kick();
      },
      onPlaces: (ev) => opts.onPlaces?.(ev),
      onRevoked: () => void this.revoked(),
    });
  }

  /** The store, while open: the state layer reads records, the outbox and places from it. */
  get store(): LocalStore | null {
    return this.local;
  }

  /** Opens the store (or finds it locked by the lease) and connects; syncs once live. Call it
   * once. Errors: the store's, other than the lease (LocalError, IndexedDB's). */
  async start(): Promise<void> {
    try {
      await this.opened(await openLocal(this.opts.deviceIdHex, this.opts.keys, { nowMs: this.now() }));
    } catch (e) {
      if (!(e instanceof LocalError && e.code === "lease")) throw e;
      /* what waits in the locked store still waits: say so (no key needed to count it) */
      this.update({ store: "locked", ...(await outboxCounts(this.opts.deviceIdHex)) });
    }
    this.connection.start();
  }

  /** Closes the connection and the store (lock, sign-out). The engine is done. */
  stop(): void {
    this.clearTimers();
    clearTimeout(this.leaseTimer);
    this.connection.stop();
    this.local?.close();
    this.local = null;
    if (this.status.store !== "wiped") this.update({ store: "closed" });
  }

  /**
   * Saves ops on the phone (store/local.ts queue: op counters, the clock's stamps), then sends
   * them if live. Returns their op counters. Errors: LocalError ("lease" while locked, "full",
   * "invalid", "too-big").
   */
  async save(ops: MessageInitShape<typeof MutationSchema>[]): Promise<number[]> {
    const local = this.needLocal();
    const counters = await local.queue(ops, this.connection.serverNow());
    await this.counted(local);
    this.opts.onRecords?.([...new Set(ops.map((op) => op.recordId ?? ""))]);
    this.kick();
    return counters;
  }

  /** Forgets a rejected op, after the user confirmed (store/local.ts discard). */
  async discard(opCounter: number): Promise<void> {
    const local = this.needLocal();
    await local.discard(opCounter);
    await this.counted(local);
  }

  /** Syncs now: at once if live; if waiting to reconnect, reconnects now, and if connecting,
   * again at once should that attempt fail (the browser says the network is back, or the user
   * asks). */
  syncNow(): void {
    const link = this.status.link.kind;
    if (link === "live") this.kick();
    else if (link === "offline") this.reconnect();
    else if (link === "connecting") this.reconnectNow = true;
  }

  private needLocal(): LocalStore {
    if (this.local) return this.local;
    throw new LocalError(this.status.store === "locked" ? "lease" : "closed", `the store is ${this.status.store}`);
  }

  private async opened(local: LocalStore): Promise<void> {
    const [{ cursor, lastSyncMs, leaseUntilMs }, { pending, rejected }] = await Promise.all([local.meta(), local.counts()]);
    this.local = local;
    this.cursor = cursor;
    this.update({ store: "open", lastSyncMs, pending, rejected });
    this.watchLease(leaseUntilMs);
  }

  /* The lease also ends while the store is open: at its end, unless the link is live (the
   * next authentication renews it), the store closes and stays locked until one (live()). */
  private watchLease(untilMs: number): void {
    this.leaseUntil = untilMs;
    clearTimeout(this.leaseTimer);
    if (!untilMs || !this.local) return;
    /* setTimeout's longest wait is 2^31 - 1 ms (24.8 days): past it, it fires at once */
    const wait = Math.min(Math.max(0, untilMs - this.now()), 2 ** 31 - 1);
    this.leaseTimer = setTimeout(() => this.leaseLapsed(), wait + 1);
  }

  private leaseLapsed(): void {
    const local = this.local;
    if (!local || !this.leaseUntil || this.status.link.kind === "live") return;
    if (this.now() <= this.leaseUntil) return this.watchLease(this.leaseUntil);
    this.local = null;
    local.close();
    this.update({ store: "locked" }); /* what waits is counted already */
  }

  private linkChanged(link: LinkStatus): void {
    if (this.restarting && link.kind === "stopped") return;
    this.clearTimers();
    if (link.kind === "live") {
      this.reconnectNow = false;
      this.resyncTimer = setInterval(() => this.kick(), RESYNC_MS);
    }
    this.update({ link });
    if (link.kind !== "live") this.leaseLapsed();
    if (link.kind === "offline" && this.reconnectNow) this.reconnect();
  }

  /* Cuts the Connection's wait before its next attempt. */
  private reconnect(): void {
    this.reconnectNow = false;
    this.restarting = true; /* the Connection's "stopped" between is not news */
    this.connection.stop();
    this.restarting = false;
    this.connection.start();
  }

  /* After an authentication: the lease renewed (opening the store if it had locked it), then
   * a sync. An open store that cannot keep the new lease (full) still syncs: the push frees
   * the room its results take. */
  private async live(auth: AuthOk): Promise<void> {
    const until =
      auth.leaseUntilMs > auth.serverTimeMs ? this.now() + Number(auth.leaseUntilMs - auth.serverTimeMs) : 0;
    try {
      if (this.local) {
        await this.local.renewLease(until);
        this.watchLease(until);
      } else if (this.status.store === "locked") {
        await this.opened(await openLocal(this.opts.deviceIdHex, this.opts.keys, { leaseUntilMs: until }));
        this.opts.onRecords?.([]);
      }
    } catch (e) {
      this.failed(e);
      if (!this.local) return;
    }
    this.opts.onLive?.(auth);
    this.kick();
  }

  /* Starts a sync, or asks for another after the one running. */
  private kick(): void {
    if (this.status.link.kind !== "live" || !this.local) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    clearTimeout(this.retryTimer);
    this.update({ syncing: true });
    void this.loop();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const local = this.local;
      if (!local) break;
      try {
        await this.push(local);
        await this.pull(local);
        this.backoff.reset();
        this.update({ error: null });
      } catch (e) {
        this.failed(e);
        break;
      } finally {
        await this.counted(local).catch(() => undefined); /* closed by stop() or a wipe meanwhile */
      }
    } while (this.again && this.status.link.kind === "live");
    this.running = false;
    this.update({ syncing: false });
  }

  /* libveille's push_outbox. */
  private async push(local: LocalStore): Promise<void> {
    let maxOps: number | undefined;
    const { pendingOps } = await local.counts();
    /* Each turn settles at least one op or halves the batch. Ops queued meanwhile may go now
     * or at the next sync. */
    for (let turn = 0, turns = (pendingOps + 1) * MAX_TURNS_PER_OP; turn < turns; turn++) {
      const batch = await local.pendingBatch(maxOps);
      if (!batch.length) return;
      let results: OpResult[];
      try {
        results = await this.connection.push(batch.map((op) => op.mutation));
      } catch (e) {
        /* Nothing of a refused push is applied: find the op at fault by halving. */
        if (!contentRefusal(e)) throw e;
        if (batch.length > 1) {
          maxOps = Math.floor(batch.length / 2);
          continue;
        }
        results = [rejectedAlone(batch[0]!, e)];
        maxOps = undefined;
      }
      const ids = await local.settle(batch, results, this.now());
      this.opts.onRecords?.(ids);
      await this.counted(local);
    }
  }

  /* libveille's pull_all, one page per request and per local transaction. */
  private async pull(local: LocalStore): Promise<void> {
    let cursor = (await local.meta()).cursor;
    for (let pages = 0; pages < MAX_PULL_PAGES; pages++) {
      const page = await this.connection.pull(cursor);
      const ids = await local.applyPage(page, this.now());
      if (page.nextCursor > cursor) cursor = page.nextCursor;
      this.cursor = cursor;
      if (ids.length) this.opts.onRecords?.(ids);
      if (!page.hasMore) {
        this.update({ lastSyncMs: (await local.meta()).lastSyncMs });
        return;
      }
    }
  }

  private failed(e: unknown): void {
    if (this.status.store === "wiped" || this.status.store === "closed") return;
    this.update({ error: describe(e) });
    /* A lost link is the Connection's to mend; a revocation, revoked()'s. */
    if (!(busy(e) || (e instanceof LocalError && e.code === "busy"))) return;
    const wait = Math.max(this.backoff.next(), e instanceof VeilleError ? e.retryAfterMs : 0);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), wait);
  }

  /* DEVICE_REVOKED: the account (its wrapped keys) first, so that what remains of the store
   * cannot be opened even if deleting it fails; then the store. */
  private async revoked(): Promise<void> {
    this.clearTimers();
    clearTimeout(this.leaseTimer);
    this.local?.close();
    this.local = null;
    let error: string | null = null;
    for (const erase of [accounts.remove, deleteLocal]) {
      try {
        await erase(this.opts.deviceIdHex);
      } catch (e) {
        error = describe(e);
      }
    }
    this.update({ store: "wiped", pending: 0, rejected: 0, syncing: false, error });
  }

  private async counted(local: LocalStore): Promise<void> {
    const { pending, rejected } = await local.counts();
    this.update({ pending, rejected });
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.resyncTimer);
  }

  private update(patch: Partial<SyncStatus>): void {
    const next = { ...this.status, ...patch };
    if ((Object.keys(patch) as (keyof SyncStatus)[]).every((k) => Object.is(next[k], this.status[k]))) return;
    this.status = next;
    this.opts.onStatus(next);
  }
}
