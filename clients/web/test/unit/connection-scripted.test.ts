/* net/connection.ts against a scripted server, in this process: the paths a real veilled
 * does not take on demand (a request never answered, a pull answered UNAVAILABLE, a reply of
 * the wrong kind, a text frame, the server's clock) and the client's own limits. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AuthOkSchema, ChallengeSchema } from "../../src/gen/veille/v1/auth_pb";
import { EnvelopeSchema, type Envelope } from "../../src/gen/veille/v1/envelope_pb";
import { ErrorCode, ErrorSchema } from "../../src/gen/veille/v1/error_pb";
import { PlacesDeltaSchema, PlacesSnapshotSchema } from "../../src/gen/veille/v1/places_pb";
import { PokeSchema, PullResultSchema, PushResultSchema } from "../../src/gen/veille/v1/sync_pb";
import { Connection, type LinkStatus, type PlacesEvent } from "../../src/net/connection";
import { VeilleError } from "../../src/net/errors";

const SERVER_ID = new Uint8Array(16).fill(0x5e);
const DEVICE_ID = new Uint8Array(16).fill(0xd1);
const AHEAD_MS = 60_000; /* the scripted server's clock runs a minute ahead */

type Body = Envelope["body"];
/** What the scripted server does with a request: a reply body, or nothing (no answer, unless
 * it is Hello or AuthProof: then anyone is authenticated). */
type Script = (req: Envelope) => Body | undefined;

function authenticate(req: Envelope): Body | undefined {
  if (req.body.case === "hello")
    return {
      case: "challenge",
      value: create(ChallengeSchema, { nonce: new Uint8Array(32), serverId: SERVER_ID, expiresInMs: 10_000 }),
    };
  if (req.body.case === "authProof")
    return { case: "authOk", value: create(AuthOkSchema, { serverTimeMs: BigInt(Date.now() + AHEAD_MS) }) };
  return undefined;
}

/** A WebSocket whose far end is the Script. Events come asynchronously, as a browser's do. */
class ScriptedSocket {
  static script: Script = () => undefined;
  static opened: ScriptedSocket[] = [];
  readonly requests: Envelope[] = [];
  binaryType = "blob";
  readonly protocol: string;
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(_url: string, protocol: string) {
    this.protocol = protocol;
    ScriptedSocket.opened.push(this);
    setTimeout(() => this.onopen?.({}));
  }

  send(frame: Uint8Array): void {
    const req = fromBinary(EnvelopeSchema, frame);
    this.requests.push(req);
    setTimeout(() => {
      const body = ScriptedSocket.script(req) ?? authenticate(req);
      if (body) this.deliver(req.requestId, body);
    });
  }

  /** Sends the client an Envelope (request id 0: on the server's own). */
  deliver(requestId: bigint, body: Body): void {
    this.raw(toBinary(EnvelopeSchema, create(EnvelopeSchema, { requestId, body })).slice().buffer);
  }

  raw(data: unknown): void {
    if (!this.closed) this.onmessage?.({ data });
  }

  close(code = 1000): void {
    if (this.closed) return;
    this.closed = true;
    setTimeout(() => this.onclose?.({ code }));
  }
}

function connect(script: Script, opts: { timeoutMs?: number } = {}) {
  ScriptedSocket.script = script;
  ScriptedSocket.opened = [];
  const statuses: LinkStatus[] = [];
  const places: PlacesEvent[] = [];
  const pokes: bigint[] = [];
  let revoked = 0;
  const waiters: (() => void)[] = [];
  const note = () => {
    for (const w of waiters.splice(0)) w();
  };
  const conn = new Connection({
    url: "ws://scripted/sync",
    deviceId: DEVICE_ID,
    serverId: SERVER_ID,
    signer: { signAuth: async () => new Uint8Array(64) },
    WebSocketImpl: ScriptedSocket as unknown as typeof WebSocket,
    random: () => 0, // reconnect at once
    requestTimeoutMs: opts.timeoutMs,
    onStatus: (s) => (statuses.push(s), note()),
    onLive: note,
    onPoke: (seq) => (pokes.push(seq), note()),
    onPlaces: (ev) => (places.push(ev), note()),
    onRevoked: () => (revoked++, note()),
  });
  /** Resolves when the n-th status of that kind has come (bounded). */
  const until = (kind: LinkStatus["kind"], n = 1) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${kind} #${n}: ${JSON.stringify(statuses)}`)), 5_000);
      const check = () => {
        if (statuses.filter((s) => s.kind === kind).length < n) return void waiters.push(check);
        clearTimeout(timer);
        resolve();
      };
      check();
    });
  conn.start();
  return { conn, statuses, places, pokes, until, revoked: () => revoked };
}

