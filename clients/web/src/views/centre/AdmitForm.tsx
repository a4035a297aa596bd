/* Admitting on a proposal (R345-4): for a fixed duration, from an entry date (today by
 * default), either a number of months (6 by default) or an end date. The form shows the stay's
 * dates before it is sent: its end, and the last day to ask for an extension (one month before). */
import { useState } from "preact/hooks";
import type { Desk, ProposalView } from "../../state/model";
import { formatDate } from "../../state/labels";
import { RadioGroup } from "../forms/Choices";
import { addMonths, dayKey, noonOf } from "../forms/dates";
import { ErrorSummary, errorFor, type FieldError } from "../forms/ErrorSummary";
import { TextField } from "../forms/Field";
import { AlertMessage } from "../forms/Messages";
import { parseCount } from "../forms/NumberStepper";
import { useAction } from "../forms/useAction";

const MAX_MONTHS = 60; /* docs/orientations.md: a fixed duration of at most 5 years */

type Mode = "months" | "date";

export interface AdmitFormProps {
  desk: Desk;
  proposal: ProposalView;
  onDone(message: string): void;
  onCancel(): void;
}

interface Stay {
  startAt: number;
  endAt: number;
  endKey: string;
}

export function AdmitForm({ desk, proposal, onDone, onCancel }: AdmitFormProps) {
  const today = dayKey(desk.clock.value);
  const [start, setStart] = useState(today);
  const [mode, setMode] = useState<Mode>("months");
  const [months, setMonths] = useState("6");
  const [end, setEnd] = useState(addMonths(today, 6));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [attempt, setAttempt] = useState(0);
  const act = useAction();
  const pid = proposal.id;
  const ids = {
    start: `admit-start-${pid}`,
    mode: `admit-mode-${pid}`,
    months: `admit-months-${pid}`,
    end: `admit-end-${pid}`,
  };

  /* The stay the fields describe, or the problems that stop it. */
  const check = (): { stay: Stay | null; errors: FieldError[] } => {
    const errs: FieldError[] = [];
    const startNoon = noonOf(start);
    if (Number.isNaN(startNoon)) errs.push({ target: ids.start, message: "Indiquez la date d'entrée, par exemple 07/12/2026." });
    let endKey = "";
    if (mode === "months") {
      const m = parseCount(months);
      if (m === null || m < 1 || m > MAX_MONTHS)
        errs.push({ target: ids.months, message: `Indiquez une durée de 1 à ${MAX_MONTHS} mois.` });
      else if (!Number.isNaN(startNoon)) endKey = addMonths(start, m);
    } else {
      const endNoon = noonOf(end);
      if (Number.isNaN(endNoon)) errs.push({ target: ids.end, message: "Indiquez la date de fin du séjour, par exemple 07/06/2027." });
      else if (!Number.isNaN(startNoon) && endNoon <= startNoon)
        errs.push({ target: ids.end, message: "La date de fin doit être après la date d'entrée." });
      else if (!Number.isNaN(startNoon) && end > addMonths(start, MAX_MONTHS))
        errs.push({ target: ids.end, message: "Un séjour dure au plus 5 ans : choisissez une date de fin plus proche." });
      else endKey = end;
    }
    if (errs.length || !endKey) return { stay: null, errors: errs };
    /* Today's entry is now (the server's clock); another day's is that day at noon, Paris. */
    const startAt = start === dayKey(desk.clock.value) ? desk.clock.value : startNoon;
    return { stay: { startAt, endAt: noonOf(endKey), endKey }, errors: [] };
  };

  const preview = check().stay;

  const submit = async (e: Event) => {
    e.preventDefault();
    const { stay, errors: errs } = check();
    setErrors(errs);
    if (!stay) {
      act.clear();
      setAttempt((a) => a + 1);
      return;
    }
    const o = await act.run(
      () => desk.actions.admit(pid, stay.startAt, stay.endAt),
      () => "",
    );
    if (o?.ok) onDone(`Admission enregistrée : séjour jusqu'au ${formatDate(stay.endAt)}. La place est prise ; le SIAO en est informé.`);
  };

  const clearError = (target: string) => setErrors((x) => x.filter((y) => y.target !== target));

  return (
    <form class="decide decide--admit" onSubmit={submit} noValidate aria-labelledby={`admit-title-${pid}`}>
      <h4 class="decide__title" id={`admit-title-${pid}`}>
        Admettre : durée du séjour
      </h4>
      <ErrorSummary errors={errors} focusKey={attempt} level={4} />
      <TextField
        id={ids.start}
        type="date"
        label="Date d'entrée"
        hint="Aujourd'hui par défaut."
        width="10"
        value={start}
        error={errorFor(errors, ids.start)}
        onInput={(v) => {
          setStart(v);
          clearError(ids.start);
        }}
      />
      <RadioGroup<Mode>
        idPrefix={ids.mode}
        legend="Durée du séjour"
        hint="L'admission est prononcée pour une durée déterminée ; un bilan de la situation a lieu au moins tous les 6 mois."
        options={[
          { value: "months", label: "Un nombre de mois" },
          { value: "date", label: "Jusqu'à une date" },
        ]}
        value={mode}
        onChange={(m) => {
          if (m === "date" && mode === "months") {
            const n = parseCount(months);
            if (n && n <= MAX_MONTHS && !Number.isNaN(noonOf(start))) setEnd(addMonths(start, n));
          }
          setMode(m);
          setErrors([]);
        }}
        reveal={{
          months: (
            <TextField
              id={ids.months}
              label="Nombre de mois"
              hint={`6 mois par défaut, ${MAX_MONTHS} au plus.`}
              inputMode="numeric"
              width="2"
              value={months}
              error={errorFor(errors, ids.months)}
              onInput={(v) => {
                setMonths(v);
                clearError(ids.months);
              }}
            />
          ),
          date: (
            <TextField
              id={ids.end}
              type="date"
              label="Date de fin du séjour"
              width="10"
              value={end}
              error={errorFor(errors, ids.end)}
              onInput={(v) => {
                setEnd(v);
                clearError(ids.end);
              }}
            />
          ),
        }}
      />
      <p class="decide__preview">
        {preview ? (
          <>
            Séjour du <strong>{formatDate(preview.startAt)}</strong> au <strong>{formatDate(preview.endAt)}</strong>.
            Prolongation à demander au plus tard le {formatDate(noonOf(addMonths(preview.endKey, -1)))}.
          </>
        ) : (
          "Complétez les dates pour voir celles du séjour."
        )}
      </p>
      <div class="button-group">
        <button type="submit" aria-disabled={act.busy ? "true" : undefined}>
          {act.busy ? "Envoi en cours…" : "Confirmer l'admission"}
        </button>
        <button type="button" class="link-button" onClick={onCancel}>
          Annuler
        </button>
      </div>
      <AlertMessage message={act.error} />
    </form>
  );
}
