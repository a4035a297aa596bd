/* The hybrid logical clock that stamps person profile edits (docs/sync.md, "Clock rule"), as
 * libveille's hlc.c, in the same words.
 *
 * Order: wall_ms, then counter, then device id bytewise (a shorter device id, an absent one
 * read as empty, sorts before a longer one with the same prefix). Each device keeps the last
 * stamp L seen or made. A local edit at physical time now: wall = max(now, L.wall); counter =
 * L.counter + 1 if wall == L.wall, else 0 (a counter that would overflow moves wall on by
 * 1 ms instead); device = this device. A pulled stamp S: L = max(L, S), so an edit made after
 * seeing another's value is stamped after it even if this computer's clock is late.
 *
 * tick, observe and compareStamps are pure; Hlc holds L for a session. Times are numbers of
 * milliseconds: a stamp whose wall is past 2^53 ms (year 287,000) is treated as malformed. */
import { create } from "@bufbuild/protobuf";
import { HlcSchema, type Hlc as WireHlc } from "../gen/veille/v1/records_pb";

const HLC_DEVICE_BYTES = 16;
const COUNTER_MAX = 0xffff_ffff; /* uint32 on the wire */

export interface Stamp {
  wallMs: number;
  counter: number;
  deviceId: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** < 0, 0 or > 0 as a orders before, equal to or after b; no stamp orders before every stamp. */
export function compareStamps(a: Stamp | undefined, b: Stamp | undefined): number {
  if (!a || !b) return !a && !b ? 0 : !a ? -1 : 1;
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return compareBytes(a.deviceId, b.deviceId);
}

/** The stamp of a local edit at nowMs on deviceId, given the last stamp: the new last stamp. */
export function tick(last: Stamp, nowMs: number, deviceId: Uint8Array): Stamp {
  let wall = Math.max(Math.floor(nowMs), last.wallMs);
  let counter = 0;
  if (wall === last.wallMs) {
    if (last.counter === COUNTER_MAX) wall++;
    else counter = last.counter + 1;
  }
  return { wallMs: wall, counter, deviceId: deviceId.slice() };
}

/** max(last, seen): what a pulled stamp teaches the clock. A stamp whose device id is not
 * HLC_DEVICE_BYTES long teaches nothing. */
export function observe(last: Stamp, seen: Stamp): Stamp {
  if (seen.deviceId.length !== HLC_DEVICE_BYTES || compareStamps(seen, last) <= 0) return last;
  return { wallMs: seen.wallMs, counter: seen.counter, deviceId: seen.deviceId.slice() };
}

/** A stamp from the wire, or undefined if absent or out of range. */
export function fromWire(h: WireHlc | undefined): Stamp | undefined {
  if (!h || h.wallMs > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { wallMs: Number(h.wallMs), counter: h.counter, deviceId: h.deviceId };
}

export function toWire(s: Stamp): WireHlc {
  return create(HlcSchema, { wallMs: BigInt(s.wallMs), counter: s.counter, deviceId: s.deviceId });
}

/**
 * One device's clock L for a session. The caller keeps { wallMs, counter } of last() with the
 * account (store/accounts.ts saveHlc: a time, nothing personal) and gives it back here next
 * session; L's device id is not kept, since only wall and counter decide the next stamp.
 */
export class Hlc {
  private lastStamp: Stamp;

  constructor(
    private readonly deviceId: Uint8Array,
    saved?: { wallMs: number; counter: number },
  ) {
    this.lastStamp = { wallMs: saved?.wallMs ?? 0, counter: saved?.counter ?? 0, deviceId };
  }

  /** The stamp of a local edit at nowMs (server time is best: Connection.serverNow()). */
  local(nowMs: number): WireHlc {
    this.lastStamp = tick(this.lastStamp, nowMs, this.deviceId);
    return toWire(this.lastStamp);
  }

  /** L = max(L, seen), for every stamp of a pulled change; whether L moved. */
  observe(seen: WireHlc | undefined): boolean {
    const s = fromWire(seen);
    if (!s) return false;
    const before = this.lastStamp;
    this.lastStamp = observe(before, s);
    return this.lastStamp !== before;
  }

  last(): { wallMs: number; counter: number } {
    return { wallMs: this.lastStamp.wallMs, counter: this.lastStamp.counter };
  }
}
