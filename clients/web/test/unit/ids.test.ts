/* net/ids.ts: record ids and hex. */
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";
import { fromHex, newRecordId, toHex } from "../../src/net/ids";

/* Node 18 has no global crypto (browsers and Node 19+ do). */
globalThis.crypto ??= webcrypto as Crypto;

test("a record id is 32 lowercase hex characters, fresh each time", () => {
  const ids = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const id = newRecordId();
    assert.match(id, /^[0-9a-f]{32}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 100);
});

test("hex and back", () => {
  const b = new Uint8Array([0, 1, 0x7f, 0x80, 0xfe, 0xff]);
  assert.equal(toHex(b), "00017f80feff");
  assert.deepEqual(fromHex("00017f80feff"), b);
  assert.deepEqual(fromHex("00017F80FEFF"), b);
  assert.deepEqual(fromHex(""), new Uint8Array());
  for (const bad of ["0", "abc", "zz", "0x00", " 00"]) assert.throws(() => fromHex(bad), RangeError, bad);
});
