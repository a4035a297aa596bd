/* state/round.ts over a real local store (fake-indexeddb, a KeyHolder's store key): what the
 * outbox list and the waiting count show are records (saves), not ops; a request waiting and
 * one answered by the SIAO; a change read by the ids it touched opens only those records and
 * the ops the list does not show yet, and a withdrawn record leaves the lists. */
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { before, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import sodium from "libsodium-wrappers-sumo";
import { KeyHolder } from "../../src/crypto/keycore";
import { PersonField } from "../../src/gen/veille/v1/records_pb";
import { ChangeSchema, PullResultSchema } from "../../src/gen/veille/v1/sync_pb";
import { newRecordId } from "../../src/net/ids";
import { openLocal, type Sealer } from "../../src/store/local";
import { RoundReader } from "../../src/state/round";

globalThis.crypto ??= webcrypto as Crypto; /* Node 18 */

const holder = new KeyHolder(sodium);
/** values unsealed so far */
let opened = 0;
const sealer: Sealer = {
  sealMany: async (items) => holder.sealMany(items),
  openMany: async (items) => {
    opened += items.length;
    return holder.openMany(items);
  },
};
const opts = { health: false, centreName: (id: string) => `centre ${id}` };
const T0 = 1_700_000_000_000;

before(async () => {
  await sodium.ready;
  holder.newStoreKey();
});

test("waiting: one item and one count per save, shown by its encounter, else its request", async () => {
  const store = await openLocal("c3".repeat(16), sealer);
  try {
    const jo = newRecordId();
    const nick = (value: string) => ({ field: PersonField.NICKNAME, value: { case: "text" as const, value } });
    const enc = { personId: jo, occurredAtMs: BigInt(T0), note: "café" };
    await store.queue(
      [
        { recordId: jo, record: { case: "person", value: { fields: [nick("Jo")] } } },
        { recordId: newRecordId(), record: { case: "encounter", value: enc } },
      ],
      T0,
    );
    const request = newRecordId();
    await store.queue([{ recordId: request, record: { case: "request", value: { personId: jo, householdAdults: 1, urgency: 1 } } }], T0);
    await store.queue([{ recordId: jo, record: { case: "person", value: { fields: [nick("Jojo")] } } }], T0);
    assert.deepEqual(await store.counts(), { pending: 3, rejected: 0, pendingOps: 4 });

    const reader = new RoundReader(store, opts);
    const r = await reader.read({ all: true });
    assert.deepEqual(
      r.outbox!.map((o) => [o.kind, o.state, o.personId]),
      [
        ["encounter", "pending", jo],
        ["request", "pending", jo],
        ["person", "pending", jo],
      ],
    );
    assert.deepEqual(r.persons!.map((p) => [p.nickname, p.pending]), [["Jojo", 2]]);
    const waiting = r.requests!.find((x) => x.view.id === request);
    assert.deepEqual([waiting?.pending, waiting?.view.status, waiting?.view.requestedAt], [1, "waiting", 0], "not received yet");

    /* the SIAO's proposal comes back by a pull: the request received, proposed at a centre */
    const proposal = newRecordId();
    await store.applyPage(
      create(PullResultSchema, {
        nextCursor: 2n,
        changes: [
          create(ChangeSchema, {
            seq: 1n,
            recordId: request,
            version: 1n,
            record: { case: "request", value: { personId: jo, householdAdults: 1, urgency: 1, requestedAtMs: BigInt(T0) } },
          }),
          create(ChangeSchema, {
            seq: 2n,
            recordId: proposal,
            version: 1n,
            record: { case: "proposal", value: { requestId: request, centreId: "chu-1", category: 1, holdUntilMs: BigInt(T0 + 7_200_000), status: 1 } },
          }),
        ],
      }),
      T0,
    );
    /* read by the ids the page named, as a pull reads them; a reader reading all agrees */
    const after = await reader.read({ ids: [request, proposal] });
    assert.equal(after.persons, undefined, "no person was touched");
    const proposed = after.requests!.find((x) => x.view.id === request)!;
    assert.equal(proposed.view.status, "proposed");
    assert.equal(proposed.view.pending?.centreName, "centre chu-1");
    assert.deepEqual((await new RoundReader(store, opts).read({ all: true })).requests, after.requests);
  } finally {
    await store.wipe();
  }
});

test("a change reads what it touched only; a withdrawn record leaves the lists", async () => {
  const store = await openLocal("c4".repeat(16), sealer);
  try {
    const jo = newRecordId();
    const encounter = (i: number) => ({ personId: jo, occurredAtMs: BigInt(T0 + i * 60_000), note: `passage ${i}` });
    const pulled = [newRecordId(), newRecordId()];
    await store.applyPage(
      create(PullResultSchema, {
        nextCursor: 2n,
        changes: pulled.map((recordId, i) => create(ChangeSchema, { seq: BigInt(i + 1), recordId, version: 1n, record: { case: "encounter", value: encounter(i) } })),
      }),
      T0,
    );
    for (let i = 2; i < 32; i++) await store.queue([{ recordId: newRecordId(), record: { case: "encounter", value: encounter(i) } }], T0);
    const reader = new RoundReader(store, opts);
    const all = await reader.read({ all: true });
    assert.equal(all.encounters!.length, 32);
    assert.equal(all.outbox!.length, 30);

    /* one more saved: its record and its op are opened, not the 30 others waiting */
    const id = newRecordId();
    await store.queue([{ recordId: id, record: { case: "encounter", value: encounter(40) } }], T0);
    opened = 0;
    const one = await reader.read({ ids: [id], outbox: true });
    assert.ok(opened <= 2, `${opened} values unsealed`);
    assert.deepEqual([one.encounters!.length, one.encounters![0]!.id, one.encounters![0]!.pending], [33, id, 1], "newest first, waiting");
    assert.equal(one.outbox!.length, 31);
    assert.equal(one.persons, undefined);

    /* a pulled page withdraws the first encounter: read by its id, it leaves the list */
    await store.applyPage(create(PullResultSchema, { nextCursor: 3n, changes: [create(ChangeSchema, { seq: 3n, recordId: pulled[0]!, withdrawn: true })] }), T0);
    const gone = await reader.read({ ids: [pulled[0]!] });
    assert.equal(gone.encounters!.length, 32);
    assert.ok(!gone.encounters!.some((e) => e.id === pulled[0]));
    assert.deepEqual(gone.encounters!.map((e) => e.id), (await new RoundReader(store, opts).read({ all: true })).encounters!.map((e) => e.id));
  } finally {
    await store.wipe();
  }
});
