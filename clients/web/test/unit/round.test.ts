/* state/round.ts over a real local store (fake-indexeddb, a KeyHolder's store key): what the
 * outbox list and the waiting count show are records (saves), not ops; a request waiting and
 * one answered by the SIAO. */
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
import { readRound } from "../../src/state/round";

globalThis.crypto ??= webcrypto as Crypto; /* Node 18 */

const holder = new KeyHolder(sodium);
const sealer: Sealer = {
  sealMany: async (items) => holder.sealMany(items),
  openMany: async (items) => holder.openMany(items),
};
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

    const r = await readRound(store, { health: false, centreName: (id) => `centre ${id}` });
    assert.deepEqual(
      r.outbox.map((o) => [o.kind, o.state, o.personId]),
      [
        ["encounter", "pending", jo],
        ["request", "pending", jo],
        ["person", "pending", jo],
      ],
    );
    assert.deepEqual(r.persons.map((p) => [p.nickname, p.pending]), [["Jojo", 2]]);
    const waiting = r.requests.find((x) => x.view.id === request);
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
    const after = await readRound(store, { health: false, centreName: (id) => `centre ${id}` });
    const proposed = after.requests.find((x) => x.view.id === request)!;
    assert.equal(proposed.view.status, "proposed");
    assert.equal(proposed.view.pending?.centreName, "centre chu-1");
  } finally {
    await store.wipe();
  }
});
