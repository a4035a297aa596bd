/* A person's screen: who they are as the team holds them, the colleagues' values that won
 * over this phone's edits (shown until acknowledged, never dropped in silence), a new
 * encounter with them, their shelter requests and a new one, their profile to correct (saved
 * on the phone like an encounter, only the fields changed), and their last encounters. */
import { useEffect, useRef, useState } from "preact/hooks";
import { formatWhen, NEED_LABEL, PERSON_FIELD_LABEL, SERVICE_LABEL } from "../../state/labels";
import type { PersonItem, Round } from "../../state/maraude";
import { draftOf, PROFILE_GROUPS, type Draft, type FieldSpec, type Profile } from "../../state/profile";
import { useValue } from "../useValue";
import { PersonRequests } from "../terminal/PersonRequests";
import { personLabel } from "./PersonSearch";

const RECENT = 5;

export interface PersonScreenProps {
  round: Round;
  person: PersonItem;
  onEncounter(): void;
  onRequest(): void;
  onBack(): void;
}

export function PersonScreen({ round, person, onEncounter, onRequest, onBack }: PersonScreenProps) {
  const encounters = useValue(round.encounters)
    .filter((e) => e.personId === person.id)
    .slice(0, RECENT);
  const h = useRef<HTMLHeadingElement>(null);
  useEffect(() => h.current?.focus(), [person.id]);
  const now = Date.now();
  return (
    <main class="screen" aria-labelledby="person-title">
      <button type="button" class="link back" onClick={onBack}>
        <span aria-hidden="true">←</span> Retour
      </button>
      <h1 id="person-title" tabIndex={-1} ref={h}>
        {personLabel(person)}
      </h1>
      {person.pending > 0 ? (
        <p class="state state--wait">
          <span class="mark" aria-hidden="true">
            ↑
          </span>
          Modifications enregistrées sur le téléphone, en attente d'envoi
        </p>
      ) : (
        <p class="state state--ok">
          <span class="mark" aria-hidden="true">
            ✓
          </span>
          Fiche reçue par le serveur
        </p>
      )}
      <Notices round={round} person={person} />
      <button type="button" class="wide big" onClick={onEncounter}>
        Nouvelle rencontre avec cette personne
      </button>
      <Requests round={round} person={person} now={now} onRequest={onRequest} />
      <ProfileForm key={person.id} round={round} person={person} />
      <section aria-labelledby="met-title">
        <h2 id="met-title">Dernières rencontres</h2>
        {!encounters.length ? (
          <p class="muted">Aucune rencontre sur ce téléphone.</p>
        ) : (
          <ul class="plain">
            {encounters.map((e) => (
              <li key={e.id}>
                <p class={`state ${e.pending ? "state--wait" : "state--ok"}`}>
                  {formatWhen(e.occurredAt, now)}
                  {e.pending ? " · en attente d'envoi" : ""}
                </p>
                {e.needs.length > 0 && <p>Besoins : {e.needs.map((n) => NEED_LABEL[n]).join(", ")}</p>}
                {e.services.length > 0 && <p>Apporté : {e.services.map((s) => SERVICE_LABEL[s]).join(", ")}</p>}
                {e.note && <p class="muted">{e.note}</p>}
                {e.healthNote && <p class="health">Santé : {e.healthNote}</p>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

/* The person's shelter requests: those still on the phone, then where the others stand (the
 * SIAO's proposal, the centre's decision: what the server lets the maraude read of them). */
function Requests({ round, person, now, onRequest }: { round: Round; person: PersonItem; now: number; onRequest(): void }) {
  const mine = useValue(round.requests).filter((r) => r.view.personId === person.id);
  const waiting = mine.filter((r) => !r.view.requestedAt).length;
  const received = mine.filter((r) => r.view.requestedAt).map((r) => r.view);
  return (
    <section aria-labelledby="requests-title" class="spaced">
      <h2 id="requests-title">Demandes d'hébergement</h2>
      {waiting > 0 && (
        <p class="state state--wait">
          <span class="mark" aria-hidden="true">
            ↑
          </span>
          {waiting === 1 ? "Une demande enregistrée" : `${waiting} demandes enregistrées`} sur le téléphone, en attente d'envoi
        </p>
      )}
      {(received.length > 0 || !waiting) && <PersonRequests requests={received} now={now} />}
      <button type="button" class="secondary wide spaced" onClick={onRequest}>
        Demander un hébergement
      </button>
    </section>
  );
}

function Notices({ round, person }: { round: Round; person: PersonItem }) {
  const [error, setError] = useState<string | undefined>();
  if (!person.notices.length) return null;
  return (
    <section class="warning spaced" aria-labelledby="notices-title">
      <h2 id="notices-title">À vérifier</h2>
      <ul class="plain">
        {person.notices.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button
        type="button"
        class="secondary wide"
        onClick={async () => {
          const r = await round.acknowledge(person.id);
          setError(r.ok ? undefined : r.message);
        }}
      >
        J'ai vu
      </button>
    </section>
  );
}

/* The profile as the team holds it, editable; what the user did not touch is not sent, so a
 * colleague's change meanwhile stays. */
function ProfileForm({ round, person }: { round: Round; person: PersonItem }) {
  /* base: the values the form started from; draft: as typed (the same object until a change) */
  const [form, setForm] = useState(() => opened(person.profile));
  const [error, setError] = useState<{ message: string; field?: number } | undefined>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  /* a change pulled while nothing is being typed shows at once */
  const shown = JSON.stringify(person.profile);
  useEffect(() => setForm((f) => (f.draft === f.base ? opened(person.profile) : f)), [shown]);
  const set = (field: number, v: string | boolean) => {
    setForm((f) => ({ ...f, draft: { ...f.draft, [field]: v } }));
    setSaved(false);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await round.editPerson(person.id, form.base, form.draft);
    setBusy(false);
    setSaved(r.ok);
    setError(r.ok ? undefined : r);
    if (r.ok) setForm((f) => ({ base: f.draft, draft: f.draft }));
    else if (r.field) document.getElementById(`profile-${r.field}`)?.focus();
  };
  const draft = form.draft;
  return (
    <form onSubmit={save} noValidate aria-labelledby="profile-title">
      <h2 id="profile-title">Fiche</h2>
      {PROFILE_GROUPS.map((g) => (
        <fieldset key={g.legend}>
          <legend>{g.legend}</legend>
          {g.fields.map((s) => (
            <ProfileField key={s.field} spec={s} value={draft[s.field] ?? ""} error={error?.field === s.field} onChange={(v) => set(s.field, v)} />
          ))}
        </fieldset>
      ))}
      {error && (
        <p class="error" role="alert">
          {error.message}
        </p>
      )}
      {saved && (
        <p class="notice" role="status">
          Fiche enregistrée sur le téléphone.
        </p>
      )}
      <div class="actions save-bar">
        <button type="submit" class="wide big" disabled={busy}>
          {busy ? "Enregistrement…" : "Enregistrer la fiche"}
        </button>
      </div>
    </form>
  );
}

function opened(p: Profile): { base: Draft; draft: Draft } {
  const d = draftOf(p);
  return { base: d, draft: d };
}

function ProfileField({ spec, value, error, onChange }: { spec: FieldSpec; value: string | boolean; error: boolean; onChange(v: string | boolean): void }) {
  const id = `profile-${spec.field}`;
  const label = PERSON_FIELD_LABEL[spec.field];
  const hint = spec.hint && <p class="hint" id={`${id}-hint`}>{spec.hint}</p>;
  if (spec.kind === "flag")
    return (
      <div class="field">
        <button type="button" id={id} class="chip" aria-pressed={value === true} aria-describedby={spec.hint ? `${id}-hint` : undefined} onClick={() => onChange(value !== true)}>
          {label}
        </button>
        {hint}
      </div>
    );
  const common = {
    id,
    value: String(value),
    "aria-describedby": spec.hint ? `${id}-hint` : undefined,
    "aria-invalid": error || undefined,
    onInput: (e: Event) => onChange((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class={`field${error ? " field-error" : ""}`}>
      <label for={id}>{label}</label>
      {hint}
      {spec.long ? (
        <textarea {...common} />
      ) : (
        <input {...common} autoComplete="off" inputMode={spec.kind === "number" ? "numeric" : undefined} />
      )}
    </div>
  );
}
