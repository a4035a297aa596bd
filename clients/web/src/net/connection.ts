/* The protocol client (docs/protocol.md): one WebSocket to veilled's /sync, enrolment, the
 * challenge-response authentication, requests matched to their replies, and reconnection. No
 * DOM but WebSocket; no storage: the state layer keeps cursors, op counters and views.
 *
 * Design: a Connection keeps one socket at a time and, while started, reconnects by itself
 * with libveille's backoff (backoff.ts; reset after each AuthOk). Every socket event checks
 * that its socket is still the current one, so a late event of a dropped socket changes
 * nothing. A request waits at most REQUEST_TIMEOUT_MS; past it the connection is deemed dead,
 * dropped and made again. Requests are answered in order on a connection, each reply carrying
 * its request id. What the server sends on its own (request id 0) goes to callbacks: Poke,
 * PlacesDelta, and Error DEVICE_REVOKED, which ends the connection for good (status
 * "revoked"). A server that refuses this device while authenticating (AUTH_FAILED and the
 * like, which a new attempt would meet again: libveille's rule) ends it too (status
 * "refused"): retrying would only count failures against the terminal's address and
 * rate-limit every colleague signed in from it. Every other failure reconnects, waiting at
 * least the server's retry_after_ms (RATE_LIMITED, UNAVAILABLE). A challenge from a server
 * other than the one the device enrolled with is never signed.
 *
 * Requests made while not live reject at once with VeilleError "offline"; one pending when
 * the link drops rejects with the link failure (errors.ts): the state layer decides to retry. */
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { AuthProofSchema, EnrolSchema, HelloSchema, type AuthOk, type Principal } from "../gen/veille/v1/auth_pb";
import { EnvelopeSchema, type Envelope } from "../gen/veille/v1/envelope_pb";
import { ErrorCode, type Error as WireError } from "../gen/veille/v1/error_pb";
import {
  DeclareVacanciesSchema,
  SubscribePlacesSchema,
  type CategoryCountSchema,
  type DeclareResult,
  type PlaceCategory,
  type PlacesDelta,
  type PlacesSnapshot,
} from "../gen/veille/v1/places_pb";
import { StatsRequestSchema, type StatsResult } from "../gen/veille/v1/stats_pb";
import {
  PullRequestSchema,
  PushRequestSchema,
  type MutationSchema,
  type OpResult,
  type PullResult,
} from "../gen/veille/v1/sync_pb";
import { Backoff, BACKOFF_FIRST_MS } from "./backoff";
import { closeReason, VeilleError } from "./errors";

const SUBPROTOCOL = "veille.v1";
const PROTOCOL_VERSION = 1;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_RECEIVED_BYTES = 16 * 1024 * 1024; /* as libveille's CONN_MAX_MESSAGE */
const MAX_SENT_BYTES = 1024 * 1024; /* veilled's default --max-frame */
const MAX_MUTATIONS = 1000;
const MAX_TERRITORIES = 16;
const MAX_CATEGORIES = 7;
const PULL_ATTEMPTS = 5; /* a pull answered UNAVAILABLE is asked again, this many times in all */
const PULL_RETRY_MAX_MS = 5_000;
const ID_BYTES = 16;
const NONCE_BYTES = 32;

/** What the link indicator shows. Times are Date.now() milliseconds; reasons are French. */
export type LinkStatus =
  /** attempt: 1, 2... since the last time the link was live */
  | { kind: "connecting"; attempt: number }
  | { kind: "live"; since: number }
  /** since: when the link was lost (the data is as of then); retryAt: the next attempt */
  | { kind: "offline"; since: number; retryAt: number; reason: string }
  /** the server refused this device while authenticating (code: AUTH_FAILED,
   * UNSUPPORTED_VERSION...): no reconnection */
  | { kind: "refused"; code: ErrorCode; reason: string }
  | { kind: "revoked" }
  | { kind: "stopped" };

/** Signs the authentication proof (crypto/keys.ts Keys is one). */
export interface Signer {
  signAuth(nonce: Uint8Array, serverId: Uint8Array, deviceId: Uint8Array): Promise<Uint8Array>;
}

export type PlacesEvent = { snapshot: PlacesSnapshot } | { delta: PlacesDelta };

