/* store/local.ts on fake-indexeddb, sealing with a KeyHolder's store key (libsodium's
 * CommonJS build): ops, counters and clock in one transaction, results, pulled pages and
 * person merges (docs/sync.md's example), a colleague's value winning over an edit, atomicity,
 * values sealed at rest, the quota, the lease, wiping, an app update. */
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { before, beforeEach, test } from "node:test";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import sodium from "libsodium-wrappers-sumo";
import { KeyError, KeyHolder } from "../../src/crypto/keycore";
import { ErrorCode } from "../../src/gen/veille/v1/error_pb";
import { PlacesSnapshotSchema } from "../../src/gen/veille/v1/places_pb";
import { PersonField } from "../../src/gen/veille/v1/records_pb";
import {
  ChangeSchema,
  MutationSchema,
  OpResultSchema,
  OpStatus,
  PullResultSchema,
  type Change,
} from "../../src/gen/veille/v1/sync_pb";
import { newRecordId } from "../../src/net/ids";
import {
  deleteLocal,
  LocalError,
  openLocal,
  OUTBOX_MAX_OP_BYTES,
  outboxCounts,
  type LocalStore,
  type Sealer,
} from "../../src/store/local";
import { failingPut, quotaExceeded } from "./idb-faults";

globalThis.crypto ??= webcrypto as Crypto; /* Node 18 */

const DEVICE = "d1".repeat(16);
const DEVICE_ID = Uint8Array.from({ length: 16 }, () => 0xd1);
const OTHER_DEVICE = Uint8Array.from({ length: 16 }, () => 0xb0);
const T0 = 1_700_000_000_000;

const holder = new KeyHolder(sodium);
const sealer: Sealer = {
  sealMany: async (items) => holder.sealMany(items),
  openMany: async (items) => holder.openMany(items),
};

type Op = MessageInitShape<typeof MutationSchema>;

function encounter(personId: string, note: string, recordId = newRecordId()): Op {
  return { recordId, record: { case: "encounter", value: { personId, occurredAtMs: BigInt(T0), note } } };
}

function personEdit(personId: string, fields: [PersonField, string][]): Op {
  return {
    recordId: personId,
    record: {
      case: "person",
      value: { fields: fields.map(([field, text]) => ({ field, value: { case: "text" as const, value: text } })) },
    },
  };
}

function result(opCounter: number, status: OpStatus, version = 1, code = ErrorCode.UNSPECIFIED, reason = "") {
  return create(OpResultSchema, { opCounter: BigInt(opCounter), status, version: BigInt(version), code, reason });
}

const stamp = (wallMs: number, counter: number, deviceId: Uint8Array) => ({ wallMs: BigInt(wallMs), counter, deviceId });

function personChange(recordId: string, seq: number, version: number, fields: object[]): Change {
  return create(ChangeSchema, {
    recordId,
    seq: BigInt(seq),
    version: BigInt(version),
    record: { case: "person", value: { teamId: "maraude-75", fields } },
  });
}

function page(changes: Change[], nextCursor: number, hasMore = false) {
  return create(PullResultSchema, { changes, nextCursor: BigInt(nextCursor), hasMore });
}

function textOf(ch: Change | undefined, field: PersonField): string | undefined {
  if (ch?.record.case !== "person") return undefined;
  const v = ch.record.value.fields.find((f) => f.field === field)?.value;
  return v?.case === "text" ? v.value : undefined;
}

/** Every value of every store of the database, raw (the test's view of the disk). */
async function dump(name: string): Promise<unknown[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const stores = [...db.objectStoreNames];
  const tx = db.transaction(stores);
  const all = await Promise.all(
    stores.map(
      (s) =>
        new Promise<unknown[]>((resolve) => {
          const r = tx.objectStore(s).getAll();
          r.onsuccess = () => resolve(r.result);
        }),
    ),
  );
  db.close();
  return all.flat();
}

