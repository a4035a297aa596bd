/* "Nouvelle rencontre", in under a minute with one thumb: who (a person the team knows, found
 * by any of their names or birth year, or a new one, nickname first), needs and services as
 * big toggles, a note (and for a health professional, the health note: no one else sees the
 * field), an optional approximate place (asked only on tap, 6-character geohash),
 * then saved on the phone at once, network or not. */
import { useEffect, useRef, useState } from "preact/hooks";
import { NEED_LABEL, SERVICE_LABEL } from "../../state/labels";
import type { PersonItem, Round } from "../../state/maraude";
import type { Need, Service } from "../../state/model";
import { personLabel, PersonSearch } from "./PersonSearch";

const NEEDS: Need[] = [1, 2, 3, 4, 5, 6, 7, 8];
const SERVICES: Service[] = [1, 2, 3, 5, 6, 4, 7, 8, 9, 10, 11];

function Chips<T extends number>(p: { legend: string; options: T[]; labels: Record<T, string>; value: T[]; onChange(v: T[]): void }) {
  return (
    <fieldset>
      <legend>{p.legend}</legend>
      <div class="chips">
        {p.options.map((o) => {
          const on = p.value.includes(o);
          return (
            <button
              type="button"
              key={o}
              class="chip"
              aria-pressed={on}
              onClick={() => p.onChange(on ? p.value.filter((x) => x !== o) : [...p.value, o])}
            >
              {p.labels[o]}
            </button>
          );
        })}
      </div>
    </fieldset>
  );
}

export interface EncounterFormProps {
  round: Round;
  /** the person met, if chosen already (from their screen) */
  person?: PersonItem;
  /** the id of the person met, once the encounter is saved; null if cancelled */
  onDone(personId: string | null): void;
}

