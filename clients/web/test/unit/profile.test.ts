/* state/profile.ts: a profile read into the form, the edit of a draft (only what the user
 * changed, emptied fields cleared, bad values refused in French), the notice's words. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PersonField, PersonSchema } from "../../src/gen/veille/v1/records_pb";
import { draftOf, noticeText, profileEdit, profileOf } from "../../src/state/profile";

const jo = create(PersonSchema, {
  fields: [
    { field: PersonField.NICKNAME, value: { case: "text", value: "Jo" } },
    { field: PersonField.BIRTH_YEAR, value: { case: "number", value: 1971n } },
    { field: PersonField.ANIMAL, value: { case: "flag", value: true } },
    { field: PersonField.GIVEN_NAME, cleared: true },
  ],
});

test("a profile read into the form: values, empty fields empty, flags off", () => {
  const p = profileOf(jo);
  assert.deepEqual(p, { [PersonField.NICKNAME]: "Jo", [PersonField.BIRTH_YEAR]: 1971, [PersonField.ANIMAL]: true });
  const d = draftOf(p);
  assert.equal(d[PersonField.NICKNAME], "Jo");
  assert.equal(d[PersonField.BIRTH_YEAR], "1971");
  assert.equal(d[PersonField.GIVEN_NAME], "");
  assert.equal(d[PersonField.ANIMAL], true);
  assert.equal(d[PersonField.REDUCED_MOBILITY], false);
});

test("the edit holds only the fields changed: set, emptied (cleared), flags either way", () => {
  const base = draftOf(profileOf(jo));
  assert.deepEqual(profileEdit(base, base), { fields: [] });
  assert.deepEqual(profileEdit(base, { ...base, [PersonField.NICKNAME]: "  Jo " }), { fields: [] }, "spaces around are not a change");
  const edit = profileEdit(base, {
    ...base,
    [PersonField.NICKNAME]: "Jojo ",
    [PersonField.BIRTH_YEAR]: "",
    [PersonField.ANIMAL]: false,
    [PersonField.HOUSEHOLD_CHILDREN]: "2",
  });
  assert.deepEqual(edit, {
    fields: [
      { field: PersonField.NICKNAME, value: { case: "text", value: "Jojo" } },
      { field: PersonField.BIRTH_YEAR, cleared: true },
      { field: PersonField.HOUSEHOLD_CHILDREN, value: { case: "number", value: 2n } },
      { field: PersonField.ANIMAL, value: { case: "flag", value: false } },
    ],
  });
});

test("bad values are refused with the field and a French reason", () => {
  const base = draftOf(profileOf(jo));
  const bad: [PersonField, string, RegExp][] = [
    [PersonField.BIRTH_YEAR, "197", /^Année de naissance : un nombre de 1900 à \d{4}\.$/],
    [PersonField.BIRTH_YEAR, "1871", /^Année de naissance/],
    [PersonField.BIRTH_YEAR, String(new Date().getFullYear() + 1), /^Année de naissance/],
    [PersonField.HOUSEHOLD_ADULTS, "0", /^Adultes du ménage : un nombre de 1 à 20\.$/],
    [PersonField.HOUSEHOLD_CHILDREN, "deux", /^Enfants du ménage/],
    [PersonField.NICKNAME, "x".repeat(257), /^Surnom : trop long, 256 caractères au plus\.$/],
    [PersonField.SITUATION, "é".repeat(2049), /^Situation : trop long, 4096/],
  ];
  for (const [field, typed, message] of bad) {
    const r = profileEdit(base, { ...base, [field]: typed });
    assert.ok("error" in r, `${typed} refused`);
    assert.equal(r.error.field, field);
    assert.match(r.error.message, message);
  }
  assert.ok("fields" in profileEdit(base, { ...base, [PersonField.SITUATION]: "é".repeat(2048) }), "4096 bytes fit");
});

test("the notice says the colleague's value and this phone's", () => {
  const [nick, , animal] = jo.fields;
  const yours = create(PersonSchema, {
    fields: [
      { field: PersonField.NICKNAME, value: { case: "text", value: "Jojo" } },
      { field: PersonField.ANIMAL, cleared: true },
    ],
  }).fields;
  assert.equal(
    noticeText({ field: PersonField.NICKNAME, theirs: nick!, yours: yours[0]! }),
    "Modifié aussi par un collègue : Surnom = «\u00a0Jo\u00a0» (votre saisie : «\u00a0Jojo\u00a0»)",
  );
  assert.equal(
    noticeText({ field: PersonField.ANIMAL, theirs: animal!, yours: yours[1]! }),
    "Modifié aussi par un collègue : Avec un animal = oui (votre saisie : vide)",
  );
});