function holds(value: unknown, needle: string): boolean {
  const bytes = Buffer.from(needle, "utf8");
  const seen = (v: unknown): boolean => {
    if (typeof v === "string") return v.includes(needle);
    if (v instanceof Uint8Array) return Buffer.from(v).includes(bytes);
    if (v && typeof v === "object") return Object.values(v).some(seen);
    return false;
  };
  return seen(value);
}

let store: LocalStore;

before(async () => {
  await sodium.ready;
  holder.newStoreKey();
});

beforeEach(async () => {
  store?.close();
  await deleteLocal(DEVICE);
  store = await openLocal(DEVICE, sealer);
});

test("queue: ops take the next counters and the device id; what the phone shows folds them in", async () => {
  const person = newRecordId();
  const counters = await store.queue(
    [personEdit(person, [[PersonField.NICKNAME, "Jojo"], [PersonField.GIVEN_NAME, "Joseph"]]), encounter(person, "café")],
    T0,
  );
  assert.deepEqual(counters, [1, 2]);
  assert.deepEqual(await store.queue([encounter(person, "soupe")], T0), [3]);
  /* two saves: the person with their first encounter, then another encounter */
  assert.deepEqual(await store.counts(), { pending: 2, rejected: 0, pendingOps: 3 });
  assert.deepEqual(await outboxCounts(DEVICE), { pending: 2, rejected: 0, pendingOps: 3 }, "without the keys (the PIN screen)");
  const meta = await store.meta();
  assert.equal(meta.opCounter, 3);
  assert.deepEqual(meta.hlc, { wallMs: T0, counter: 0 }, "one tick for one edit");

  const ops = await store.outbox();
  assert.deepEqual(
    ops.map((o) => [o.opCounter, o.kind, o.state, o.mutation.opCounter]),
    [
      [1, "person", "pending", 1n],
      [2, "encounter", "pending", 2n],
      [3, "encounter", "pending", 3n],
    ],
  );
  assert.deepEqual(ops[0]!.mutation.deviceId, DEVICE_ID);
  const edit = ops[0]!.mutation.record;
  assert.ok(edit.case === "person");
  for (const f of edit.value.fields) assert.deepEqual(f.hlc, { ...stamp(T0, 0, DEVICE_ID), $typeName: "veille.v1.Hlc" });

  const p = await store.get(person);
  assert.equal(p?.pending, 1);
  assert.equal(p?.change.version, 0n);
  assert.equal(textOf(p?.change, PersonField.NICKNAME), "Jojo");
  const encounters = await store.all("encounter");
  assert.deepEqual(encounters.map((r) => [r.pending, r.change.version]), [
    [1, 1n],
    [1, 1n],
  ]);
  assert.equal((await store.all("person")).length, 1);
  assert.equal(await store.get(newRecordId()), undefined);
});

test("queue refuses unfit ops and ops over a push's size, writing nothing", async () => {
  const person = newRecordId();
  const unfit: Op[] = [
    { ...encounter(person, "x"), recordId: "ABC" },
    { ...encounter(person, "x"), opCounter: 4n },
    { recordId: person, record: { case: "person", value: { fields: [] } } },
    personEdit(person, [
      [PersonField.NICKNAME, "a"],
      [PersonField.NICKNAME, "b"],
    ]),
    {
      recordId: person,
      record: { case: "person", value: { fields: [{ field: PersonField.ANIMAL, value: { case: "text", value: "oui" } }] } },
    },
    { recordId: person, record: { case: "person", value: { fields: [{ field: 99 as PersonField, cleared: true }] } } },
    { recordId: person },
  ];
  for (const op of unfit)
    await assert.rejects(store.queue([op], T0), (e: unknown) => e instanceof LocalError && e.code === "invalid");
  await assert.rejects(store.queue([], T0), (e: unknown) => e instanceof LocalError && e.code === "invalid");
  await assert.rejects(
    store.queue([encounter(person, "ok"), encounter(person, "x".repeat(OUTBOX_MAX_OP_BYTES))], T0),
    (e: unknown) =>
      e instanceof LocalError && e.code === "too-big" && e.message === "Enregistrement trop volumineux : raccourcissez la note.",
  );
  assert.deepEqual(await store.counts(), { pending: 0, rejected: 0, pendingOps: 0 });
  assert.equal((await store.meta()).opCounter, 0);
});

