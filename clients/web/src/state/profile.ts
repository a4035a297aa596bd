/* A person's profile as the phone's views show and edit it (docs/maraude-app.md, "Profiles"):
 * the fields the team holds, read from the merged Person the store folds, and a form's draft
 * turned into the edit that goes to the outbox, holding only the fields the user changed
 * (the store stamps each with the clock). Also the words of the notice shown when a
 * colleague's later value won over one of this phone's edits (store/person.ts).
 *
 * Every field of the profile is one a maraude may read and write (docs/access-rules.md:
 * IDENTITY, DECISION and TEAM; the profile has no HEALTH field). Pure functions. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { PersonField, type Person, type PersonFieldValue, type PersonFieldValueSchema } from "../gen/veille/v1/records_pb";
import { FIELD_KINDS } from "../store/person";
import { PERSON_FIELD_LABEL } from "./labels";
import type { Household } from "./model";

export type FieldKind = "text" | "number" | "flag";

/** A value of the profile; a field left empty is absent. */
export type Profile = Partial<Record<number, string | number | boolean>>;

/** A form's values: text and number fields as typed, flags as booleans. */
export type Draft = Partial<Record<number, string | boolean>>;

export interface FieldSpec {
  field: number;
  kind: FieldKind;
  /** a text of several lines */
  long?: boolean;
  min?: number;
  max?: number;
  hint?: string;
}

/* Bytes of UTF-8 a text field holds at most (records.proto). */
const TEXT_MAX = 256;
const LONG_TEXT_MAX = 4096;

/** The profile's fields as the form asks them, in groups: names first, the street name first
 * of all. */
export const PROFILE_GROUPS: readonly { legend: string; fields: readonly FieldSpec[] }[] = [
  {
    legend: "Identité",
    fields: [
      { field: PersonField.NICKNAME, kind: "text" },
      { field: PersonField.GIVEN_NAME, kind: "text" },
      { field: PersonField.FAMILY_NAME, kind: "text" },
      { field: PersonField.BIRTH_YEAR, kind: "number", min: 1900, max: new Date().getFullYear(), hint: "Par exemple 1971." },
    ],
  },
  {
    legend: "Ménage",
    fields: [
      { field: PersonField.HOUSEHOLD_ADULTS, kind: "number", min: 1, max: 20 },
      { field: PersonField.HOUSEHOLD_CHILDREN, kind: "number", min: 0, max: 20 },
      { field: PersonField.LANGUAGES, kind: "text", hint: "Par exemple : français, arabe, dari." },
      { field: PersonField.REDUCED_MOBILITY, kind: "flag" },
      { field: PersonField.ANIMAL, kind: "flag" },
    ],
  },
  {
    legend: "Suivi par l'équipe",
    fields: [
      { field: PersonField.SITUATION, kind: "text", long: true, hint: "Reste dans l'équipe." },
      {
        field: PersonField.OBJECTS_TO_SHARING,
        kind: "flag",
        hint: "Ses données restent alors dans l'équipe ; seule une demande d'hébergement part au SIAO.",
      },
    ],
  },
];

const PROFILE_FIELDS = PROFILE_GROUPS.flatMap((g) => g.fields);

function valueOf(v: PersonFieldValue): string | number | boolean | undefined {
  if (v.cleared) return undefined;
  switch (v.value.case) {
    case "text":
      return v.value.value || undefined;
    case "number":
      return Number(v.value.value);
    case "flag":
      return v.value.value;
    default:
      return undefined;
  }
}

/** The values of p's fields the form knows. */
export function profileOf(p: Person): Profile {
  const out: Profile = {};
  for (const f of p.fields) {
    const v = valueOf(f);
    if (v !== undefined && FIELD_KINDS[f.field]) out[f.field] = v;
  }
  return out;
}

/** The household a shelter request starts from. */
export function householdOf(p: Profile): Household {
  return {
    adults: Number(p[PersonField.HOUSEHOLD_ADULTS] ?? 0),
    children: Number(p[PersonField.HOUSEHOLD_CHILDREN] ?? 0),
    reducedMobility: p[PersonField.REDUCED_MOBILITY] === true,
    animal: p[PersonField.ANIMAL] === true,
    languages: String(p[PersonField.LANGUAGES] ?? ""),
  };
}

/** The form's starting values. */
export function draftOf(p: Profile): Draft {
  const d: Draft = {};
  for (const s of PROFILE_FIELDS) {
    const v = p[s.field];
    d[s.field] = s.kind === "flag" ? v === true : v === undefined ? "" : String(v);
  }
  return d;
}

export type FieldEdit = MessageInitShape<typeof PersonFieldValueSchema>;

/** A draft refused: the first field at fault and why, in French. */
export interface DraftError {
  field: number;
  message: string;
}

/**
 * The edit of a draft: a value for each field whose draft differs from base (the draft the
 * form opened with: a colleague's change meanwhile is not undone), a text or number emptied
 * as cleared. No field changed gives an empty list.
 */
export function profileEdit(base: Draft, draft: Draft): { fields: FieldEdit[] } | { error: DraftError } {
  const fields: FieldEdit[] = [];
  for (const s of PROFILE_FIELDS) {
    const raw = draft[s.field];
    if (raw === undefined || raw === base[s.field]) continue;
    if (s.kind === "flag") {
      fields.push({ field: s.field, value: { case: "flag", value: raw === true } });
      continue;
    }
    const typed = String(raw).trim();
    if (typed === String(base[s.field] ?? "").trim()) continue;
    if (!typed) {
      fields.push({ field: s.field, cleared: true });
      continue;
    }
    const why = s.kind === "number" ? badNumber(s, typed) : badText(s, typed);
    if (why) return { error: { field: s.field, message: why } };
    fields.push({
      field: s.field,
      value: s.kind === "number" ? { case: "number", value: BigInt(typed) } : { case: "text", value: typed },
    });
  }
  return { fields };
}

function badNumber(s: FieldSpec, typed: string): string | undefined {
  const n = /^\d{1,4}$/.test(typed) ? Number(typed) : NaN;
  if (n >= s.min! && n <= s.max!) return undefined;
  return `${PERSON_FIELD_LABEL[s.field]} : un nombre de ${s.min} à ${s.max}.`;
}

function badText(s: FieldSpec, typed: string): string | undefined {
  const max = s.long ? LONG_TEXT_MAX : TEXT_MAX;
  if (new TextEncoder().encode(typed).length <= max) return undefined;
  return `${PERSON_FIELD_LABEL[s.field]} : trop long, ${max} caractères au plus.`;
}

/** A value as the notice shows it: a text in guillemets, "oui" or "non", "vide". */
export function shownValue(v: PersonFieldValue): string {
  const x = valueOf(v);
  if (x === undefined) return "vide";
  if (typeof x === "boolean") return x ? "oui" : "non";
  return typeof x === "string" ? `«\u00a0${x}\u00a0»` : String(x);
}

/** "Modifié aussi par un collègue : Surnom = « Joe » (votre saisie : « Jojo »)" */
export function noticeText(n: { field: number; theirs: PersonFieldValue; yours: PersonFieldValue }): string {
  const label = PERSON_FIELD_LABEL[n.field] ?? "Champ";
  return `Modifié aussi par un collègue : ${label} = ${shownValue(n.theirs)} (votre saisie : ${shownValue(n.yours)})`;
}