const isCode = (code: VeilleError["code"]) => (e: unknown) => e instanceof VeilleError && e.code === code;
const pullResult: Body = { case: "pullResult", value: create(PullResultSchema, { nextCursor: 7n }) };

test("hello and proof as the protocol says; the server's clock is learnt", async () => {
  const c = connect(() => undefined);
  await c.until("live");
  const [hello, proof] = ScriptedSocket.opened[0]!.requests;
  assert.equal(ScriptedSocket.opened[0]!.protocol, "veille.v1");
  assert.equal(ScriptedSocket.opened[0]!.binaryType, "arraybuffer");
  assert.ok(hello!.body.case === "hello" && hello!.body.value.protocolVersion === 1);
  assert.deepEqual(hello!.body.case === "hello" && hello!.body.value.deviceId, DEVICE_ID);
  assert.deepEqual([hello!.requestId, proof!.requestId], [1n, 2n]);
  assert.ok(Math.abs(c.conn.serverNow() - (Date.now() + AHEAD_MS)) < 1_000);
  c.conn.stop();
});

test("pull: asked again after retry_after_ms while UNAVAILABLE; at most 5 times", async () => {
  let unavailable = 2;
  const c = connect((req) =>
    req.body.case !== "pull"
      ? undefined
      : unavailable-- > 0
        ? { case: "error", value: create(ErrorSchema, { code: ErrorCode.UNAVAILABLE, retryAfterMs: 30 }) }
        : pullResult,
  );
  await c.until("live");
  const t0 = Date.now();
  assert.equal((await c.conn.pull(3n, 100)).nextCursor, 7n);
  assert.ok(Date.now() - t0 >= 60, "waited retry_after_ms twice");
  const pulls = ScriptedSocket.opened[0]!.requests.filter((r) => r.body.case === "pull");
  assert.equal(pulls.length, 3);
  assert.ok(pulls[0]!.body.case === "pull" && pulls[0]!.body.value.cursor === 3n && pulls[0]!.body.value.limit === 100);

  unavailable = 100;
  await assert.rejects(c.conn.pull(0n), isCode(ErrorCode.UNAVAILABLE));
  assert.equal(ScriptedSocket.opened[0]!.requests.filter((r) => r.body.case === "pull").length, 3 + 5);
  assert.equal(c.statuses.at(-1)!.kind, "live", "a busy server is no reason to drop the link");
  c.conn.stop();
});

test("a request never answered: timeout, the link is dropped and made again", async () => {
  const c = connect(() => undefined, { timeoutMs: 100 });
  await c.until("live");
  await assert.rejects(c.conn.stats(), isCode("timeout"));
  await c.until("offline");
  await c.until("live", 2);
  assert.equal(ScriptedSocket.opened.length, 2);
  assert.ok(ScriptedSocket.opened[0]!.closed);
  assert.equal(ScriptedSocket.opened[1]!.requests[0]!.requestId, 1n, "request ids start again on a new connection");
  c.conn.stop();
});

test("a reply of the wrong kind, a text frame, an undecodable one: protocol failures, reconnection", async () => {
  const c = connect((req) => (req.body.case === "declareVacancies" ? pullResult : undefined));
  await c.until("live");
  await assert.rejects(c.conn.declare([]), isCode("protocol"));
  await c.until("live", 2);
  ScriptedSocket.opened[1]!.raw("hello");
  await c.until("live", 3);
  ScriptedSocket.opened[2]!.raw(new Uint8Array([0xff, 0xff, 0xff]).buffer);
  await c.until("live", 4);
  const reasons = c.statuses.flatMap((s) => (s.kind === "offline" ? [s.reason] : []));
  assert.equal(reasons.length, 3);
  for (const r of reasons) assert.match(r, /^Réponse du serveur illisible/);
  c.conn.stop();
});