test("op counters are never given twice: concurrent calls, another tab, close and reopen", async () => {
  const person = newRecordId();
  const otherTab = await openLocal(DEVICE, sealer);
  const given = (
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? store : otherTab).queue([encounter(person, `n${i}`), encounter(person, "b")], T0)),
    )
  ).flat();
  assert.equal(new Set(given).size, 40);
  assert.deepEqual([Math.min(...given), Math.max(...given)], [1, 40]);
  otherTab.close();
  await assert.rejects(otherTab.counts(), (e: unknown) => e instanceof LocalError && e.code === "closed");
  store.close();
  store = await openLocal(DEVICE, sealer);
  assert.deepEqual(await store.queue([encounter(person, "après")], T0), [41]);
  const counters = (await store.outbox()).map((o) => o.opCounter);
  assert.deepEqual(counters, Array.from({ length: 41 }, (_, i) => i + 1));
});

test("a write that fails midway writes nothing: queue and pulled page", async () => {
  const person = newRecordId();
  await store.queue([encounter(person, "avant")], T0);
  const before = await store.meta();
  let undo = failingPut(1, () => new Error("killed between two requests"));
  try {
    await assert.rejects(store.queue([encounter(person, "a"), encounter(person, "b"), encounter(person, "c")], T0), /killed/);
  } finally {
    undo();
  }
  assert.deepEqual(await store.meta(), before);
  assert.deepEqual((await store.outbox()).map((o) => o.opCounter), [1]);
  assert.deepEqual(await store.queue([encounter(person, "après")], T0), [2]);

  const pulled = [0, 1, 2].map((i) =>
    create(ChangeSchema, {
      seq: BigInt(i + 1),
      recordId: newRecordId(),
      version: 1n,
      record: { case: "encounter", value: { personId: person, note: `tiré ${i}` } },
    }),
  );
  undo = failingPut(2, () => new Error("killed between two requests"));
  try {
    await assert.rejects(store.applyPage(page(pulled, 3), T0), /killed/);
  } finally {
    undo();
  }
  assert.equal((await store.meta()).cursor, 0n);
  assert.equal((await store.all("encounter")).filter((r) => r.pending === 0).length, 0);
  await store.applyPage(page(pulled, 3), T0);
  assert.equal((await store.meta()).cursor, 3n);
  assert.equal((await store.all("encounter")).filter((r) => r.pending === 0).length, 3);
});

test("a full quota: a French message, nothing of the write, everything before kept", async () => {
  const person = newRecordId();
  await store.queue([encounter(person, "gardée")], T0);
  const undo = failingPut(0, quotaExceeded);
  try {
    await assert.rejects(
      store.queue([encounter(person, "perdue"), encounter(person, "perdue aussi")], T0),
      (e: unknown) =>
        e instanceof LocalError &&
        e.code === "full" &&
        e.message.startsWith("Le stockage du téléphone est plein : cet enregistrement n'a pas été fait."),
    );
  } finally {
    undo();
  }
  const ops = await store.outbox();
  assert.deepEqual(
    ops.map((o) => (o.mutation.record.case === "encounter" ? o.mutation.record.value.note : "")),
    ["gardée"],
  );
});

