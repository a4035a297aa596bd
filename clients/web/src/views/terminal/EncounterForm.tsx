/* "Enregistrer un passage": what the person came for and what the team gave, and a note that
 * stays in the structure (TEAM class: never shared with the SIAO or a centre). Nothing is
 * mandatory: a visit with nothing ticked is still a visit. */
import { useState } from "preact/hooks";
import type { Desk, Need, Service } from "../../state/model";
import { formatWhen, NEED_LABEL, SERVICE_LABEL } from "../../state/labels";
import { CheckboxGroup, type Option } from "../forms/Choices";
import { TextArea } from "../forms/Field";
import { AlertMessage, StatusMessage } from "../forms/Messages";
import { useAction } from "../forms/useAction";

const NEEDS: Option<Need>[] = ([1, 2, 3, 4, 5, 6, 7, 8] as Need[]).map((n) => ({ value: n, label: NEED_LABEL[n] }));
const SERVICES: Option<Service>[] = ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] as Service[]).map((s) => ({
  value: s,
  label: SERVICE_LABEL[s],
}));

export interface EncounterFormProps {
  desk: Desk;
  personId: string;
}

export function EncounterForm({ desk, personId }: EncounterFormProps) {
  const [needs, setNeeds] = useState<Need[]>([]);
  const [services, setServices] = useState<Service[]>([]);
  const [note, setNote] = useState("");
  const act = useAction();

  const submit = async (e: Event) => {
    e.preventDefault();
    const o = await act.run(
      () => desk.actions.recordEncounter({ personId, needs, services, note: note.trim() }),
      () => `Passage enregistré ${formatWhen(desk.clock.value, desk.clock.value)}.`,
    );
    if (o?.ok) {
      setNeeds([]);
      setServices([]);
      setNote("");
    }
  };
  const touched = () => act.done && act.clear();

  return (
    <form class="person-form" onSubmit={submit} noValidate aria-labelledby="encounter-title">
      <h3 id="encounter-title" class="visually-hidden">
        Enregistrer un passage
      </h3>
      <CheckboxGroup<Need>
        idPrefix="encounter-needs"
        legend="Besoins exprimés"
        options={NEEDS}
        columns={2}
        selected={needs}
        onChange={(v) => (setNeeds(v), touched())}
      />
      <CheckboxGroup<Service>
        idPrefix="encounter-services"
        legend="Services rendus"
        options={SERVICES}
        columns={3}
        selected={services}
        onChange={(v) => (setServices(v), touched())}
      />
      <TextArea
        id="encounter-note"
        label="Note de l'équipe (reste dans votre structure)"
        hint="Ni le SIAO ni les centres ne la voient."
        value={note}
        rows={2}
        maxLength={2000}
        onInput={(v) => (setNote(v), touched())}
      />
      <div class="button-group">
        <button type="submit" aria-disabled={act.busy ? "true" : undefined}>
          {act.busy ? "Enregistrement…" : "Enregistrer le passage"}
        </button>
      </div>
      <StatusMessage message={act.done} />
      <AlertMessage message={act.error} />
    </form>
  );
}
