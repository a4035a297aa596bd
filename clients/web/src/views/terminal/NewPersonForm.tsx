/* "Nouvelle personne": only what the person is willing to say; one name is enough (a first
 * name, a family name or a nickname). The record is sealed on the server and stays in this
 * structure's care circle. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Desk } from "../../state/model";
import { ErrorSummary, errorFor, type FieldError } from "../forms/ErrorSummary";
import { TextField } from "../forms/Field";
import { AlertMessage, StatusMessage } from "../forms/Messages";
import { useAction } from "../forms/useAction";
import { dayKey } from "../forms/dates";

export interface NewPersonFormProps {
  desk: Desk;
  onCreated(id: string): void;
  onCancel(): void;
}

export function NewPersonForm({ desk, onCreated, onCancel }: NewPersonFormProps) {
  const [given, setGiven] = useState("");
  const [family, setFamily] = useState("");
  const [nick, setNick] = useState("");
  const [year, setYear] = useState("");
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [attempt, setAttempt] = useState(0);
  const act = useAction();
  const [created, setCreated] = useState("");
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), []);

  const thisYear = Number(dayKey(desk.clock.value).slice(0, 4));

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: FieldError[] = [];
    if (!given.trim() && !family.trim() && !nick.trim())
      errs.push({ target: "new-given", message: "Indiquez au moins un prénom, un nom ou un surnom." });
    let birthYear: number | null = null;
    if (year.trim()) {
      const y = /^\d{4}$/.test(year.trim()) ? Number(year.trim()) : NaN;
      if (!(y >= 1900 && y <= thisYear))
        errs.push({ target: "new-year", message: `L'année de naissance doit être une année de 1900 à ${thisYear}, par exemple 1978.` });
      else birthYear = y;
    }
    setErrors(errs);
    if (errs.length) {
      act.clear();
      setAttempt((a) => a + 1);
      return;
    }
    const o = await act.run(
      () => desk.actions.createPerson({ givenName: given.trim(), familyName: family.trim(), nickname: nick.trim(), birthYear }),
      () => "",
    );
    if (o?.ok) {
      if (o.id) onCreated(o.id);
      else setCreated("Fiche créée. Retrouvez-la par la recherche.");
    }
  };

  return (
    <form class="terminal__panel new-person" onSubmit={submit} noValidate aria-labelledby="new-person-title">
      <h2 id="new-person-title" class="terminal__title" tabIndex={-1} ref={title}>
        Nouvelle personne
      </h2>
      <p class="hint">Seulement ce que la personne veut bien dire. Un prénom, un nom ou un surnom suffit.</p>
      <ErrorSummary errors={errors} focusKey={attempt} level={3} />
      <TextField
        id="new-given"
        label="Prénom"
        width="20"
        value={given}
        error={errorFor(errors, "new-given")}
        onInput={(v) => {
          setGiven(v);
          if (v.trim()) setErrors((x) => x.filter((y) => y.target !== "new-given"));
        }}
      />
      <TextField id="new-family" label="Nom" width="20" value={family} onInput={setFamily} />
      <TextField id="new-nick" label="Surnom" width="20" value={nick} onInput={setNick} />
      <TextField
        id="new-year"
        label="Année de naissance"
        hint="Par exemple 1978. Laissez vide si elle n'est pas connue."
        inputMode="numeric"
        width="4"
        value={year}
        error={errorFor(errors, "new-year")}
        onInput={(v) => {
          setYear(v);
          setErrors((x) => x.filter((y) => y.target !== "new-year"));
        }}
      />
      <div class="button-group">
        <button type="submit" aria-disabled={act.busy ? "true" : undefined}>
          {act.busy ? "Enregistrement…" : "Créer la fiche"}
        </button>
        <button type="button" class="link-button" onClick={onCancel}>
          Annuler
        </button>
      </div>
      <StatusMessage message={created} />
      <AlertMessage message={act.error} />
    </form>
  );
}