export interface ConnectionOptions {
  /** ws://host:port/sync or wss://… */
  url: string;
  deviceId: Uint8Array;
  /** the server this device enrolled with: a challenge from another one is never signed */
  serverId: Uint8Array;
  signer: Signer;
  /** Hello.client, <= 64 bytes */
  client?: string;
  onStatus(s: LinkStatus): void;
  /** after every (re)authentication: the state layer then subscribes again and pulls */
  onLive(auth: AuthOk): void;
  onPoke(seq: bigint): void;
  /** snapshots and deltas in the order they arrived (a snapshot also resolves its
   * subscribePlaces); the gap rule is PlacesTracker's */
  onPlaces(ev: PlacesEvent): void;
  /** DEVICE_REVOKED: the caller erases the account and locks */
  onRevoked(): void;
  /** the jitter's source, in [0, 1) (tests) */
  random?: () => number;
  /** the WebSocket class: the browser's by default, the `ws` package's in Node tests */
  WebSocketImpl?: typeof WebSocket;
  requestTimeoutMs?: number;
}

type Body = Envelope["body"];
type BodyCase = NonNullable<Body["case"]>;
type BodyValue<C extends BodyCase> = Extract<Body, { case: C }>["value"];

interface Pending {
  expect: BodyCase;
  resolve(value: unknown): void;
  reject(e: VeilleError): void;
  timer: ReturnType<typeof setTimeout>;
}

function serverError(e: WireError): VeilleError {
  return new VeilleError(e.code, e.retryAfterMs, e.message);
}

function decode(data: unknown): Envelope | VeilleError {
  if (!(data instanceof ArrayBuffer)) return new VeilleError("protocol", 0, "the server sent a text message");
  if (data.byteLength > MAX_RECEIVED_BYTES) return new VeilleError("protocol", 0, "message over the size cap");
  try {
    return fromBinary(EnvelopeSchema, new Uint8Array(data));
  } catch {
    return new VeilleError("protocol", 0, "undecodable message");
  }
}

function encode(requestId: bigint, body: Body): Uint8Array<ArrayBuffer> | VeilleError {
  /* toBinary's buffer is a plain ArrayBuffer, which WebSocket.send wants said. */
  const frame = toBinary(EnvelopeSchema, create(EnvelopeSchema, { requestId, body })) as Uint8Array<ArrayBuffer>;
  return frame.length <= MAX_SENT_BYTES
    ? frame
    : new VeilleError(ErrorCode.LIMIT_EXCEEDED, 0, "request over the server's message size cap");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/* Errors while authenticating that a new attempt would meet again (libveille's retryable()). */
function refuses(code: VeilleError["code"]): code is ErrorCode {
  return (
    typeof code === "number" &&
    code !== ErrorCode.RATE_LIMITED &&
    code !== ErrorCode.UNAVAILABLE &&
    code !== ErrorCode.INTERNAL
  );
}

export interface Enrolled {
  deviceId: Uint8Array;
  serverId: Uint8Array;
  principal: Principal;
}

/**
 * Enrols this browser as a device (docs/protocol.md, "Enrolment") on a connection of its own,
 * closed after the answer. code is the normalised code the signature covers (Keys.signEnrol
 * gives both). Errors: VeilleError PAIRING_INVALID, RATE_LIMITED (retryAfterMs), another
 * server code, or a link failure ("lost", "timeout", "protocol").
 */
export function enrol(
  url: string,
  args: { code: string; publicKey: Uint8Array; label: string; signature: Uint8Array },
  opts: { WebSocketImpl?: typeof WebSocket; timeoutMs?: number } = {},
): Promise<Enrolled> {
  const WS = opts.WebSocketImpl ?? WebSocket;
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WS(url, SUBPROTOCOL);
    } catch (e) {
      reject(new VeilleError("lost", 0, String(e)));
      return;
    }
    let settled = false;
    const finish = (r: Enrolled | VeilleError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.close(1000);
      if (r instanceof VeilleError) reject(r);
      else resolve(r);
    };
    const timer = setTimeout(() => finish(new VeilleError("timeout")), opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
    ws.binaryType = "arraybuffer";
    ws.onerror = () => {}; /* a close event follows */
    ws.onclose = (ev) => finish(new VeilleError("lost", 0, `closed (${ev.code})`));
    ws.onopen = () => {
      if (ws.protocol !== SUBPROTOCOL) return finish(new VeilleError("protocol", 0, "subprotocol refused"));
      const { code: pairingCode, publicKey, label, signature } = args;
      const frame = encode(1n, {
        case: "enrol",
        value: create(EnrolSchema, { pairingCode, publicKey, label, signature }),
      });
      if (frame instanceof VeilleError) return finish(frame);
      ws.send(frame);
    };
    ws.onmessage = (ev) => {
      const env = decode(ev.data);
      if (env instanceof VeilleError) return finish(env);
      const { body } = env;
      if (body.case === "error") return finish(serverError(body.value));
      if (env.requestId !== 1n) return; /* nothing else is expected on this connection */
      const ok = body.case === "enrolOk" ? body.value : null;
      if (!ok || ok.deviceId.length !== ID_BYTES || ok.serverId.length !== ID_BYTES || !ok.principal)
        return finish(new VeilleError("protocol", 0, "malformed EnrolOk"));
      finish({ deviceId: ok.deviceId, serverId: ok.serverId, principal: ok.principal });
    };
  });
}

