/* "Retrouver une personne": one search box over the persons the structure holds (filtered here,
 * in memory: names never leave the page), results as buttons, and "Nouvelle personne" for a
 * first visit. An empty box lists nobody: on a shared terminal the list of everyone known stays
 * off the screen until someone is looked for. */
import type { Desk, PersonView } from "../../state/model";
import { useValue } from "../useValue";
import { formatAge } from "../../state/labels";
import { TextField } from "../forms/Field";
import { matches, queryTokens } from "../../state/search";
import { personDetails, personName } from "./person";
import "./terminal.css";

const MAX_RESULTS = 30;

export interface PersonSearchProps {
  desk: Desk;
  query: string;
  onQuery(q: string): void;
  selectedId: string | null;
  onSelect(id: string): void;
  /** "Nouvelle personne": the form opens in the main panel */
  creating: boolean;
  onCreate(): void;
}

/** The id of the "Nouvelle personne" button (the focus comes back to it when the form is cancelled). */
export const NEW_PERSON_BUTTON = "new-person-button";

export function PersonSearch({ desk, query, onQuery, selectedId, onSelect, creating, onCreate }: PersonSearchProps) {
  const people = useValue(desk.people);
  const now = useValue(desk.clock);

  const tokens = queryTokens(query);
  const found: PersonView[] = tokens.length ? people.persons.filter((p) => matches(p, tokens)) : [];
  const shown = found.slice(0, MAX_RESULTS);

  let status = "";
  if (tokens.length && people.loaded) {
    if (found.length === 0) status = `Aucune personne ne correspond à « ${query.trim()} ».`;
    else if (found.length > MAX_RESULTS) status = `${found.length} personnes trouvées : voici les ${MAX_RESULTS} premières, précisez la recherche.`;
    else status = `${found.length} personne${found.length > 1 ? "s" : ""} trouvée${found.length > 1 ? "s" : ""}.`;
  }

  return (
    <section class="terminal__panel terminal__search" aria-labelledby="search-title">
      <h2 id="search-title" class="terminal__title">
        Retrouver une personne
      </h2>
      <form
        role="search"
        aria-labelledby="search-title"
        onSubmit={(e) => {
          e.preventDefault();
          if (found.length === 1) onSelect(found[0]!.id);
        }}
      >
        <TextField
          id="person-search"
          type="search"
          label="Nom, prénom, surnom ou année de naissance"
          hint="Sans accents ni majuscules si vous voulez : « helene » trouve Hélène."
          width="full"
          value={query}
          onInput={onQuery}
        />
      </form>
      <p class="search__status" role="status">
        {people.loaded ? status : tokens.length ? "Chargement des personnes…" : ""}
      </p>
      {shown.length > 0 && (
        <ul class="results" aria-label="Personnes trouvées">
          {shown.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                class="result"
                aria-pressed={p.id === selectedId}
                onClick={() => onSelect(p.id)}
              >
                <span class="result__name">{personName(p)}</span>
                <span class="result__meta">
                  {personDetails(p) && <>{personDetails(p)} · </>}
                  {p.lastEncounterAt ? `dernier passage ${formatAge(p.lastEncounterAt, now)}` : "aucun passage enregistré"}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="search__new">
        {tokens.length > 0 && found.length === 0 && people.loaded && (
          <p class="hint">Vérifiez l'orthographe, essayez le surnom, ou créez la fiche si la personne vient pour la première fois.</p>
        )}
        <button
          type="button"
          id={NEW_PERSON_BUTTON}
          class={creating ? "" : "secondary"}
          aria-expanded={creating}
          aria-controls="terminal-main"
          onClick={onCreate}
        >
          Nouvelle personne
        </button>
      </div>
    </section>
  );
}
