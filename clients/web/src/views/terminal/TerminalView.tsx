/* The day-centre terminal (accueillant of an accueil de jour, role 2): find a person the
 * structure knows, or create them; record their visit; ask the SIAO for a shelter and follow
 * the answer; see the places free now. A shared terminal: the search and the selection live in
 * this component's state only (never the URL, the title or storage) and go with it when it
 * unmounts (lock, sign-out, another professional). */
import { useState } from "preact/hooks";
import type { Desk } from "../../state/model";
import { FreePlaces } from "./FreePlaces";
import { NewPersonForm } from "./NewPersonForm";
import { PersonPanel } from "./PersonPanel";
import { NEW_PERSON_BUTTON, PersonSearch } from "./PersonSearch";
import "./terminal.css";

export interface TerminalViewProps {
  desk: Desk;
}

export function TerminalView({ desk }: TerminalViewProps) {
  const [query, setQuery] = useState("");
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const select = (id: string) => {
    setCreating(false);
    setSelectedId(id);
  };

  return (
    <div class="terminal">
      <PersonSearch
        desk={desk}
        query={query}
        onQuery={setQuery}
        selectedId={selectedId}
        onSelect={select}
        creating={creating}
        onCreate={() => {
          setSelectedId(null);
          setCreating(true);
        }}
      />
      <div class="terminal__main" id="terminal-main">
        {creating ? (
          <NewPersonForm
            desk={desk}
            onCreated={(id) => {
              setQuery("");
              select(id);
            }}
            onCancel={() => {
              setCreating(false);
              document.getElementById(NEW_PERSON_BUTTON)?.focus();
            }}
          />
        ) : selectedId ? (
          <PersonPanel
            key={selectedId}
            desk={desk}
            personId={selectedId}
            onClose={() => {
              setSelectedId(null);
              setQuery("");
              document.getElementById("person-search")?.focus();
            }}
          />
        ) : (
          <section class="terminal__panel terminal__idle" aria-labelledby="idle-title">
            <h2 id="idle-title" class="terminal__title">
              Aucune personne choisie
            </h2>
            <p>
              Cherchez la personne à gauche par son nom, son prénom, son surnom ou son année de naissance, puis choisissez-la
              pour enregistrer son passage ou demander un hébergement.
            </p>
            <p class="hint">Première venue ? « Nouvelle personne », sous la recherche.</p>
          </section>
        )}
      </div>
      <FreePlaces desk={desk} />
    </div>
  );
}