test("every personal value is sealed at rest, bound to its place", async () => {
  const person = newRecordId();
  const secrets = ["Joséphine Secrète", "dort sous le pont Mirabeau", "diabète, insuline", "Bébert le chien"];
  await store.queue([personEdit(person, [[PersonField.FAMILY_NAME, secrets[0]!]]), encounter(person, secrets[1]!)], T0);
  await store.applyPage(
    page(
      [
        create(ChangeSchema, {
          seq: 1n,
          recordId: newRecordId(),
          version: 1n,
          record: { case: "encounter", value: { personId: person, note: "x", healthNote: secrets[2] } },
        }),
        personChange(newRecordId(), 2, 1, [
          { field: PersonField.NICKNAME, hlc: stamp(T0, 0, OTHER_DEVICE), value: { case: "text", value: secrets[3] } },
        ]),
      ],
      2,
    ),
    T0,
  );
  const results = [result(1, OpStatus.APPLIED), result(2, OpStatus.REJECTED, 0, ErrorCode.FORBIDDEN, "no")];
  await store.settle(await store.outbox(), results, T0);
  const values = await dump(`veille-maraude-${DEVICE}`);
  assert.ok(values.length >= 5);
  for (const s of secrets) assert.equal(holds(values, s), false, `${s} in clear`);
  /* the same values opened through the store */
  assert.equal(textOf((await store.get(person))?.change, PersonField.FAMILY_NAME), secrets[0]);

  /* A value moved under another record's key does not open. */
  const db = await new Promise<IDBDatabase>((resolve) => {
    const r = indexedDB.open(`veille-maraude-${DEVICE}`);
    r.onsuccess = () => resolve(r.result);
  });
  const rows = await new Promise<{ recordId: string; kind: string; sealed: Uint8Array }[]>((resolve) => {
    const r = db.transaction("records").objectStore("records").getAll();
    r.onsuccess = () => resolve(r.result);
  });
  const victim = rows.find((r) => r.recordId !== person)!;
  await new Promise((resolve) => {
    const tx = db.transaction("records", "readwrite");
    tx.objectStore("records").put({ ...victim, sealed: rows.find((r) => r.recordId === person)!.sealed });
    tx.oncomplete = resolve;
  });
  db.close();
  await assert.rejects(store.get(victim.recordId), (e: unknown) => e instanceof KeyError && e.code === "corrupt");
});

test("settle: applied and duplicate go to the records; conflict and rejected stay, discardable", async () => {
  const person = newRecordId();
  const ids = [newRecordId(), newRecordId(), newRecordId(), newRecordId()];
  await store.queue(
    [personEdit(person, [[PersonField.NICKNAME, "Jojo"]]), ...ids.map((id, i) => encounter(person, `e${i}`, id))],
    T0,
  );
  const batch = await store.pendingBatch();
  assert.equal(batch.length, 5);
  const touched = await store.settle(
    batch,
    [
      result(1, OpStatus.APPLIED, 1),
      result(2, OpStatus.APPLIED, 1),
      result(3, OpStatus.DUPLICATE, 1),
      result(4, OpStatus.CONFLICT, 3),
      result(5, OpStatus.REJECTED, 0, ErrorCode.INVALID_ARGUMENT, "person_id must be 32 lowercase hex characters"),
    ],
    T0 + 5,
  );
  assert.deepEqual(new Set(touched), new Set([person, ...ids]));
  assert.deepEqual(await store.counts(), { pending: 0, rejected: 2, pendingOps: 0 });
  const p = await store.get(person);
  assert.deepEqual([p?.pending, textOf(p?.change, PersonField.NICKNAME)], [0, "Jojo"]);
  const e0 = await store.get(ids[0]!);
  assert.deepEqual([e0?.pending, e0?.change.version], [0, 1n]);
  assert.equal(await store.get(ids[3]!), undefined, "a rejected op is not shown as the record");
  const rejected = await store.outbox("rejected");
  assert.deepEqual(
    rejected.map(({ opCounter, result: r }) => [opCounter, r?.status, r?.code, r?.version, r?.reason, r?.atMs]),
    [
      [4, OpStatus.CONFLICT, ErrorCode.UNSPECIFIED, 3, "", T0 + 5],
      [5, OpStatus.REJECTED, ErrorCode.INVALID_ARGUMENT, 0, "person_id must be 32 lowercase hex characters", T0 + 5],
    ],
  );
  /* settling again (an answer that came twice) changes nothing */
  await store.settle(batch.slice(0, 1), [result(1, OpStatus.DUPLICATE, 1)], T0);
  assert.deepEqual(await store.counts(), { pending: 0, rejected: 2, pendingOps: 0 });

  await store.queue([encounter(person, "en attente")], T0);
  await assert.rejects(store.discard(6), (e: unknown) => e instanceof LocalError && e.code === "invalid");
  await store.discard(5);
  await store.discard(5); /* already gone */
  assert.deepEqual(await store.counts(), { pending: 1, rejected: 1, pendingOps: 1 });
  assert.deepEqual((await store.outbox()).map((o) => o.opCounter), [4, 6]);
});

