/* The persons the structure holds and their encounters, as the day-centre terminal shows them
 * (profiles folded field by field by the server: a Change holds the merged profile). */
import { PersonField, type Person } from "../gen/veille/v1/records_pb";
import type { EncounterView, Need, People, PersonView, Service } from "./model";
import type { Records } from "./records";

function text(p: Person, f: PersonField): string {
  const v = p.fields.find((x) => x.field === f);
  return v && !v.cleared && v.value.case === "text" ? v.value.value : "";
}

function num(p: Person, f: PersonField): number | null {
  const v = p.fields.find((x) => x.field === f);
  return v && !v.cleared && v.value.case === "number" ? Number(v.value.value) : null;
}

function flag(p: Person, f: PersonField): boolean {
  const v = p.fields.find((x) => x.field === f);
  return !!v && !v.cleared && v.value.case === "flag" && v.value.value;
}

export function derivePeople(rec: Records): People {
  const byPerson = new Map<string, EncounterView[]>();
  for (const [id, { value: e }] of rec.encounters) {
    const list = byPerson.get(e.personId) ?? [];
    list.push({
      id,
      occurredAt: Number(e.occurredAtMs),
      needs: e.needs as Need[],
      services: e.services as Service[],
      note: e.note,
      area: e.location?.area ?? "",
      teamId: e.teamId,
    });
    byPerson.set(e.personId, list);
  }
  const persons: PersonView[] = [];
  for (const [id, { value: p }] of rec.persons) {
    const encounters = (byPerson.get(id) ?? []).sort((a, b) => b.occurredAt - a.occurredAt);
    persons.push({
      id,
      givenName: text(p, PersonField.GIVEN_NAME),
      familyName: text(p, PersonField.FAMILY_NAME),
      nickname: text(p, PersonField.NICKNAME),
      birthYear: num(p, PersonField.BIRTH_YEAR),
      household: {
        adults: num(p, PersonField.HOUSEHOLD_ADULTS) ?? 0,
        children: num(p, PersonField.HOUSEHOLD_CHILDREN) ?? 0,
        reducedMobility: flag(p, PersonField.REDUCED_MOBILITY),
        animal: flag(p, PersonField.ANIMAL),
        languages: text(p, PersonField.LANGUAGES),
      },
      lastEncounterAt: encounters[0]?.occurredAt ?? 0,
      encounters,
    });
  }
  const key = (p: PersonView) => `${p.familyName} ${p.givenName} ${p.nickname}`.trim();
  persons.sort((a, b) => key(a).localeCompare(key(b), "fr") || a.id.localeCompare(b.id));
  return { loaded: true, persons };
}
