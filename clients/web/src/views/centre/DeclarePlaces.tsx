/* "Déclarer les places vacantes": one row per category with capacity at this centre, each a
 * count between 0 and the capacity, pre-filled with the last declaration, and one button.
 * Re-declaring unchanged counts is the usual case (the declaration is due every period): it is
 * two keystrokes away. Counts the manager has not touched follow the live places (an admission
 * takes a place; the field shows it); touched ones stay as typed until sent. */
import { useState } from "preact/hooks";
import { CATEGORIES, type Category, type Centre, type Counts, type Desk } from "../../state/model";
import { useValue } from "../useValue";
import { CATEGORY_LABEL, formatAge, formatTime, formatWhen, total } from "../../state/labels";
import { DAY_MS, dayKey } from "../forms/dates";
import { ErrorSummary, errorFor, type FieldError } from "../forms/ErrorSummary";
import { AlertMessage, StatusMessage } from "../forms/Messages";
import { NumberStepper, parseCount } from "../forms/NumberStepper";
import { useAction } from "../forms/useAction";
import "./centre.css";

type Draft = Partial<Record<Category, string>>;

const fieldId = (c: Category) => `declare-${c}`;

function places(n: number): string {
  return `${n} place${n > 1 ? "s" : ""}`;
}

/** "24 h", "12 h", "30 min" */
function formatPeriod(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 ? `${h} h ${String(min % 60).padStart(2, "0")}` : `${h} h`;
}

/** formatWhen, with "demain à 14:05" for tomorrow (when the next declaration is due). */
function formatDue(ms: number, now: number): string {
  return dayKey(ms) === dayKey(now + DAY_MS) ? `demain à ${formatTime(ms)}` : formatWhen(ms, now);
}

/** A declaration older than its period is stale (the server's flag, or the clock since). */
export function isStale(c: Centre, now: number): boolean {
  return c.stale || c.declaredAt === 0 || (c.periodMs > 0 && now - c.declaredAt > c.periodMs);
}

