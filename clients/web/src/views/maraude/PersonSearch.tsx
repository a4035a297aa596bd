/* Finding a person the team knows, by any of their names or their birth year: the search
 * field and one wide button per person found, in the encounter form and on its own screen
 * (to open a person's screen). */
import { useState } from "preact/hooks";
import type { PersonItem, Round } from "../../state/maraude";

export function personLabel(p: Pick<PersonItem, "nickname" | "givenName" | "familyName">): string {
  const full = [p.givenName, p.familyName].filter(Boolean).join(" ");
  /* no-break spaces inside the guillemets, as French typography wants */
  if (p.nickname && full) return `«\u00a0${p.nickname}\u00a0» ${full}`;
  return p.nickname ? `«\u00a0${p.nickname}\u00a0»` : full || "Personne sans nom";
}

export interface PersonSearchProps {
  round: Round;
  label: string;
  query: string;
  onQuery(q: string): void;
  onPick(p: PersonItem): void;
}

export function PersonSearch({ round, label, query, onQuery, onPick }: PersonSearchProps) {
  const found = query.trim() ? round.search(query) : [];
  return (
    <>
      <div class="field">
        <label for="who">{label}</label>
        <p class="hint" id="who-hint">
          Surnom, prénom, nom ou année de naissance.
        </p>
        <input id="who" type="search" autoComplete="off" aria-describedby="who-hint" value={query} onInput={(e) => onQuery(e.currentTarget.value)} />
      </div>
      {query.trim() && (
        <p class="muted" role="status">
          {found.length ? `${found.length} personne${found.length > 1 ? "s" : ""} connue${found.length > 1 ? "s" : ""}` : "Aucune personne connue sous ce nom."}
        </p>
      )}
      {found.map((p) => (
        <button type="button" key={p.id} class="person" onClick={() => onPick(p)}>
          {personLabel(p)}
          {p.birthYear ? <span>né·e en {p.birthYear}</span> : null}
        </button>
      ))}
    </>
  );
}

export function PersonsScreen({ round, onPick, onBack }: { round: Round; onPick(p: PersonItem): void; onBack(): void }) {
  const [query, setQuery] = useState("");
  return (
    <main class="screen" aria-labelledby="persons-title">
      <button type="button" class="link back" onClick={onBack}>
        <span aria-hidden="true">←</span> Retour
      </button>
      <h1 id="persons-title">Personnes</h1>
      <PersonSearch round={round} label="Chercher une personne" query={query} onQuery={setQuery} onPick={onPick} />
    </main>
  );
}