export function EncounterForm({ round, person: chosen, onDone }: EncounterFormProps) {
  const [query, setQuery] = useState("");
  const [person, setPerson] = useState<PersonItem | null>(chosen ?? null);
  const [creating, setCreating] = useState(false);
  const [nickname, setNickname] = useState("");
  const [givenName, setGivenName] = useState("");
  const [familyName, setFamilyName] = useState("");
  const [needs, setNeeds] = useState<Need[]>([]);
  const [services, setServices] = useState<Service[]>([]);
  const [note, setNote] = useState("");
  const [healthNote, setHealthNote] = useState("");
  const [geohash, setGeohash] = useState("");
  const [where, setWhere] = useState<{ busy?: boolean; error?: string }>({});
  const [error, setError] = useState<string | undefined>();
  /* a refusal (a full storage, a name missing) is read where the form starts: brought into view */
  const said = useRef<HTMLParagraphElement>(null);
  useEffect(() => said.current?.scrollIntoView({ block: "center" }), [error]);
  const [busy, setBusy] = useState(false);
  const saving = useRef(false);
  const h = useRef<HTMLHeadingElement>(null);
  useEffect(() => h.current?.focus(), []);
  const who = person || creating;

  const save = async (e: Event) => {
    e.preventDefault();
    if (!who) return setError("Choisissez la personne rencontrée, ou créez-la.");
    if (creating && !nickname.trim() && !givenName.trim() && !familyName.trim())
      return setError("Indiquez au moins un surnom, un prénom ou un nom.");
    if (saving.current) return; /* a second tap */
    saving.current = true;
    setError(undefined);
    /* "Enregistrement…" only if the save is slow: drawing the form again first took longer
     * than the save itself at CPU x4 */
    const slow = setTimeout(() => setBusy(true), 200);
    const r = await round.recordEncounter({
      personId: person?.id ?? null,
      newPerson: creating ? { nickname, givenName, familyName } : undefined,
      needs,
      services,
      note,
      healthNote: round.health ? healthNote : undefined,
      geohash,
    });
    clearTimeout(slow);
    saving.current = false;
    setBusy(false);
    if (r.ok) onDone(r.id ?? null);
    else setError(r.message);
  };

  return (
    <form class="screen" onSubmit={save} noValidate aria-labelledby="encounter-title">
      <h1 id="encounter-title" tabIndex={-1} ref={h}>
        Nouvelle rencontre
      </h1>
      {error && (
        <p class="error" role="alert" ref={said}>
          {error}
        </p>
      )}
      {!who && (
        <>
          <PersonSearch round={round} label="Qui rencontrez-vous ?" query={query} onQuery={setQuery} onPick={setPerson} />
          <button
            type="button"
            class="secondary wide"
            onClick={() => {
              setCreating(true);
              if (query.trim() && !/\d/.test(query)) setNickname(query.trim());
            }}
          >
            Nouvelle personne
          </button>
        </>
      )}
      {person && (
        <div class="card chosen">
          <p class="state">{personLabel(person)}</p>
          <button type="button" class="link" onClick={() => setPerson(null)}>
            Changer
          </button>
        </div>
      )}
      {creating && (
        <fieldset>
          <legend>Nouvelle personne</legend>
          <div class="field">
            <label for="nickname">Surnom</label>
            <p class="hint" id="nickname-hint">
              Le nom qu'elle donne dans la rue. Le reste peut attendre.
            </p>
            <input id="nickname" autoComplete="off" aria-describedby="nickname-hint" value={nickname} onInput={(e) => setNickname(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="given-name">Prénom (facultatif)</label>
            <input id="given-name" autoComplete="off" value={givenName} onInput={(e) => setGivenName(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="family-name">Nom (facultatif)</label>
            <input id="family-name" autoComplete="off" value={familyName} onInput={(e) => setFamilyName(e.currentTarget.value)} />
          </div>
          <button type="button" class="link" onClick={() => setCreating(false)}>
            Chercher plutôt une personne connue
          </button>
        </fieldset>
      )}
      {who && (
        <>
          <Chips legend="Besoins exprimés" options={NEEDS} labels={NEED_LABEL} value={needs} onChange={setNeeds} />
          <Chips legend="Ce que la maraude a apporté" options={SERVICES} labels={SERVICE_LABEL} value={services} onChange={setServices} />
          <div class="field">
            <label for="note">Note de l'équipe (facultatif)</label>
            <textarea id="note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </div>
          {round.health && (
            <div class="field">
              <label for="health-note">Note de santé (facultatif)</label>
              <p class="hint" id="health-note-hint">
                Lue seulement par les professionnels de santé de l'équipe (secret médical).
              </p>
              <textarea id="health-note" aria-describedby="health-note-hint" value={healthNote} onInput={(e) => setHealthNote(e.currentTarget.value)} />
            </div>
          )}
          <div class="field">
            <p class="label">Lieu approximatif (facultatif)</p>
            <p class="hint">Une zone d'environ un kilomètre, jamais plus précise.</p>
            {geohash ? (
              <div class="row">
                <p class="state state--ok">Zone {geohash} ajoutée</p>
                <button type="button" class="link" onClick={() => setGeohash("")}>
                  Retirer
                </button>
              </div>
            ) : (
              <button
                type="button"
                class="secondary wide"
                disabled={where.busy}
                onClick={async () => {
                  setWhere({ busy: true });
                  const r = await round.locate();
                  if (r.ok) {
                    setGeohash(r.geohash);
                    setWhere({});
                  } else setWhere({ error: r.message });
                }}
              >
                {where.busy ? "Recherche de la position…" : "Ajouter le lieu approximatif"}
              </button>
            )}
            {where.error && (
              <p class="error" role="alert">
                {where.error}
              </p>
            )}
          </div>
          <div class="actions save-bar">
            <button type="submit" class="wide big" disabled={busy}>
              {busy ? "Enregistrement…" : "Enregistrer la rencontre"}
            </button>
          </div>
        </>
      )}
      <div class="actions">
        <button type="button" class="secondary wide" onClick={() => onDone(null)}>
          Annuler
        </button>
      </div>
    </form>
  );
}
