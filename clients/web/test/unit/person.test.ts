/* store/person.ts: the edit check, the merge (docs/sync.md's example, in both orders) and what
 * the phone remembers of its own edits: confirmed, lost to a colleague's later value (a
 * notice), not merged yet, refused; their encoding at rest. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PersonField, PersonSchema, type PersonFieldValue } from "../../src/gen/veille/v1/records_pb";
import {
  checkEdit,
  decodeEdits,
  encodeEdits,
  forget,
  mergePerson,
  reconcile,
  recordEdit,
  type PersonEdits,
} from "../../src/store/person";

const A = Uint8Array.from({ length: 16 }, () => 0xa0); /* this phone */
const B = Uint8Array.from({ length: 16 }, () => 0xb0); /* a colleague's device */
const ID = "ab".repeat(16);

function text(field: PersonField, value: string, wallMs: number, counter: number, deviceId: Uint8Array): PersonFieldValue {
  return create(PersonSchema, {
    fields: [{ field, hlc: { wallMs: BigInt(wallMs), counter, deviceId }, value: { case: "text", value } }],
  }).fields[0]!;
}

const person = (...fields: PersonFieldValue[]) => create(PersonSchema, { teamId: "maraude-75-nord", fields });

function textsOf(fields: PersonFieldValue[]): Record<number, string> {
  return Object.fromEntries(fields.map((f) => [f.field, f.value.case === "text" ? f.value.value : "?"]));
}

test("checkEdit: 1 to 16 known fields, once each, of their kind or cleared", () => {
  assert.equal(checkEdit(person(text(PersonField.NICKNAME, "Jo", 1, 0, A))), undefined);
  const bad: [string, PersonFieldValue[]][] = [
    ["no field", []],
    ["twice", [text(PersonField.NICKNAME, "a", 1, 0, A), text(PersonField.NICKNAME, "b", 1, 0, A)]],
    ["a text in a number field", [text(PersonField.BIRTH_YEAR, "1971", 1, 0, A)]],
    ["an unknown field", [text(99 as PersonField, "x", 1, 0, A)]],
    ["cleared with a value", [{ ...text(PersonField.NICKNAME, "x", 1, 0, A), cleared: true }]],
  ];
  for (const [what, fields] of bad) assert.ok(checkEdit(person(...fields)), what);
});

test("merge: docs/sync.md's example converges whatever the order", () => {
  const base = person(text(PersonField.NICKNAME, "Jo", 1000, 0, A));
  const fromA = person(text(PersonField.NICKNAME, "Jojo", 5000, 0, A));
  const fromB = person(text(PersonField.NICKNAME, "Joe", 5000, 0, B), text(PersonField.SITUATION, "chien", 5000, 1, B));
  let x = mergePerson(undefined, ID, 1n, 1n, base);
  x = mergePerson(x, ID, 2n, 2n, fromA);
  x = mergePerson(x, ID, 3n, 3n, fromB);
  let y = mergePerson(undefined, ID, 3n, 3n, fromB);
  y = mergePerson(y, ID, 1n, 1n, base);
  y = mergePerson(y, ID, 2n, 2n, fromA);
  for (const ch of [x, y]) {
    assert.ok(ch.record.case === "person");
    assert.deepEqual(textsOf(ch.record.value.fields), { [PersonField.NICKNAME]: "Joe", [PersonField.SITUATION]: "chien" });
    assert.equal(ch.version, 3n);
  }
  assert.equal(mergePerson(x, ID, 1n, 1n, base), x, "nothing new: the change held itself");
});

