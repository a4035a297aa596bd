/* Person profiles as the phone holds them (docs/sync.md, "Person profiles"): libveille's
 * person.c in the same words, and what the phone remembers of its own edits so that a
 * colleague's later value is shown rather than silently taking the place of one of them.
 *
 * Merge: a profile is a set of fields, each with its Hlc stamp; two profiles merge field by
 * field, the greater stamp winning (the first profile on a tie: equal stamps are the same
 * edit). The merge is commutative, associative and idempotent, so the phone may fold pulled
 * profiles, its acknowledged edits and its pending ones in any order.
 *
 * Own edits (PersonEdits, kept sealed per person by store/local.ts): `mine` holds this
 * phone's newest edit of each field for as long as it is the field's value. A pulled field
 * stamped as that edit confirms it, and it stays remembered; one with a greater stamp from
 * another device means a colleague's value took its place: a Notice pairs their value and
 * this phone's, until the user acknowledges it. Whether the colleague wrote theirs offline
 * beside this phone's edit, before this phone's edit reached the server, or later does not
 * matter: which of them synced first must not decide whether the maraudeur learns that their
 * value was replaced. A pulled stamp smaller than the edit says nothing yet: the server has
 * not merged it. An edit the server refused is forgotten (forget).
 *
 * Pure functions over the protobuf types, no I/O. */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  PersonField,
  PersonSchema,
  type Person,
  type PersonFieldValue,
} from "../gen/veille/v1/records_pb";
import { ChangeSchema, type Change } from "../gen/veille/v1/sync_pb";
import { compareStamps, fromWire } from "../net/hlc";

/** Fields per Person (records.proto), and what a merge of two may hold. */
export const PERSON_MAX_FIELDS = 16;
const PERSON_MAX_MERGED = 2 * PERSON_MAX_FIELDS;

/** The kind of value each profile field holds (libveille's person_field_kind). */
export const FIELD_KINDS: Partial<Record<PersonField, NonNullable<PersonFieldValue["value"]["case"]>>> = {
  [PersonField.GIVEN_NAME]: "text",
  [PersonField.FAMILY_NAME]: "text",
  [PersonField.NICKNAME]: "text",
  [PersonField.SITUATION]: "text",
  [PersonField.LANGUAGES]: "text",
  [PersonField.BIRTH_YEAR]: "number",
  [PersonField.HOUSEHOLD_ADULTS]: "number",
  [PersonField.HOUSEHOLD_CHILDREN]: "number",
  [PersonField.REDUCED_MOBILITY]: "flag",
  [PersonField.ANIMAL]: "flag",
  [PersonField.OBJECTS_TO_SHARING]: "flag",
};

/** Checks the Person of a local edit (libveille's person_check_edit): 1 to 16 fields, each a
 * known field at most once, cleared with no value or holding a value of the field's kind.
 * Returns undefined if fine, else why not. */
export function checkEdit(p: Person): string | undefined {
  if (p.fields.length < 1 || p.fields.length > PERSON_MAX_FIELDS) return "a person edit has 1 to 16 fields";
  const seen = new Set<PersonField>();
  for (const f of p.fields) {
    const kind = FIELD_KINDS[f.field];
    if (!kind) return "unknown person field";
    if (seen.has(f.field)) return "a person field is given twice";
    seen.add(f.field);
    if (f.cleared ? f.value.case !== undefined : f.value.case !== kind)
      return f.cleared ? "a cleared person field holds a value" : "a person field's value is not of the field's kind";
  }
  return undefined;
}

const later = (a: PersonFieldValue, b: PersonFieldValue) => compareStamps(fromWire(a.hlc), fromWire(b.hlc)) > 0;

/* b's fields folded into a's, the greater stamp winning (a's on a tie), in field order;
 * changed: whether any of b's won. At most PERSON_MAX_MERGED distinct fields (only a
 * malformed profile has more). */
function mergeFields(a: PersonFieldValue[], b: PersonFieldValue[]): { fields: PersonFieldValue[]; changed: boolean } {
  const out = new Map<PersonField, PersonFieldValue>();
  let changed = false;
  const fold = (list: PersonFieldValue[], fromB: boolean) => {
    for (const v of list) {
      const cur = out.get(v.field);
      if (cur ? later(v, cur) : out.size < PERSON_MAX_MERGED) {
        out.set(v.field, v);
        changed ||= fromB;
      }
    }
  };
  fold(a, false);
  fold(b, true);
  return { fields: [...out.values()].sort((x, y) => x.field - y.field), changed };
}

/**
 * The profile of held (if a person) merged with incoming, as a change at version
 * max(held's, version), seq following the version (libveille's replica merge); held itself if
 * that would hold nothing new. The team is incoming's if it names one, else held's.
 */