export function DeclarePlaces({ desk }: { desk: Desk }) {
  const pl = useValue(desk.places);
  const now = useValue(desk.clock);
  const [draft, setDraft] = useState<Draft>({});
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [attempt, setAttempt] = useState(0);
  const act = useAction();

  const centre = pl.centres.find((c) => c.id === desk.principal.structureId);
  const head = (
    <h2 id="declare-title" class="centre__title">
      Déclarer les places vacantes
    </h2>
  );
  if (!pl.loaded)
    return (
      <section class="centre__panel" aria-labelledby="declare-title" aria-busy="true">
        {head}
        <p class="muted">Chargement des places de votre centre…</p>
      </section>
    );
  if (!centre || !CATEGORIES.some((c) => (centre.capacity[c] ?? 0) > 0))
    return (
      <section class="centre__panel" aria-labelledby="declare-title">
        {head}
        <p>
          La capacité de votre centre n'est pas encore enregistrée : vous ne pouvez pas déclarer de places. Demandez à
          l'administrateur de veille de la saisir (commande <code>veillectl centre capacity</code>).
        </p>
      </section>
    );

  const cats = CATEGORIES.filter((c) => (centre.capacity[c] ?? 0) > 0);
  const declared = (c: Category) => centre.vacancies[c] ?? 0;
  const shown = (c: Category) => draft[c] ?? String(declared(c));
  const changed = (c: Category) => draft[c] !== undefined && parseCount(draft[c]!) !== declared(c);
  const stale = isStale(centre, now);
  const capacityTotal = total(centre.capacity);
  const typedTotal = cats.reduce((n, c) => n + (parseCount(shown(c)) ?? 0), 0);

  const validate = (): { errors: FieldError[]; counts: Counts } => {
    const errs: FieldError[] = [];
    const counts: Counts = {};
    for (const c of cats) {
      const cap = centre.capacity[c] ?? 0;
      const n = parseCount(shown(c));
      const name = CATEGORY_LABEL[c];
      if (n === null)
        errs.push({ target: fieldId(c), message: `${name} : indiquez un nombre de places entier, de 0 à ${cap}.` });
      else if (n > cap)
        errs.push({
          target: fieldId(c),
          message: `${name} : ${places(n)}, c'est plus que la capacité du centre (${cap}). Indiquez un nombre de 0 à ${cap}.`,
        });
      else counts[c] = n;
    }
    return { errors: errs, counts };
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (act.busy) return;
    const v = validate();
    setErrors(v.errors);
    if (v.errors.length) {
      act.clear();
      setAttempt((a) => a + 1);
      return;
    }
    const o = await act.run(
      () => desk.actions.declare(v.counts),
      () => {
        const n = total(v.counts);
        return `Places déclarées ${formatWhen(desk.clock.value, desk.clock.value)} : ${n === 0 ? "aucune place vacante" : `${places(n)} vacante${n > 1 ? "s" : ""}`}. Le SIAO les voit dès maintenant.`;
      },
    );
    if (o?.ok) setDraft({});
  };

  const set = (c: Category, v: string) => {
    setDraft((d) => ({ ...d, [c]: v }));
    if (act.done || act.error) act.clear();
    if (errors.length) setErrors(errors.filter((x) => x.target !== fieldId(c)));
  };

  return (
    <section class="centre__panel" aria-labelledby="declare-title">
      {head}
      <div class={`declare__last${stale ? " declare__last--stale" : ""}`}>
        {centre.declaredAt === 0 ? (
          <p>
            <strong>Aucune déclaration pour l'instant.</strong> Le SIAO ne voit pas vos places tant que vous ne les avez
            pas déclarées.
          </p>
        ) : (
          <p>
            Dernière déclaration : <strong>{formatWhen(centre.declaredAt, now)}</strong> ({formatAge(centre.declaredAt, now)})
          </p>
        )}
        {stale && centre.declaredAt !== 0 && (
          <p class="declare__warn">
            <span class="badge warn">Périmée</span> Elle date de plus de {formatPeriod(centre.periodMs)} : le SIAO voit
            vos places comme non à jour. Déclarez-les à nouveau, même si rien n'a changé.
          </p>
        )}
        {!stale && centre.periodMs > 0 && (
          <p class="hint">
            À renouveler avant {formatDue(centre.declaredAt + centre.periodMs, now)} (une déclaration toutes les{" "}
            {formatPeriod(centre.periodMs)}).
          </p>
        )}
      </div>

      <form class="declare" onSubmit={submit} noValidate>
        <ErrorSummary errors={errors} focusKey={attempt} level={3} />
        <fieldset class="fieldset declare__rows" aria-describedby="declare-hint">
          <legend class="visually-hidden">Places vacantes par catégorie</legend>
          <p class="hint" id="declare-hint">
            Nombre de places libres ce jour, par catégorie. Les places retenues par une proposition du SIAO en font partie.
          </p>
          {cats.map((c) => {
            const cap = centre.capacity[c] ?? 0;
            const held = centre.held[c] ?? 0;
            return (
              <NumberStepper
                key={c}
                id={fieldId(c)}
                layout="row"
                label={CATEGORY_LABEL[c]}
                hint={
                  <>
                    Capacité : {places(cap)}
                    {held > 0 && (
                      <>
                        {" "}
                        · <span class="declare__held">dont {held} retenue{held > 1 ? "s par des propositions" : " par une proposition"}</span>
                      </>
                    )}
                  </>
                }
                error={errorFor(errors, fieldId(c))}
                value={shown(c)}
                onChange={(v) => set(c, v)}
                min={0}
                max={cap}
                decrementLabel={`Une place de moins : ${CATEGORY_LABEL[c]}`}
                incrementLabel={`Une place de plus : ${CATEGORY_LABEL[c]}`}
                announce={(n) => `${CATEGORY_LABEL[c]} : ${places(n)}`}
                changed={changed(c)}
                after={
                  <span class="declare__was">{changed(c) ? `était ${declared(c)}` : ""}</span>
                }
              />
            );
          })}
        </fieldset>
        <p class="declare__total">
          Total : <strong>{places(typedTotal)}</strong> vacante{typedTotal > 1 ? "s" : ""} sur {capacityTotal}
        </p>
        <div class="button-group">
          <button type="submit" aria-disabled={act.busy ? "true" : undefined}>
            {act.busy ? "Envoi en cours…" : "Déclarer ces places"}
          </button>
          <p class="hint">Rien n'a changé ? Déclarez quand même : le SIAO saura que vos chiffres sont à jour.</p>
        </div>
        <StatusMessage message={act.done} />
        <AlertMessage message={act.error} />
      </form>
    </section>
  );
}