test("pendingBatch: counter order, at most maxOps, and past the first at most 512 KiB", async () => {
  const person = newRecordId();
  const big = "x".repeat(100 * 1024);
  await store.queue(Array.from({ length: 7 }, () => encounter(person, big)), T0);
  await store.queue([encounter(person, "petite")], T0);
  const first = await store.pendingBatch();
  assert.deepEqual(first.map((o) => o.opCounter), [1, 2, 3, 4, 5]);
  assert.deepEqual((await store.pendingBatch(2)).map((o) => o.opCounter), [1, 2]);
  await store.settle(first, first.map((o) => result(o.opCounter, OpStatus.APPLIED)), T0);
  assert.deepEqual((await store.pendingBatch()).map((o) => o.opCounter), [6, 7, 8]);
});

test("pulled pages: events by version, withdrawn dropped, cursor never lowered, last sync at the end", async () => {
  const id = newRecordId();
  const person = newRecordId();
  const v = (version: number, note: string, seq: number) =>
    create(ChangeSchema, {
      seq: BigInt(seq),
      recordId: id,
      version: BigInt(version),
      record: { case: "encounter", value: { personId: person, note } },
    });
  assert.deepEqual(await store.applyPage(page([v(2, "v2", 5)], 5, true), T0), [id]);
  assert.equal((await store.meta()).lastSyncMs, 0, "more to come");
  await store.applyPage(page([v(1, "v1", 6)], 6), T0 + 1);
  let got = await store.get(id);
  assert.ok(got?.change.record.case === "encounter" && got.change.record.value.note === "v2", "an older version is ignored");
  assert.deepEqual([(await store.meta()).cursor, (await store.meta()).lastSyncMs], [6n, T0 + 1]);
  await store.applyPage(page([v(3, "v3", 7)], 4), T0 + 2);
  got = await store.get(id);
  assert.ok(got?.change.record.case === "encounter" && got.change.record.value.note === "v3");
  assert.equal((await store.meta()).cursor, 6n, "never lowered");
  await store.applyPage(page([create(ChangeSchema, { seq: 8n, recordId: id, withdrawn: true })], 8), T0);
  assert.equal(await store.get(id), undefined);
  await assert.rejects(
    store.applyPage(page([create(ChangeSchema, { seq: 9n, recordId: "" })], 9), T0),
    (e: unknown) => e instanceof LocalError && e.code === "invalid",
  );
});

