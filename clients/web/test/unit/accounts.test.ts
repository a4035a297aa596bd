/* store/accounts.ts on fake-indexeddb (an in-memory IndexedDB for Node). */
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import * as accounts from "../../src/store/accounts";
import type { Account } from "../../src/store/accounts";

const wrapped = {
  v: 1 as const,
  salt: new Uint8Array(16).fill(1),
  nonce: new Uint8Array(24).fill(2),
  ct: new Uint8Array(48).fill(3),
  opslimit: 2,
  memlimit: 19 * 1024 * 1024,
};

function account(n: number): Account {
  return {
    deviceIdHex: n.toString(16).padStart(32, "0"),
    serverIdHex: "5e".repeat(16),
    wrapped,
    label: `Coordinatrice ${n} — SIAO 75`,
    role: 4,
    failedPins: 0,
    opCounter: 0,
    enrolledAt: 1_700_000_000_000,
  };
}

beforeEach(async () => {
  await accounts.wipeAll();
});

test("put, get, list, remove; the wrapped key comes back as bytes", async () => {
  await accounts.put(account(1));
  await accounts.put(account(2));
  const got = await accounts.get(account(1).deviceIdHex);
  assert.deepEqual(got, account(1));
  assert.ok(got!.wrapped.ct instanceof Uint8Array);
  assert.deepEqual(
    (await accounts.list()).map((a) => a.label),
    [account(1).label, account(2).label],
  );
  await accounts.remove(account(1).deviceIdHex);
  assert.equal(await accounts.get(account(1).deviceIdHex), undefined);
  assert.equal((await accounts.list()).length, 1);
  await assert.rejects(accounts.put({ ...account(3), deviceIdHex: "ABC" }), RangeError);
});

test("five wrong PINs erase the account; a good one resets the count", async () => {
  const id = account(1).deviceIdHex;
  await accounts.put(account(1));
  assert.equal(await accounts.recordFailedPin(id), 4);
  assert.equal(await accounts.recordFailedPin(id), 3);
  await accounts.resetFailedPins(id);
  assert.equal((await accounts.get(id))!.failedPins, 0);
  for (const left of [4, 3, 2, 1]) assert.equal(await accounts.recordFailedPin(id), left);
  assert.equal(await accounts.recordFailedPin(id), 0);
  assert.equal(await accounts.get(id), undefined);
  assert.equal(await accounts.recordFailedPin(id), 0); /* already gone */
});

test("op counters are reserved durably and never given twice, even concurrently", async () => {
  const id = account(1).deviceIdHex;
  await accounts.put(account(1));
  assert.equal(await accounts.nextOpCounters(id, 1), 1);
  assert.equal(await accounts.nextOpCounters(id, 10), 2);
  assert.equal(await accounts.nextOpCounters(id, 1), 12);
  const firsts = await Promise.all(Array.from({ length: 20 }, () => accounts.nextOpCounters(id, 5)));
  const given = firsts.flatMap((f) => [0, 1, 2, 3, 4].map((i) => f + i));
  assert.equal(new Set(given).size, 100);
  assert.equal(Math.min(...given), 13);
  assert.equal((await accounts.get(id))!.opCounter, 112);
  await assert.rejects(accounts.nextOpCounters(id, 0), RangeError);
  await assert.rejects(accounts.nextOpCounters(id, 1001), RangeError);
  await assert.rejects(accounts.nextOpCounters(account(9).deviceIdHex, 1), /no such account/);
});

test("the clock's last stamp never goes back", async () => {
  const id = account(1).deviceIdHex;
  await accounts.put(account(1));
  await accounts.saveHlc(id, { wallMs: 5000, counter: 2 });
  await accounts.saveHlc(id, { wallMs: 5000, counter: 1 });
  assert.deepEqual((await accounts.get(id))!.hlc, { wallMs: 5000, counter: 2 });
  await accounts.saveHlc(id, { wallMs: 6000, counter: 0 });
  assert.deepEqual((await accounts.get(id))!.hlc, { wallMs: 6000, counter: 0 });
});

test("wipeAll deletes every account, and the store opens again afterwards", async () => {
  await accounts.put(account(1));
  await accounts.wipeAll();
  assert.deepEqual(await accounts.list(), []);
  const names = (await indexedDB.databases()).map((d) => d.name);
  assert.deepEqual(names, ["veille-desk"]); /* opened again by list() */
});
