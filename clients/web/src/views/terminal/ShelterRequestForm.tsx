/* "Demander un hébergement": the request to the territory's SIAO, from the day centre's desk
 * and from the maraude's phone. The SIAO receives the DECISION fields (household, reduced
 * mobility, animal, languages, urgency, categories); the note stays in the structure. The
 * household is pre-filled from the person's profile. */
import { useState } from "preact/hooks";
import {
  CATEGORIES,
  type Category,
  type Household,
  type NewRequest,
  type Outcome,
  type RequestView,
  type Urgency,
} from "../../state/model";
import { CATEGORY_LABEL, formatWhen, URGENCY_LABEL } from "../../state/labels";
import { Checkbox, CheckboxGroup, optionId, RadioGroup, type Option } from "../forms/Choices";
import { ErrorSummary, errorFor, type FieldError } from "../forms/ErrorSummary";
import { TextArea, TextField } from "../forms/Field";
import { AlertMessage, StatusMessage } from "../forms/Messages";
import { NumberStepper, parseCount } from "../forms/NumberStepper";
import { useAction } from "../forms/useAction";

const URGENCIES: Option<Urgency>[] = ([1, 2, 3] as Urgency[]).map((u) => ({ value: u, label: URGENCY_LABEL[u] }));
const CATEGORY_OPTIONS: Option<Category>[] = CATEGORIES.map((c) => ({ value: c, label: CATEGORY_LABEL[c] }));

const ID = {
  adults: "request-adults",
  children: "request-children",
  urgency: "request-urgency",
  categories: "request-categories",
};

export interface ShelterRequestFormProps {
  personId: string;
  /** the person's household as their profile has it */
  household: Household;
  /** the person's requests still open (waiting or proposed), to warn before a second one */
  open: RequestView[];
  now: number;
  /** sends or saves the request (the desk's action, the phone's) */
  send(r: NewRequest): Promise<Outcome>;
  /** what the form says once it is sent */
  sent: string;
  /** what it says when it is not, before why (default: the send failed) */
  failed?: string;
}

export function ShelterRequestForm({ personId, household: h, open, now, send, sent, failed }: ShelterRequestFormProps) {
  const [adults, setAdults] = useState(String(h.adults > 0 ? h.adults : 1));
  const [children, setChildren] = useState(String(h.children));
  const [reducedMobility, setReducedMobility] = useState(h.reducedMobility);
  const [animal, setAnimal] = useState(h.animal);
  const [languages, setLanguages] = useState(h.languages);
  const [urgency, setUrgency] = useState<Urgency | null>(null);
  const [categories, setCategories] = useState<Category[]>([]);
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [attempt, setAttempt] = useState(0);
  const act = useAction();
  const urgencyTarget = optionId(ID.urgency, 1);
  const categoriesTarget = optionId(ID.categories, 1);
  const drop = (target: string) => {
    setErrors((x) => x.filter((y) => y.target !== target));
    if (act.done) act.clear();
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: FieldError[] = [];
    const a = parseCount(adults);
    const c = parseCount(children);
    if (a === null || a < 1 || a > 20) errs.push({ target: ID.adults, message: "Indiquez le nombre d'adultes du ménage, de 1 à 20." });
    if (c === null || c > 20) errs.push({ target: ID.children, message: "Indiquez le nombre d'enfants du ménage, de 0 à 20." });
    if (urgency === null) errs.push({ target: urgencyTarget, message: "Indiquez l'urgence de la demande." });
    if (!categories.length) errs.push({ target: categoriesTarget, message: "Cochez au moins une catégorie de place." });
    setErrors(errs);
    if (errs.length) {
      act.clear();
      setAttempt((n) => n + 1);
      return;
    }
    const o = await act.run(
      () =>
        send({
          personId,
          household: { adults: a!, children: c!, reducedMobility, animal, languages: languages.trim() },
          urgency: urgency!,
          categories: [...categories].sort((x, y) => x - y),
          note: note.trim(),
        }),
      () => sent,
    );
    if (o?.ok) {
      setUrgency(null);
      setCategories([]);
      setNote("");
    }
  };

  return (
    <form class="person-form" onSubmit={submit} noValidate aria-labelledby="request-title">
      <h3 id="request-title" class="visually-hidden">
        Demander un hébergement
      </h3>
      {open.length > 0 && (
        <p class="person-form__warn">
          <span class="badge warn">Déjà en cours</span> Une demande est ouverte pour cette personne (faite{" "}
          {open[0]!.requestedAt ? formatWhen(open[0]!.requestedAt, now) : "sur ce téléphone, pas encore envoyée"}). N'en faites
          une nouvelle que si la situation a changé.
        </p>
      )}
      <ErrorSummary errors={errors} focusKey={attempt} level={4} />
      <fieldset class="fieldset person-form__group">
        <legend class="fieldset__legend">Composition du ménage</legend>
        <div class="household">
          <NumberStepper
            id={ID.adults}
            label="Adultes"
            value={adults}
            min={1}
            max={20}
            error={errorFor(errors, ID.adults)}
            onChange={(v) => (setAdults(v), drop(ID.adults))}
            decrementLabel="Un adulte de moins"
            incrementLabel="Un adulte de plus"
            announce={(n) => `${n} adulte${n > 1 ? "s" : ""}`}
          />
          <NumberStepper
            id={ID.children}
            label="Enfants"
            value={children}
            min={0}
            max={20}
            error={errorFor(errors, ID.children)}
            onChange={(v) => (setChildren(v), drop(ID.children))}
            decrementLabel="Un enfant de moins"
            incrementLabel="Un enfant de plus"
            announce={(n) => `${n} enfant${n > 1 ? "s" : ""}`}
          />
          <div class="household__flags">
            <Checkbox id="request-pmr" label="Mobilité réduite" checked={reducedMobility} onChange={setReducedMobility} />
            <Checkbox id="request-animal" label="Avec un animal" checked={animal} onChange={setAnimal} />
          </div>
        </div>
        <TextField
          id="request-languages"
          label="Langues parlées"
          hint="Par exemple : français, arabe, dari."
          width="20"
          value={languages}
          onInput={setLanguages}
        />
      </fieldset>
      <RadioGroup<Urgency>
        idPrefix={ID.urgency}
        legend="Urgence"
        options={URGENCIES}
        value={urgency}
        error={errorFor(errors, urgencyTarget)}
        onChange={(u) => (setUrgency(u), drop(urgencyTarget))}
      />
      <CheckboxGroup<Category>
        idPrefix={ID.categories}
        legend="Catégories de places souhaitées"
        hint="Toutes celles qui conviennent au ménage : le SIAO proposera une place de l'une d'elles."
        options={CATEGORY_OPTIONS}
        columns={2}
        selected={categories}
        error={errorFor(errors, categoriesTarget)}
        onChange={(v) => (setCategories(v), drop(categoriesTarget))}
      />
      <TextArea
        id="request-note"
        label="Note de l'équipe (reste dans votre structure)"
        hint="Le SIAO ne la voit pas : il reçoit seulement le ménage, l'urgence et les catégories."
        value={note}
        rows={2}
        maxLength={2000}
        onInput={setNote}
      />
      <div class="button-group">
        <button type="submit" aria-disabled={act.busy ? "true" : undefined}>
          {act.busy ? "Envoi en cours…" : "Envoyer la demande au SIAO"}
        </button>
      </div>
      <StatusMessage message={act.done} />
      <AlertMessage message={act.error} lead={failed} />
    </form>
  );
}