test("persons merge field by field whatever the order (docs/sync.md's example); the clock learns", async () => {
  const P = newRecordId();
  const A = Uint8Array.from({ length: 16 }, () => 0xa0);
  const B = OTHER_DEVICE;
  const nick = (text: string, s: ReturnType<typeof stamp>) => ({
    field: PersonField.NICKNAME,
    hlc: s,
    value: { case: "text" as const, value: text },
  });
  const base = personChange(P, 1, 1, [nick("Jo", stamp(1000, 0, A))]);
  const fromA = personChange(P, 2, 2, [nick("Jojo", stamp(5000, 0, A))]);
  const fromB = personChange(P, 3, 3, [
    nick("Joe", stamp(5000, 0, B)),
    { field: PersonField.ANIMAL, hlc: stamp(5000, 1, B), value: { case: "flag" as const, value: true } },
  ]);
  const other = await openLocal("e2".repeat(16), sealer);
  try {
    await store.applyPage(page([base, fromA, fromB], 3), T0);
    await other.applyPage(page([fromB], 3), T0);
    await other.applyPage(page([base, fromA], 2), T0);
    const [x, y] = [(await store.get(P))!.change, (await other.get(P))!.change];
    for (const ch of [x, y]) {
      assert.equal(textOf(ch, PersonField.NICKNAME), "Joe");
      assert.ok(ch.record.case === "person");
      const animal = ch.record.value.fields.find((f) => f.field === PersonField.ANIMAL)?.value;
      assert.deepEqual(animal, { case: "flag", value: true });
      assert.equal(ch.version, 3n);
    }
    assert.deepEqual((await store.meta()).hlc, { wallMs: 5000, counter: 1 });
  } finally {
    await other.wipe();
  }
  /* This phone's clock is late (1000): its edit is stamped after what it saw. */
  await store.queue([personEdit(P, [[PersonField.NICKNAME, "Jo le Grand"]])], 1000);
  const [op] = await store.outbox();
  assert.ok(op?.mutation.record.case === "person");
  const s = op.mutation.record.value.fields[0]!.hlc!;
  assert.deepEqual([s.wallMs, s.counter], [5000n, 2]);
  assert.equal(textOf((await store.get(P))!.change, PersonField.NICKNAME), "Jo le Grand", "the pending edit wins");
  /* acknowledged, then a pull of the server's older view: the edit stays */
  await store.settle([op], [result(op.opCounter, OpStatus.APPLIED, 4)], T0);
  await store.applyPage(page([fromB], 9), T0);
  const after = (await store.get(P))!;
  assert.deepEqual([after.pending, textOf(after.change, PersonField.NICKNAME)], [0, "Jo le Grand"]);
});

test("the lease: locked after its end, opened by an authentication", async () => {
  await store.renewLease(T0 + 1000);
  store.close();
  store = await openLocal(DEVICE, sealer, { nowMs: T0 + 1000 });
  store.close();
  await assert.rejects(
    openLocal(DEVICE, sealer, { nowMs: T0 + 1001 }),
    (e: unknown) => e instanceof LocalError && e.code === "lease" && /verrouillées/.test(e.message),
  );
  store = await openLocal(DEVICE, sealer, { nowMs: T0 + 1001, leaseUntilMs: T0 + 5000 });
  assert.equal((await store.meta()).leaseUntilMs, T0 + 5000);
});

test("places: the last snapshot and its time; wipe deletes the whole database", async () => {
  assert.equal(await store.places(), undefined);
  const snap = create(PlacesSnapshotSchema, { nowMs: BigInt(T0), territories: [{ territory: "75", seq: 4n }] });
  await store.savePlaces(snap, T0 + 3);
  const got = await store.places();
  const territory = got?.snapshot.territories[0];
  assert.deepEqual([got?.savedAtMs, territory?.territory, territory?.seq], [T0 + 3, "75", 4n]);
  await store.queue([encounter(newRecordId(), "x")], T0);
  await store.wipe();
  assert.equal((await indexedDB.databases()).some((d) => d.name === `veille-maraude-${DEVICE}`), false);
  await assert.rejects(store.counts(), (e: unknown) => e instanceof LocalError && e.code === "closed");
  store = await openLocal(DEVICE, sealer);
  assert.deepEqual(await store.counts(), { pending: 0, rejected: 0, pendingOps: 0 });
});