test("what the server sends on its own: pokes, places deltas; snapshots also go to onPlaces", async () => {
  const c = connect((req) =>
    req.body.case === "subscribePlaces"
      ? { case: "placesSnapshot", value: create(PlacesSnapshotSchema, { nowMs: BigInt(Date.now() + 2 * AHEAD_MS) }) }
      : undefined,
  );
  await c.until("live");
  const s = ScriptedSocket.opened[0]!;
  s.deliver(0n, { case: "poke", value: create(PokeSchema, { seq: 42n }) });
  s.deliver(0n, { case: "placesDelta", value: create(PlacesDeltaSchema, { seq: 5n }) });
  const snap = await c.conn.subscribePlaces(["75"]);
  assert.deepEqual(c.pokes, [42n]);
  assert.equal(c.places.length, 2);
  assert.ok("delta" in c.places[0]! && c.places[0].delta.seq === 5n);
  assert.ok("snapshot" in c.places[1]! && c.places[1].snapshot === snap);
  assert.ok(Math.abs(c.conn.serverNow() - (Date.now() + 2 * AHEAD_MS)) < 1_000, "clock from the snapshot");
  c.conn.stop();
});

test("DEVICE_REVOKED on the server's own: pending requests fail, no reconnection", async () => {
  const c = connect(() => undefined);
  await c.until("live");
  const pending = c.conn.pull(0n);
  ScriptedSocket.opened[0]!.deliver(0n, {
    case: "error",
    value: create(ErrorSchema, { code: ErrorCode.DEVICE_REVOKED }),
  });
  await assert.rejects(pending, isCode(ErrorCode.DEVICE_REVOKED));
  await c.until("revoked");
  assert.equal(c.revoked(), 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ScriptedSocket.opened.length, 1);
  assert.equal(c.statuses.at(-1)!.kind, "revoked");
});

test("RATE_LIMITED while authenticating: the next attempt waits retry_after_ms", async () => {
  let limited = true;
  const c = connect((req) =>
    req.body.case === "hello" && limited
      ? ((limited = false),
        { case: "error", value: create(ErrorSchema, { code: ErrorCode.RATE_LIMITED, retryAfterMs: 300 }) })
      : undefined,
  );
  await c.until("live");
  const off = c.statuses.find((s) => s.kind === "offline") as Extract<LinkStatus, { kind: "offline" }>;
  assert.equal(off.retryAt - off.since, 300);
  assert.match(off.reason, /^Trop de tentatives\. Réessayez dans 1 s\./);
  c.conn.stop();
});

test("the client's own limits, checked before sending", async () => {
  const c = connect((req) =>
    req.body.case === "push" ? { case: "pushResult", value: create(PushResultSchema, { results: [] }) } : undefined,
  );
  await c.until("live");
  await assert.rejects(c.conn.push([]), isCode(ErrorCode.LIMIT_EXCEEDED));
  await assert.rejects(c.conn.push(Array.from({ length: 1001 }, () => ({}))), isCode(ErrorCode.LIMIT_EXCEEDED));
  await assert.rejects(
    c.conn.subscribePlaces(Array.from({ length: 17 }, () => "75")),
    isCode(ErrorCode.LIMIT_EXCEEDED),
  );
  await assert.rejects(
    c.conn.declare(Array.from({ length: 8 }, () => ({ count: 1 }))),
    isCode(ErrorCode.LIMIT_EXCEEDED),
  );
  const big = {
    recordId: "0".repeat(32),
    record: { case: "encounter" as const, value: { note: "x".repeat(1024 * 1024) } },
  };
  await assert.rejects(c.conn.push([big]), isCode(ErrorCode.LIMIT_EXCEEDED));
  const sent = ScriptedSocket.opened[0]!.requests.map((r) => r.body.case);
  assert.deepEqual(sent, ["hello", "authProof"], "nothing over a limit was sent");
  /* A push answered with fewer results than mutations is the server's fault. */
  await assert.rejects(c.conn.push([{ opCounter: 1n }]), isCode("protocol"));
  c.conn.stop();
  await assert.rejects(c.conn.stats(), isCode("offline"));
  assert.deepEqual(c.statuses.at(-1), { kind: "stopped" });
});