export function mergePerson(
  held: Change | undefined,
  recordId: string,
  seq: bigint,
  version: bigint,
  incoming: Person,
): Change {
  const hp = held?.record.case === "person" ? held.record.value : undefined;
  const { fields, changed } = mergeFields(hp?.fields ?? [], incoming.fields);
  const teamId = incoming.teamId || hp?.teamId || "";
  if (held && hp && !changed && held.version >= version && teamId === hp.teamId) return held;
  const newer = !held || held.version < version;
  return create(ChangeSchema, {
    recordId,
    version: newer ? version : held.version,
    seq: newer ? seq : held.seq,
    record: { case: "person", value: { teamId, fields } },
  });
}

/* ---- own edits and the colleagues' values that won over them ---- */

/** A field where a colleague's value won over this phone's edit. */
export interface Notice {
  field: PersonField;
  theirs: PersonFieldValue;
  yours: PersonFieldValue;
}

/** What the phone remembers of its own edits of one person. */
export interface PersonEdits {
  /** this phone's newest edit of each field, while it is the field's value */
  mine: PersonFieldValue[];
  /** in field order, at most one per field (the newest) */
  notices: Notice[];
}

const byField = (x: { field: PersonField }, y: { field: PersonField }) => x.field - y.field;

/* list with v in place of its field's entry. */
function put<T extends { field: PersonField }>(list: T[], v: T): T[] {
  return [...list.filter((x) => x.field !== v.field), v].sort(byField);
}

/** edits after this phone's edit `fields` (stamped) is queued. */
export function recordEdit(edits: PersonEdits | undefined, fields: PersonFieldValue[]): PersonEdits {
  let mine = edits?.mine ?? [];
  for (const f of fields) mine = put(mine, f);
  return { mine, notices: edits?.notices ?? [] };
}

/**
 * edits after a pulled profile (the server's merge) of the person: an edit of `mine` whose
 * field the profile holds stamped as it is confirmed and stays; stamped later, it was
 * replaced and leaves `mine`, with a Notice if another device than self replaced it (a
 * colleague's value). Returns edits itself if nothing moved.
 */
export function reconcile(edits: PersonEdits, pulled: Person, self: Uint8Array): PersonEdits {
  let { mine, notices } = edits;
  for (const yours of edits.mine) {
    const theirs = pulled.fields.find((f) => f.field === yours.field);
    if (!theirs || !later(theirs, yours)) continue; /* not merged yet, or merged and still the value */
    mine = mine.filter((f) => f !== yours);
    const by = theirs.hlc?.deviceId ?? new Uint8Array();
    if (later(theirs, yours) && !sameBytes(by, self)) notices = put(notices, { field: yours.field, theirs, yours });
  }
  return mine === edits.mine ? edits : { mine, notices };
}

/** edits without the edit `fields` (the server refused it: it will never be merged). */
export function forget(edits: PersonEdits, fields: PersonFieldValue[]): PersonEdits {
  const refused = (m: PersonFieldValue) =>
    fields.some((f) => f.field === m.field && compareStamps(fromWire(f.hlc), fromWire(m.hlc)) === 0);
  const mine = edits.mine.filter((m) => !refused(m));
  return mine.length === edits.mine.length ? edits : { mine, notices: edits.notices };
}

/** Whether edits hold nothing (its row can go). */
export function noEdits(edits: PersonEdits): boolean {
  return !edits.mine.length && !edits.notices.length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/* At rest: three Person messages (mine, their values, your values) as fields 1, 2 and 3 of
 * one protobuf message, sealed by the caller. */
export function encodeEdits(e: PersonEdits): Uint8Array {
  const w = new BinaryWriter();
  const parts = [e.mine, e.notices.map((n) => n.theirs), e.notices.map((n) => n.yours)];
  parts.forEach((fields, i) => w.tag(i + 1, WireType.LengthDelimited).bytes(toBinary(PersonSchema, create(PersonSchema, { fields }))));
  return w.finish();
}

/** The PersonEdits of encodeEdits' bytes. Throws on bytes that do not decode. */
export function decodeEdits(bytes: Uint8Array): PersonEdits {
  const parts: PersonFieldValue[][] = [[], [], []];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    if (no >= 1 && no <= 3 && type === WireType.LengthDelimited) parts[no - 1] = fromBinary(PersonSchema, r.bytes()).fields;
    else r.skip(type, no);
  }
  const [mine, theirs, yours] = parts as [PersonFieldValue[], PersonFieldValue[], PersonFieldValue[]];
  if (theirs.length !== yours.length) throw new RangeError("person edits: notices unpaired");
  return { mine, notices: theirs.map((t, i) => ({ field: t.field, theirs: t, yours: yours[i]! })) };
}
