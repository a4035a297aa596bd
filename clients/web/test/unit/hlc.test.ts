/* net/hlc.ts: the clock rule of docs/sync.md and the stamp order, with the vectors of
 * libveille's tests/client/test_hlc.c and the example of docs/sync.md. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { HlcSchema } from "../../src/gen/veille/v1/records_pb";
import { compareStamps, fromWire, Hlc, observe, tick, toWire, type Stamp } from "../../src/net/hlc";

const devA = new Uint8Array(16);
devA.set([0xaa, 1]);
const devB = new Uint8Array(16);
devB.set([0xbb, 1]);

const stamp = (wallMs: number, counter: number, deviceId: Uint8Array): Stamp => ({ wallMs, counter, deviceId });

test("tick: wall = max(now, L.wall); counter L.counter + 1 on the same wall, else 0; our device", () => {
  let l = stamp(0, 0, devB);
  l = tick(l, 1000, devA); /* clock ahead of L */
  assert.deepEqual(l, stamp(1000, 0, devA));
  l = tick(l, 1000, devA); /* same millisecond */
  assert.deepEqual([l.wallMs, l.counter], [1000, 1]);
  l = tick(l, 900, devA); /* clock went back: L's wall, counter goes on */
  assert.deepEqual([l.wallMs, l.counter], [1000, 2]);
  l = tick(l, 1001, devA);
  assert.deepEqual([l.wallMs, l.counter], [1001, 0]);
});

test("tick: a counter that would overflow moves the wall on", () => {
  const before = stamp(5000, 0xffff_ffff, devA);
  const l = tick(before, 10, devA);
  assert.deepEqual([l.wallMs, l.counter], [5001, 0]);
  assert.ok(compareStamps(l, before) > 0);
});

test("order: wall, then counter, then device bytes; observe keeps the greater", () => {
  let a = stamp(5000, 0, devA);
  const b = stamp(5000, 0, devB);
  assert.ok(compareStamps(a, b) < 0);
  assert.ok(compareStamps(b, a) > 0);
  assert.equal(compareStamps(a, a), 0);
  a = stamp(5000, 1, devA);
  assert.ok(compareStamps(a, b) > 0);
  a = stamp(4999, 9, devB);
  assert.ok(compareStamps(a, b) < 0);

  /* Seeing B's (5000, 3, B) with a late clock: A's next edit still comes after it. */
  let l = stamp(1000, 0, devA);
  const seen = stamp(5000, 3, devB);
  const moved = observe(l, seen);
  assert.notEqual(moved, l);
  assert.equal(observe(moved, seen), moved); /* not greater: no change */
  l = tick(moved, 4000, devA);
  assert.deepEqual([l.wallMs, l.counter], [5000, 4]);
  assert.ok(compareStamps(seen, undefined) > 0);
  assert.ok(compareStamps(undefined, seen) < 0);
  assert.equal(compareStamps(undefined, undefined), 0);

  /* A stamp with a malformed device id teaches nothing. */
  assert.equal(observe(l, stamp(99999, 0, new Uint8Array(3))), l);
  /* A shorter device id sorts before a longer one with the same prefix. */
  assert.ok(compareStamps(stamp(1, 0, devA.subarray(0, 2)), stamp(1, 0, devA)) < 0);
});

test("docs/sync.md example: both arrival orders converge", () => {
  const nick = {
    jo: { v: "Jo", s: stamp(1000, 0, devA) },
    a: { v: "Jojo", s: stamp(5000, 0, devA) },
    b: { v: "Joe", s: stamp(5000, 0, devB) },
  };
  const merge = (held: { v: string; s: Stamp }, incoming: { v: string; s: Stamp }) =>
    compareStamps(incoming.s, held.s) > 0 ? incoming : held;
  assert.equal(merge(merge(nick.jo, nick.a), nick.b).v, "Joe"); /* A's op, then B's */
  assert.equal(merge(merge(nick.jo, nick.b), nick.a).v, "Joe"); /* B's op, then A's */
  /* B's ANIMAL at (5000, 1, B) was stamped after its NICKNAME by B's own clock. */
  const animal = tick(stamp(5000, 0, devB), 5000, devB);
  assert.deepEqual([animal.wallMs, animal.counter], [5000, 1]);
});

test("wire: stamps go and come back; an absent or out-of-range one is undefined", () => {
  const s = stamp(0x0102_0304_0506, 0x0a0b0c0d, devB);
  const w = toWire(s);
  assert.equal(w.wallMs, 0x0102_0304_0506n);
  assert.deepEqual(fromWire(w), s);
  assert.equal(fromWire(undefined), undefined);
  assert.equal(fromWire(create(HlcSchema, { wallMs: 1n << 60n, deviceId: devB })), undefined);
});

test("Hlc: a session's clock, from and to what the account keeps", () => {
  const clock = new Hlc(devA, { wallMs: 5000, counter: 3 });
  const first = clock.local(4000); /* this computer's clock is late */
  assert.deepEqual([first.wallMs, first.counter, first.deviceId], [5000n, 4, devA]);
  assert.equal(clock.observe(create(HlcSchema, { wallMs: 7000n, counter: 2, deviceId: devB })), true);
  assert.equal(clock.observe(create(HlcSchema, { wallMs: 6000n, counter: 9, deviceId: devB })), false);
  assert.equal(clock.observe(undefined), false);
  const next = clock.local(6500);
  assert.deepEqual([next.wallMs, next.counter, next.deviceId], [7000n, 3, devA]);
  assert.deepEqual(clock.last(), { wallMs: 7000, counter: 3 });
  assert.deepEqual(new Hlc(devA).local(42), toWire(stamp(42, 0, devA)));
});