test("a colleague's later value over this phone's edit: a notice, sealed, kept until acknowledged", async () => {
  const P = newRecordId();
  const nick = (text: string, s: ReturnType<typeof stamp>) => ({
    field: PersonField.NICKNAME,
    hlc: s,
    value: { case: "text" as const, value: text },
  });
  await store.applyPage(page([personChange(P, 1, 1, [nick("Jo", stamp(1000, 0, OTHER_DEVICE))])], 1), T0);
  /* offline, this phone renames Jo, and gives a language */
  await store.queue([personEdit(P, [[PersonField.NICKNAME, "Jojo-Secret"], [PersonField.LANGUAGES, "dari"]])], 5000);
  const [op] = await store.outbox();
  await store.settle([op!], [result(op!.opCounter, OpStatus.APPLIED, 1)], T0);
  assert.deepEqual(await store.notices(), new Map(), "acknowledged is not merged: nothing known yet");
  /* the pull brings the server's merge: the colleague renamed Jo later, the language is this phone's */
  const lang = op!.mutation.record.case === "person" ? op!.mutation.record.value.fields.find((f) => f.field === PersonField.LANGUAGES)! : undefined;
  const merged = personChange(P, 2, 2, [nick("Joe", stamp(6000, 0, OTHER_DEVICE)), lang!]);
  assert.deepEqual(await store.applyPage(page([merged], 2), T0), [P]);
  assert.equal(textOf((await store.get(P))?.change, PersonField.NICKNAME), "Joe");
  const notices = (await store.notices()).get(P);
  assert.equal(notices?.length, 1);
  assert.equal(notices![0]!.field, PersonField.NICKNAME);
  assert.deepEqual([notices![0]!.theirs.value.value, notices![0]!.yours.value.value], ["Joe", "Jojo-Secret"]);
  assert.equal(holds(await dump(`veille-maraude-${DEVICE}`), "Jojo-Secret"), false, "the notice is sealed");
  /* kept across a reopening; the same page again adds nothing */
  store.close();
  store = await openLocal(DEVICE, sealer);
  await store.applyPage(page([merged], 2), T0);
  assert.equal((await store.notices()).get(P)?.length, 1);
  await store.acknowledge(P);
  assert.deepEqual(await store.notices(), new Map());
});

test("an app update keeps everything: a version 1 store opens with its outbox, each op its own save", async () => {
  store.close();
  await deleteLocal(DEVICE);
  const name = `veille-maraude-${DEVICE}`;
  const op = create(MutationSchema, {
    opCounter: 1n,
    deviceId: DEVICE_ID,
    recordId: newRecordId(),
    record: { case: "encounter", value: { personId: newRecordId(), note: "d'avant la mise à jour" } },
  });
  const [sealed] = await sealer.sealMany([{ data: toBinary(MutationSchema, op), ad: new TextEncoder().encode("veille.web/v1/outbox/1") }]);
  /* the version 1 schema, as the first release made it */
  await new Promise<void>((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => {
      const d = r.result;
      d.createObjectStore("records", { keyPath: "recordId" }).createIndex("kind", "kind");
      const outbox = d.createObjectStore("outbox", { keyPath: "opCounter" });
      outbox.createIndex("state", "state");
      outbox.createIndex("record", "recordId");
      d.createObjectStore("meta").put({ rev: 1, opCounter: 1, cursor: 0n, hlc: { wallMs: 0, counter: 0 }, leaseUntilMs: 0, lastSyncMs: 0 }, "device");
      d.createObjectStore("places");
      outbox.put({ opCounter: 1, recordId: op.recordId, kind: "encounter", state: "pending", sealed });
    };
    r.onsuccess = () => (r.result.close(), resolve());
    r.onerror = () => reject(r.error);
  });
  store = await openLocal(DEVICE, sealer);
  const ops = await store.outbox();
  assert.deepEqual(ops.map((o) => [o.opCounter, o.state, o.mutation.record.case === "encounter" && o.mutation.record.value.note]), [
    [1, "pending", "d'avant la mise à jour"],
  ]);
  assert.deepEqual(await store.queue([encounter(newRecordId(), "après")], T0), [2]);
  assert.deepEqual(await store.counts(), { pending: 2, rejected: 0, pendingOps: 2 }, "the old op: a save of its own");
  assert.deepEqual((await store.outbox()).map((o) => o.save), [1, 2]);
  assert.deepEqual(await store.notices(), new Map());
});
