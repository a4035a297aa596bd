/* An encounter recorded on the phone: the ops it saves in one go, a new person's profile
 * first when the person is new to the team, then the encounter; its notes no longer than the
 * server takes them, so that it is not refused after the round. The health note goes only
 * from the team's health professionals, the one role that may read HEALTH fields back
 * (server/policy.c, docs/access-rules.md; the server refuses it from the others): from any
 * other role the encounter is refused here, never sent. Pure. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { PersonField } from "../gen/veille/v1/records_pb";
import type { MutationSchema } from "../gen/veille/v1/sync_pb";
import { readsHealth, type Need, type Role, type Service } from "./model";
import { profileEdit } from "./profile";

export interface NewEncounterInput {
  /** an existing person, or null with newPerson */
  personId: string | null;
  newPerson?: { nickname: string; givenName: string; familyName: string };
  needs: Need[];
  services: Service[];
  note: string;
  /** for the team's health professionals only */
  healthNote?: string;
  geohash: string;
}

type Op = MessageInitShape<typeof MutationSchema>;

/* Bytes of UTF-8 a note holds at most (records.proto: the server refuses more). */
const NOTE_MAX = 4096;
const tooLong = (s: string) => new TextEncoder().encode(s).length > NOTE_MAX;

/** The ops of encounter e by a professional of role at nowMs (server time), record ids made
 * by newId; or why it cannot be saved, in French. */
export function encounterOps(
  e: NewEncounterInput,
  role: Role,
  nowMs: number,
  newId: () => string,
): { ops: Op[]; personId: string } | { error: string } {
  const healthNote = e.healthNote?.trim() ?? "";
  if (healthNote && !readsHealth(role))
    return { error: "La note de santé est réservée aux professionnels de santé de l'équipe : elle n'a pas été enregistrée." };
  const note = e.note.trim();
  if (tooLong(note) || tooLong(healthNote))
    return { error: `La note est trop longue : ${NOTE_MAX} caractères au plus. Raccourcissez-la.` };
  const ops: Op[] = [];
  let personId = e.personId;
  if (!personId) {
    const np = e.newPerson;
    const edit = profileEdit(
      {},
      { [PersonField.NICKNAME]: np?.nickname ?? "", [PersonField.GIVEN_NAME]: np?.givenName ?? "", [PersonField.FAMILY_NAME]: np?.familyName ?? "" },
    );
    if ("error" in edit) return { error: edit.error.message };
    if (!edit.fields.length) return { error: "Indiquez au moins un surnom, un prénom ou un nom." };
    personId = newId();
    ops.push({ recordId: personId, record: { case: "person", value: { fields: edit.fields } } });
  }
  ops.push({
    recordId: newId(),
    record: {
      case: "encounter",
      value: {
        personId,
        occurredAtMs: BigInt(nowMs),
        needs: e.needs,
        services: e.services,
        note,
        healthNote,
        location: e.geohash ? { geohash: e.geohash } : undefined,
      },
    },
  });
  return { ops, personId };
}