test("own edits: kept while not merged and while confirmed, a notice when a colleague's later value won", () => {
  const mineNick = text(PersonField.NICKNAME, "Jojo", 5000, 0, A);
  const mineLang = text(PersonField.LANGUAGES, "dari", 5000, 0, A);
  let e: PersonEdits = recordEdit(undefined, [mineNick, mineLang]);
  assert.deepEqual(e.mine, [mineNick, mineLang].sort((x, y) => x.field - y.field));

  /* A pulled profile from before the edit reached the server says nothing of it. */
  const old = person(text(PersonField.NICKNAME, "Jo", 1000, 0, B));
  assert.equal(reconcile(e, old, A), e);

  /* The server merged: LANGUAGES as this phone wrote it (confirmed), NICKNAME a colleague's
   * value stamped later (lost: a notice). */
  const merged = person(text(PersonField.NICKNAME, "Joe", 6000, 0, B), mineLang);
  e = reconcile(e, merged, A);
  assert.deepEqual(e.mine, [mineLang], "confirmed: still remembered");
  assert.equal(e.notices.length, 1);
  const n = e.notices[0]!;
  assert.deepEqual([n.field, textsOf([n.theirs]), textsOf([n.yours])], [
    PersonField.NICKNAME,
    { [PersonField.NICKNAME]: "Joe" },
    { [PersonField.NICKNAME]: "Jojo" },
  ]);
  /* Pulled again: no second notice, nothing moves. */
  assert.equal(reconcile(e, merged, A), e);
  /* The same merged profile seen by the colleague (self = B) gives them no notice. */
  assert.deepEqual(reconcile(recordEdit(undefined, [merged.fields[0]!]), merged, B).notices, []);

  /* A later edit of this phone wins: no notice, and the old one stays until acknowledged. */
  const again = text(PersonField.NICKNAME, "Jo le Grand", 6000, 1, A);
  e = recordEdit(e, [again]);
  e = reconcile(e, person(again), A);
  assert.deepEqual(e.mine, [again, mineLang].sort((x, y) => x.field - y.field));
  assert.equal(e.notices.length, 1);
  /* ... then replaced by this phone's own later edit: forgotten, no notice of it */
  const mine3 = text(PersonField.LANGUAGES, "dari, pachto", 7000, 0, A);
  e = reconcile(recordEdit(e, [mine3]), person(again, mine3), A);
  assert.deepEqual(e.mine, [again, mine3].sort((x, y) => x.field - y.field));
});

test("own edits: a colleague's later value is reported whichever device synced first", () => {
  /* This phone's edit reached the server first and was confirmed; a colleague's edit made
   * offline with a later stamp arrives afterwards and replaces it. */
  const mine = text(PersonField.NICKNAME, "Jojo", 5000, 0, A);
  let e = reconcile(recordEdit(undefined, [mine]), person(mine), A);
  assert.deepEqual(e.mine, [mine]);
  assert.deepEqual(e.notices, []);
  const theirs = text(PersonField.NICKNAME, "Joe", 5500, 0, B);
  e = reconcile(e, person(theirs), A);
  assert.deepEqual(e.mine, []);
  assert.deepEqual(e.notices.map((n) => [n.field, n.theirs, n.yours]), [[PersonField.NICKNAME, theirs, mine]]);
});

test("own edits: one the server refused is forgotten, so no colleague's value is reported against it", () => {
  const refused = text(PersonField.NICKNAME, "Jojo", 5000, 0, A);
  const other = text(PersonField.FAMILY_NAME, "Martin", 5001, 0, A);
  let e = recordEdit(undefined, [refused, other]);
  e = forget(e, [refused]);
  assert.deepEqual(e.mine, [other]);
  assert.deepEqual(reconcile(e, person(text(PersonField.NICKNAME, "Joe", 9000, 0, B)), A).notices, []);
  assert.equal(forget(e, [text(PersonField.FAMILY_NAME, "Martin", 4000, 0, A)]), e, "another stamp: not that edit");
});

test("own edits at rest: encoded and decoded as they were", () => {
  const e: PersonEdits = {
    mine: [text(PersonField.GIVEN_NAME, "Joseph", 7000, 2, A)],
    notices: [
      {
        field: PersonField.NICKNAME,
        theirs: text(PersonField.NICKNAME, "Joe", 6000, 0, B),
        yours: text(PersonField.NICKNAME, "Jojo", 5000, 0, A),
      },
    ],
  };
  assert.deepEqual(decodeEdits(encodeEdits(e)), e);
  assert.deepEqual(decodeEdits(encodeEdits({ mine: [], notices: [] })), { mine: [], notices: [] });
  assert.throws(() => decodeEdits(Uint8Array.of(0x0a, 0x05, 0x01)), "truncated bytes");
});
