/* state/encounter.ts: the ops of an encounter recorded on the phone; the health note only from
 * a health professional (a maraudeur's is refused before anything is saved or sent); notes no
 * longer than the server takes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PersonField } from "../../src/gen/veille/v1/records_pb";
import { encounterOps, type NewEncounterInput } from "../../src/state/encounter";
import { ROLE } from "../../src/state/model";

const T = 1_700_000_000_000;
const JO = "ab".repeat(16);
let n = 0;
const newId = () => (++n).toString(16).padStart(32, "0");
const met = (extra: Partial<NewEncounterInput> = {}): NewEncounterInput => ({
  personId: JO,
  needs: [1],
  services: [2],
  note: " café ",
  geohash: "u09whv",
  ...extra,
});

test("an encounter with a known person: one op, the note trimmed, the place coarse", () => {
  const r = encounterOps(met(), ROLE.MARAUDEUR, T, newId);
  assert.ok("ops" in r);
  assert.equal(r.personId, JO);
  assert.equal(r.ops.length, 1);
  const e = r.ops[0]!.record;
  assert.ok(e?.case === "encounter");
  assert.deepEqual([e.value.personId, e.value.occurredAtMs, e.value.note, e.value.healthNote, e.value.location?.geohash], [
    JO,
    BigInt(T),
    "café",
    "",
    "u09whv",
  ]);
});

test("a new person: their profile first (names given only), then the encounter about them", () => {
  const r = encounterOps(met({ personId: null, newPerson: { nickname: " Zéphyrin ", givenName: "", familyName: "Martin" } }), ROLE.MARAUDEUR, T, newId);
  assert.ok("ops" in r);
  const [p, e] = r.ops;
  assert.equal(p?.recordId, r.personId);
  assert.ok(p?.record?.case === "person");
  assert.deepEqual(
    p.record.value.fields?.map((f) => [f.field, f.value?.value]),
    [
      [PersonField.NICKNAME, "Zéphyrin"],
      [PersonField.FAMILY_NAME, "Martin"],
    ],
  );
  assert.ok(e?.record?.case === "encounter" && e.record.value.personId === r.personId);
  const none = encounterOps(met({ personId: null, newPerson: { nickname: " ", givenName: "", familyName: "" } }), ROLE.MARAUDEUR, T, newId);
  assert.deepEqual(none, { error: "Indiquez au moins un surnom, un prénom ou un nom." });
});

test("the health note: kept from a health professional, refused from a maraudeur (nothing to send)", () => {
  const note = met({ healthNote: " tension 15/9 " });
  const pro = encounterOps(note, ROLE.PROFESSIONNEL_SANTE, T, newId);
  assert.ok("ops" in pro && pro.ops[0]!.record?.case === "encounter");
  assert.equal(pro.ops[0]!.record.value.healthNote, "tension 15/9");
  for (const role of [ROLE.MARAUDEUR, ROLE.ACCUEILLANT, 6])
    assert.deepEqual(encounterOps(note, role, T, newId), {
      error: "La note de santé est réservée aux professionnels de santé de l'équipe : elle n'a pas été enregistrée.",
    });
  assert.ok("ops" in encounterOps(met({ healthNote: "  " }), ROLE.MARAUDEUR, T, newId), "an empty one is no health note");
});

test("a note longer than the server takes (4096 bytes) is refused before it is saved", () => {
  const long = "é".repeat(2049); /* 4098 bytes */
  const why = { error: "La note est trop longue : 4096 caractères au plus. Raccourcissez-la." };
  assert.deepEqual(encounterOps(met({ note: long }), ROLE.MARAUDEUR, T, newId), why);
  assert.deepEqual(encounterOps(met({ healthNote: long }), ROLE.PROFESSIONNEL_SANTE, T, newId), why);
  assert.ok("ops" in encounterOps(met({ note: "é".repeat(2048) }), ROLE.MARAUDEUR, T, newId), "4096 bytes fit");
});
