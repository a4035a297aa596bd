/* The selected person: who they are (as the structure knows them), where their shelter
 * requests stand, the two things the desk does for them (record a visit, ask the SIAO for a
 * shelter), and their recent visits. The name is shown here only: never in the page title or
 * the URL. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Desk } from "../../state/model";
import { useValue } from "../useValue";
import { formatAge, formatTime, formatWhen } from "../../state/labels";
import { EncounterForm } from "./EncounterForm";
import { personDetails, personName } from "./person";
import { PersonRequests } from "./PersonRequests";
import { ShelterRequestForm } from "./ShelterRequestForm";
import { Visits } from "./Visits";
import "./terminal.css";

type Task = "encounter" | "request";

export interface PersonPanelProps {
  desk: Desk;
  personId: string;
  onClose(): void;
}

export function PersonPanel({ desk, personId, onClose }: PersonPanelProps) {
  const people = useValue(desk.people);
  const o = useValue(desk.orientations);
  const now = useValue(desk.clock);
  const [task, setTask] = useState<Task>("encounter");
  const title = useRef<HTMLHeadingElement>(null);

  /* A person chosen (the panel is keyed by person): the focus goes to their name, where the
   * screen changed. */
  const found = people.persons.some((p) => p.id === personId);
  useEffect(() => title.current?.focus(), [found]);
  const tabs = [useRef<HTMLButtonElement>(null), useRef<HTMLButtonElement>(null)];
  const order: Task[] = ["encounter", "request"];
  /* Tabs as GOV.UK's: Tab reaches the chosen one, the arrow keys move between them. */
  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight" && e.key !== "Home" && e.key !== "End") return;
    e.preventDefault();
    const i = order.indexOf(task);
    const next = e.key === "Home" ? 0 : e.key === "End" ? order.length - 1 : (i + (e.key === "ArrowRight" ? 1 : order.length - 1)) % order.length;
    setTask(order[next]!);
    tabs[next]!.current?.focus();
  };

  const person = people.persons.find((p) => p.id === personId);
  if (!person)
    return (
      <section class="terminal__panel terminal__person" aria-labelledby="person-title" aria-busy="true">
        <h2 id="person-title" class="terminal__title" tabIndex={-1} ref={title}>
          Fiche en cours d'enregistrement…
        </h2>
        <p class="muted">La fiche s'affiche dès que le serveur l'a enregistrée.</p>
      </section>
    );

  const requests = o.requests.filter((r) => r.personId === personId);
  const open = requests.filter((r) => r.status === "waiting" || r.status === "proposed");
  const details = personDetails(person);

  return (
    <section class="terminal__panel terminal__person" aria-labelledby="person-title">
      <div class="person__head">
        <div>
          <h2 id="person-title" class="person__name" tabIndex={-1} ref={title}>
            {personName(person)}
          </h2>
          <p class="person__meta">
            {details && <>{details} · </>}
            {person.lastEncounterAt
              ? `dernier passage ${formatWhen(person.lastEncounterAt, now)} (${formatAge(person.lastEncounterAt, now)})`
              : "aucun passage enregistré"}
          </p>
        </div>
        <button type="button" class="secondary person__close" onClick={onClose}>
          Fermer la fiche
        </button>
      </div>

      <h3 class="person__section">Demandes d'hébergement</h3>
      <PersonRequests requests={requests} now={now} />

      <div class="tasks" role="tablist" aria-label="Que faire pour cette personne ?">
        {order.map((t, i) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`task-${t}`}
            ref={tabs[i]}
            class={task === t ? "task task--on" : "task"}
            aria-selected={task === t}
            aria-controls="task-panel"
            tabIndex={task === t ? 0 : -1}
            onClick={() => setTask(t)}
            onKeyDown={onTabKey}
          >
            {t === "encounter" ? "Enregistrer un passage" : "Demander un hébergement"}
          </button>
        ))}
      </div>
      <div id="task-panel" class="task-panel" role="tabpanel" aria-labelledby={`task-${task}`}>
        {task === "encounter" ? (
          <EncounterForm desk={desk} personId={personId} />
        ) : (
          <ShelterRequestForm
            personId={person.id}
            household={person.household}
            open={open}
            now={now}
            send={desk.actions.requestShelter}
            sent={`Demande envoyée au SIAO à ${formatTime(now)}. Son suivi s'affiche dans « Demandes d'hébergement ».`}
          />
        )}
      </div>

      <h3 class="person__section">Passages récents</h3>
      <Visits encounters={person.encounters} now={now} />
    </section>
  );
}