export class Connection {
  private readonly WS: typeof WebSocket;
  private readonly backoff: Backoff;
  private readonly timeoutMs: number;
  private running = false;
  private socket: WebSocket | null = null;
  private live = false;
  private attempt = 0;
  private nextId = 0n;
  private readonly pending = new Map<bigint, Pending>();
  private readonly sleepers = new Set<() => void>();
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private offlineSince = 0;
  private offsetMs = 0;

  constructor(private readonly opts: ConnectionOptions) {
    if (opts.deviceId.length !== ID_BYTES || opts.serverId.length !== ID_BYTES)
      throw new RangeError("device and server ids are 16 bytes");
    this.WS = opts.WebSocketImpl ?? WebSocket;
    this.backoff = new Backoff(opts.random);
    this.timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /** Connects, and keeps connected until stop(), revocation or refusal. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.offlineSince = 0;
    this.backoff.reset();
    this.connect();
  }

  /** Closes the connection; no reconnection. Pending requests reject "offline". */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.retryTimer);
    this.close(new VeilleError("offline"));
    this.opts.onStatus({ kind: "stopped" });
  }

  /** The server's clock, as last learnt (AuthOk, a places snapshot); Date.now() before. */
  serverNow(): number {
    return Date.now() + this.offsetMs;
  }

  /** Sends 1 to 1000 mutations; one result per mutation, in order (docs/sync.md). */
  async push(mutations: MessageInitShape<typeof MutationSchema>[]): Promise<OpResult[]> {
    if (mutations.length < 1 || mutations.length > MAX_MUTATIONS)
      throw new VeilleError(ErrorCode.LIMIT_EXCEEDED, 0, "push: 1 to 1000 mutations");
    const r = await this.request({ case: "push", value: create(PushRequestSchema, { mutations }) }, "pushResult");
    if (r.results.length !== mutations.length)
      throw new VeilleError("protocol", 0, "push: not one result per mutation");
    return r.results;
  }

  /** One page of changes after cursor (limit 0: the server's 500). Asked again, after the
   * server's retry_after_ms, while it answers UNAVAILABLE (a page still being read). */
  async pull(cursor: bigint, limit = 0): Promise<PullResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request({ case: "pull", value: create(PullRequestSchema, { cursor, limit }) }, "pullResult");
      } catch (e) {
        if (!(e instanceof VeilleError) || e.code !== ErrorCode.UNAVAILABLE || attempt === PULL_ATTEMPTS) throw e;
        await this.sleep(Math.min(e.retryAfterMs || BACKOFF_FIRST_MS, PULL_RETRY_MAX_MS));
      }
    }
  }

  /** Subscribes to the places of territories (empty: the caller's own) for centres with
   * capacity in categories (empty: all), replacing any subscription of this connection. A
   * new connection has none: subscribe again in onLive. */
  subscribePlaces(territories: string[] = [], categories: PlaceCategory[] = []): Promise<PlacesSnapshot> {
    if (territories.length > MAX_TERRITORIES || categories.length > MAX_CATEGORIES)
      return Promise.reject(
        new VeilleError(ErrorCode.LIMIT_EXCEEDED, 0, "subscribe: too many territories or categories"),
      );
    return this.request(
      { case: "subscribePlaces", value: create(SubscribePlacesSchema, { territories, categories }) },
      "placesSnapshot",
    );
  }

  /** Declares the caller's centre's vacant places, at most one count per category. */
  declare(vacancies: MessageInitShape<typeof CategoryCountSchema>[]): Promise<DeclareResult> {
    if (vacancies.length > MAX_CATEGORIES)
      return Promise.reject(new VeilleError(ErrorCode.LIMIT_EXCEEDED, 0, "declare: at most one count per category"));
    return this.request(
      { case: "declareVacancies", value: create(DeclareVacanciesSchema, { vacancies }) },
      "declareResult",
    );
  }

  /** The territory's activity indicators from fromDay to toDay ("YYYY-MM-DD", Europe/Paris;
   * empty: today). */
  stats(fromDay = "", toDay = ""): Promise<StatsResult> {
    return this.request({ case: "statsRequest", value: create(StatsRequestSchema, { fromDay, toDay }) }, "statsResult");
  }

  private connect(): void {
    this.attempt++;
    this.nextId = 0n;
    this.opts.onStatus({ kind: "connecting", attempt: this.attempt });
    if (!this.running) return; /* stopped from onStatus */
    let ws: WebSocket;
    try {
      ws = new this.WS(this.opts.url, SUBPROTOCOL);
    } catch (e) {
      this.fail(new VeilleError("lost", 0, String(e)));
      return;
    }
    this.socket = ws;
    ws.binaryType = "arraybuffer";
    this.openTimer = setTimeout(() => this.fail(new VeilleError("timeout", 0, "no handshake")), this.timeoutMs);
    ws.onerror = () => {}; /* a close event follows */
    ws.onclose = (ev) => {
      if (ws === this.socket) this.fail(new VeilleError("lost", 0, `closed (${ev.code})`), closeReason(ev.code));
    };
    ws.onmessage = (ev) => {
      if (ws === this.socket) this.receive(ev.data);
    };
    ws.onopen = () => {
      if (ws !== this.socket) return;
      clearTimeout(this.openTimer);
      void this.authenticate(ws);
    };
  }

  private async authenticate(ws: WebSocket): Promise<void> {
    const { deviceId, serverId } = this.opts;
    try {
      if (ws.protocol !== SUBPROTOCOL) throw new VeilleError("protocol", 0, "subprotocol refused");
      const hello = create(HelloSchema, {
        protocolVersion: PROTOCOL_VERSION,
        deviceId,
        client: this.opts.client ?? "veille-web",
      });
      const ch = await this.call({ case: "hello", value: hello }, "challenge");
      /* Never sign for another server: the url now leads elsewhere, or its data was reset. */
      if (ch.nonce.length !== NONCE_BYTES || !sameBytes(ch.serverId, serverId))
        throw new VeilleError("protocol", 0, "not the server this device enrolled with");
      let signature: Uint8Array;
      try {
        signature = await this.opts.signer.signAuth(ch.nonce, ch.serverId, deviceId);
      } catch (e) {
        throw new VeilleError("lost", 0, `cannot sign: ${String(e)}`);
      }
      if (ws !== this.socket) return;
      const ok = await this.call({ case: "authProof", value: create(AuthProofSchema, { signature }) }, "authOk");
      this.live = true;
      this.attempt = 0;
      this.offlineSince = 0;
      this.backoff.reset();
      this.learnTime(ok.serverTimeMs);
      this.opts.onStatus({ kind: "live", since: Date.now() });
      if (ws === this.socket) this.opts.onLive(ok);
    } catch (e) {
      if (ws === this.socket) this.fail(e instanceof VeilleError ? e : new VeilleError("protocol", 0, String(e)));
    }
  }

  private receive(data: unknown): void {
    const env = decode(data);
    if (env instanceof VeilleError) return this.fail(env);
    const { requestId, body } = env;
    if (body.case === "error" && (requestId === 0n || body.value.code === ErrorCode.DEVICE_REVOKED))
      return this.fail(serverError(body.value));
    if (requestId === 0n) {
      if (body.case === "poke") this.opts.onPoke(body.value.seq);
      else if (body.case === "placesDelta") this.opts.onPlaces({ delta: body.value });
      return; /* anything else the server sends on its own is for a newer client */
    }
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    if (body.case === "error") return p.reject(serverError(body.value));
    if (body.case !== p.expect) {
      const e = new VeilleError("protocol", 0, `${body.case} in reply to a request for ${p.expect}`);
      p.reject(e);
      return this.fail(e);
    }
    if (body.case === "placesSnapshot") {
      this.learnTime(body.value.nowMs);
      this.opts.onPlaces({ snapshot: body.value });
    }
    p.resolve(body.value);
  }

  /* A request of an authenticated session. */
  private request<C extends BodyCase>(body: Body, expect: C): Promise<BodyValue<C>> {
    return this.live ? this.call(body, expect) : Promise.reject(new VeilleError("offline"));
  }

  private call<C extends BodyCase>(body: Body, expect: C): Promise<BodyValue<C>> {
    const ws = this.socket;
    if (!ws) return Promise.reject(new VeilleError("offline"));
    const requestId = ++this.nextId;
    const frame = encode(requestId, body);
    if (frame instanceof VeilleError) return Promise.reject(frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        const e = new VeilleError("timeout", 0, `no answer to ${body.case}`);
        reject(e);
        this.fail(e);
      }, this.timeoutMs);
      this.pending.set(requestId, { expect, resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(frame);
    });
  }

  /** Ends the current connection because of err (reason: French, for the status); then
   * reconnects after a wait, or not (revoked, refused, stopped). */
  private fail(err: VeilleError, reason = err.message): void {
    const wasLive = this.live;
    this.close(err);
    if (!this.running) return;
    if (err.code === ErrorCode.DEVICE_REVOKED) {
      this.running = false;
      this.opts.onStatus({ kind: "revoked" });
      this.opts.onRevoked();
      return;
    }
    if (!wasLive && refuses(err.code)) {
      this.running = false;
      this.opts.onStatus({ kind: "refused", code: err.code, reason });
      return;
    }
    const now = Date.now();
    this.offlineSince ||= now;
    const wait = Math.max(this.backoff.next(), err.retryAfterMs);
    this.retryTimer = setTimeout(() => this.connect(), wait); /* before onStatus, which may stop() */
    this.opts.onStatus({ kind: "offline", since: this.offlineSince, retryAt: now + wait, reason });
  }

  /** Closes the socket, rejects what waited for it (with err if it is a link failure or a
   * revocation, else "lost") and wakes the sleepers. */
  private close(err: VeilleError): void {
    const ws = this.socket;
    this.socket = null;
    this.live = false;
    clearTimeout(this.openTimer);
    ws?.close(1000);
    const cause =
      typeof err.code === "string" || err.code === ErrorCode.DEVICE_REVOKED
        ? err
        : new VeilleError("lost", 0, err.detail);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(cause);
    }
    this.pending.clear();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  /** Waits ms, or less if the connection ends first. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private learnTime(serverMs: bigint): void {
    if (serverMs > 0n) this.offsetMs = Number(serverMs) - Date.now();
  }
}

export type PlacesOutcome = "applied" | "gap" | "ignored";

/**
 * The one rule of places resync (docs/places.md), as libveille's places.c: a snapshot sets
 * each territory's sequence; a delta whose seq is the territory's last + 1 is "applied" and
 * becomes the last; any other seq (a gap, or a repeat) is a "gap": the caller subscribes
 * again, and the territory's deltas are "ignored" until the new snapshot.
 */
export class PlacesTracker {
  private readonly seqs = new Map<string, bigint>();

  apply(ev: PlacesEvent): PlacesOutcome {
    if ("snapshot" in ev) {
      this.seqs.clear(); /* a new subscription replaces the previous one */
      for (const t of ev.snapshot.territories) this.seqs.set(t.territory, t.seq);
      return "applied";
    }
    const territory = ev.delta.centre?.territory ?? "";
    const last = this.seqs.get(territory);
    if (last === undefined) return "ignored";
    if (ev.delta.seq !== last + 1n) {
      this.seqs.delete(territory);
      return "gap";
    }
    this.seqs.set(territory, ev.delta.seq);
    return "applied";
  }
}
