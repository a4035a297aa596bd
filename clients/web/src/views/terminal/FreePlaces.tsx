/* "Places disponibles maintenant": the territory's centres with a free place (declared vacant
 * and not held by a proposal), the count per category, and whether the declaration is stale
 * (then the count may be wrong: the SIAO will check). Places are OPERATIONAL data. */
import { CATEGORIES, type Desk } from "../../state/model";
import { useValue } from "../useValue";
import { CATEGORY_LABEL, CATEGORY_SHORT, formatAge, kindLabel, total } from "../../state/labels";
import "./terminal.css";

const ARRIVED_MS = 2000;

export function FreePlaces({ desk }: { desk: Desk }) {
  const pl = useValue(desk.places);
  const now = useValue(desk.clock);
  const withFree = pl.centres.filter((c) => total(c.free) > 0);
  const full = pl.centres.length - withFree.length;
  const free = withFree.reduce((n, c) => n + total(c.free), 0);

  return (
    <section class="terminal__panel terminal__places" aria-labelledby="places-title">
      <h2 id="places-title" class="terminal__title">
        Places disponibles maintenant
      </h2>
      {!pl.loaded ? (
        <p class="muted">Chargement des places…</p>
      ) : withFree.length === 0 ? (
        <p>
          <strong>Aucune place libre déclarée</strong> pour l'instant dans le département. Faites la demande : le SIAO
          l'oriente dès qu'une place se libère.
        </p>
      ) : (
        <>
          <p class="places__total">
            <strong>
              {free} place{free > 1 ? "s" : ""}
            </strong>{" "}
            dans {withFree.length} centre{withFree.length > 1 ? "s" : ""}
          </p>
          <ul class="free">
            {withFree.map((c) => {
              const stale = c.stale || c.declaredAt === 0 || (c.periodMs > 0 && now - c.declaredAt > c.periodMs);
              /* changedAt is the browser's time of the last delta: a change shows briefly */
              const arrived = c.changedAt > 0 && Date.now() - c.changedAt < ARRIVED_MS;
              return (
                <li key={c.id} class={`free__centre${stale ? " free__centre--stale" : ""}${arrived ? " arrived" : ""}`}>
                  <p class="free__name">
                    {c.name} <span class="muted">({kindLabel(c.kind)})</span>
                  </p>
                  <ul class="free__counts" aria-label={`Places libres à ${c.name}`}>
                    {CATEGORIES.filter((k) => (c.free[k] ?? 0) > 0).map((k) => (
                      <li key={k} class="free__count">
                        <span aria-hidden="true">{CATEGORY_SHORT[k]}</span>
                        <span class="visually-hidden">{CATEGORY_LABEL[k]} :</span> <strong>{c.free[k]}</strong>
                      </li>
                    ))}
                  </ul>
                  {stale && (
                    <p class="free__stale">
                      <span class="badge warn">Périmée</span>{" "}
                      {c.declaredAt ? `déclarée ${formatAge(c.declaredAt, now)}` : "jamais déclarée"}
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
          {full > 0 && (
            <p class="hint">
              {full} autre{full > 1 ? "s" : ""} centre{full > 1 ? "s" : ""} sans place libre.
            </p>
          )}
          <p class="hint free__legend">H : homme seul · F : femme seule · PMR : personne à mobilité réduite</p>
        </>
      )}
    </section>
  );
}
