/* A round opened: the bar (link, lock), the three places a maraudeur goes (Accueil with
 * "Nouvelle rencontre" first, Envois, Places), and over them the encounter form, the person
 * search and a person's screen. "Enregistré sur le
 * téléphone, en attente d'envoi" and "reçu par le serveur" never look alike: words, colour
 * and mark differ. */
import { useEffect, useState } from "preact/hooks";
import { CATEGORY_SHORT, formatAge, formatWhen, total } from "../../state/labels";
import type { PersonItem, Round, SyncStatus } from "../../state/maraude";
import type { Category } from "../../state/model";
import { useValue } from "../useValue";
import { EncounterForm } from "./EncounterForm";
import { PersonScreen } from "./PersonScreen";
import { RequestScreen } from "./RequestScreen";
import { personLabel, PersonsScreen } from "./PersonSearch";

type Tab = "home" | "outbox" | "places";

function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function waitingText(n: number): string {
  return n === 1 ? "1 en attente d'envoi" : `${n} en attente d'envoi`;
}

function Waiting({ s }: { s: SyncStatus }) {
  /* not known yet: never "Tout est reçu" before the outbox was counted */
  if (s.store === "opening" && s.pending === 0) return <p class="state">Lecture des données du téléphone…</p>;
  if (s.pending > 0)
    return (
      <p class="state state--wait">
        <span class="mark" aria-hidden="true">
          ↑
        </span>
        {waitingText(s.pending)}
      </p>
    );
  return (
    <p class="state state--ok">
      <span class="mark" aria-hidden="true">
        ✓
      </span>
      Tout est reçu par le serveur
    </p>
  );
}

/* Why the last sync failed (a full storage among others), until one goes through. */
function SyncError({ s }: { s: SyncStatus }) {
  return s.error ? (
    <p class="warning" role="status">
      {s.error}
    </p>
  ) : null;
}

function linkText(s: SyncStatus, now: number): string {
  if (s.store === "locked") return "Connexion nécessaire pour rouvrir les données";
  switch (s.link.kind) {
    case "live":
      return s.syncing ? "En ligne · envoi en cours" : "En ligne";
    case "offline":
      return `Hors ligne${s.lastSyncMs ? ` · dernière synchro ${formatAge(s.lastSyncMs, now)}` : ""}`;
    case "connecting":
      return "Connexion…";
    case "refused":
    case "revoked":
      return "Connexion refusée";
    default:
      return "Hors ligne";
  }
}

function Bar({ round }: { round: Round }) {
  const s = useValue(round.status);
  const now = useNow(15_000);
  const live = s.link.kind === "live";
  return (
    <header class="bar">
      <div class="bar__status" role="status">
        <p>
          <span class={`dot ${live ? "dot--live" : "dot--off"}`} aria-hidden="true" />
          {linkText(s, now)}
        </p>
      </div>
      <button type="button" class="secondary" onClick={() => round.lock()}>
        Verrouiller
      </button>
    </header>
  );
}

function PlacesSummary({ round, full }: { round: Round; full?: boolean }) {
  const p = useValue(round.places);
  const now = useNow();
  const centres = p.places.centres
    .map((c) => ({ c, free: total(c.free) }))
    .filter((x) => full || x.free > 0)
    .sort((a, b) => b.free - a.free || a.c.name.localeCompare(b.c.name, "fr"));
  const shown = full ? centres : centres.slice(0, 3);
  return (
    <section class="card" aria-labelledby="places-title">
      <h2 id="places-title">Places disponibles</h2>
      {!p.places.loaded ? (
        <p class="muted">Pas encore reçues : elles arrivent à la première connexion.</p>
      ) : (
        <>
          <p class="muted">{p.live ? "En direct" : `Dernière mise à jour ${formatAge(p.savedAt, now)} (hors ligne)`}</p>
          {!shown.length && <p>Aucune place libre déclarée sur le territoire.</p>}
          <ul class="plain">
            {shown.map(({ c, free }) => (
              <li key={c.id} class="place">
                <span class={`place__free${free ? "" : " place__free--none"}`}>{free}</span>
                <span>
                  {c.name}
                  <br />
                  <span class="place__cats">
                    {(Object.entries(c.free) as [string, number][])
                      .filter(([, n]) => n > 0)
                      .map(([k, n]) => `${CATEGORY_SHORT[Number(k) as Category]} ${n}`)
                      .join(" · ") || "complet"}
                    {c.stale ? " · déclaration périmée" : ""}
                  </span>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Home({ round, saved, open }: { round: Round; saved: { person?: PersonItem } | null; open(o: Overlay): void }) {
  const s = useValue(round.status);
  const toCheck = useValue(round.persons).filter((p) => p.notices.length);
  return (
    <main class="screen" aria-labelledby="home-title">
      <h1 id="home-title" class="visually-hidden">
        Accueil de la maraude
      </h1>
      {saved && (
        <div class="notice spaced" role="status">
          <p>
            Rencontre enregistrée sur le téléphone.{" "}
            {s.link.kind === "live" ? "Elle part vers le serveur." : "Elle partira au retour du réseau."}
          </p>
          {saved.person && (
            <button type="button" class="secondary wide" onClick={() => open({ kind: "person", id: saved.person!.id })}>
              Fiche de {personLabel(saved.person)}
            </button>
          )}
        </div>
      )}
      <button type="button" class="wide big" onClick={() => open({ kind: "encounter" })}>
        Nouvelle rencontre
      </button>
      <button type="button" class="secondary wide spaced" onClick={() => open({ kind: "persons" })}>
        Chercher une personne
      </button>
      {toCheck.length > 0 && (
        <section class="card" aria-labelledby="check-title">
          <h2 id="check-title">Fiches modifiées aussi par un collègue</h2>
          {toCheck.map((p) => (
            <button type="button" key={p.id} class="person" onClick={() => open({ kind: "person", id: p.id })}>
              {personLabel(p)}
              <span>{p.notices.length === 1 ? "1 valeur à vérifier" : `${p.notices.length} valeurs à vérifier`}</span>
            </button>
          ))}
        </section>
      )}
      <section class="card" aria-label="Envois">
        <Waiting s={s} />
        {s.rejected > 0 && (
          <p class="state state--rejected">
            <span class="mark" aria-hidden="true">
              !
            </span>
            {s.rejected} refusé{s.rejected > 1 ? "s" : ""} par le serveur
          </p>
        )}
        <SyncError s={s} />
      </section>
      <PlacesSummary round={round} />
    </main>
  );
}

const KIND_WORD: Record<string, string> = { encounter: "Rencontre", person: "Fiche de la personne", request: "Demande d'hébergement" };

function Outbox({ round }: { round: Round }) {
  const ops = useValue(round.outbox);
  const encounters = useValue(round.encounters);
  const persons = useValue(round.persons);
  const s = useValue(round.status);
  const now = useNow();
  const [confirm, setConfirm] = useState<number | null>(null);
  const [error, setError] = useState<string | undefined>();
  const name = (id: string) => {
    const p: PersonItem | undefined = persons.find((x) => x.id === id);
    return p ? personLabel(p) : "";
  };
  const waiting = ops.filter((o) => o.state === "pending");
  const rejected = ops.filter((o) => o.state === "rejected");
  const received = encounters.filter((e) => e.pending === 0).slice(0, 20);
  const line = (personId: string, at: number, kind: string) =>
    `${KIND_WORD[kind] ?? "Enregistrement"}${name(personId) ? ` · ${name(personId)}` : ""}${at ? ` · ${formatWhen(at, now)}` : ""}`;
  return (
    <main class="screen" aria-labelledby="outbox-title">
      <h1 id="outbox-title">Envois</h1>
      <Waiting s={s} />
      <SyncError s={s} />
      {s.link.kind !== "live" && s.pending > 0 && <p class="muted">Ils partiront d'eux-mêmes au retour du réseau.</p>}
      {s.link.kind === "live" || s.pending === 0 ? null : (
        <button type="button" class="secondary wide spaced" onClick={() => round.syncNow()}>
          Réessayer maintenant
        </button>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {rejected.length > 0 && (
        <section aria-labelledby="rejected-title">
          <h2 id="rejected-title">Refusés par le serveur</h2>
          <ul class="plain">
            {rejected.map((o) => (
              <li key={o.opCounter}>
                <p class="state state--rejected">
                  <span class="mark" aria-hidden="true">
                    !
                  </span>
                  {line(o.personId, o.at, o.kind)}
                </p>
                <p>{o.reason}</p>
                {confirm === o.opCounter ? (
                  <div class="row">
                    <p>Supprimer définitivement cet enregistrement du téléphone ?</p>
                    <button
                      type="button"
                      class="danger"
                      onClick={async () => {
                        const r = await round.discard(o.opCounter);
                        setConfirm(null);
                        setError(r.ok ? undefined : r.message);
                      }}
                    >
                      Oui, supprimer
                    </button>
                    <button type="button" class="secondary" onClick={() => setConfirm(null)}>
                      Garder
                    </button>
                  </div>
                ) : (
                  <button type="button" class="secondary" onClick={() => setConfirm(o.opCounter)}>
                    Supprimer…
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="waiting-title">
        <h2 id="waiting-title">Enregistrés sur le téléphone, en attente d'envoi</h2>
        {!waiting.length ? (
          <p class="muted">Rien en attente.</p>
        ) : (
          <ul class="plain">
            {waiting.map((o) => (
              <li key={o.opCounter} class="state state--wait">
                <span class="mark" aria-hidden="true">
                  ↑
                </span>
                <span>{line(o.personId, o.at, o.kind)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="received-title">
        <h2 id="received-title">Rencontres reçues par le serveur</h2>
        {!received.length ? (
          <p class="muted">Aucune pour le moment.</p>
        ) : (
          <ul class="plain">
            {received.map((e) => (
              <li key={e.id} class="state state--ok">
                <span class="mark" aria-hidden="true">
                  ✓
                </span>
                <span>{line(e.personId, e.occurredAt, "encounter")}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

/* What covers the tabs, last on top: "Retour" goes back one. */
type Overlay =
  | { kind: "encounter"; person?: string }
  | { kind: "persons" }
  | { kind: "person"; id: string }
  | { kind: "request"; person: string };

export function RoundView({ round }: { round: Round }) {
  const [tab, setTab] = useState<Tab>("home");
  const [stack, setStack] = useState<Overlay[]>([]);
  /* an encounter just saved, and the person it is about */
  const [saved, setSaved] = useState<{ person: string } | null>(null);
  const s = useValue(round.status);
  const persons = useValue(round.persons);
  const top = stack[stack.length - 1];
  /* each view starts at its top, where its first action is */
  useEffect(() => window.scrollTo(0, 0), [tab, top]);
  const push = (o: Overlay) => {
    setSaved(null);
    setStack([...stack, o]);
  };
  const back = () => setStack(stack.slice(0, -1));
  const find = (id: string | undefined) => persons.find((p) => p.id === id);

  const person = top && top.kind !== "persons" ? find(top.kind === "person" ? top.id : top.person) : undefined;
  let screen;
  switch (top?.kind) {
    case "encounter":
      screen = (
        <EncounterForm
          round={round}
          person={person}
          onDone={(id) => {
            back();
            if (id !== null) setSaved({ person: id });
          }}
        />
      );
      break;
    case "persons":
      screen = <PersonsScreen round={round} onPick={(p) => push({ kind: "person", id: p.id })} onBack={back} />;
      break;
    case "person":
    case "request":
      if (!person)
        screen = (
          <main class="screen">
            <p>Cette personne n'est plus sur ce téléphone.</p>
            <button type="button" class="secondary wide" onClick={back}>
              Retour
            </button>
          </main>
        );
      else if (top.kind === "request") screen = <RequestScreen round={round} person={person} onBack={back} />;
      else
        screen = (
          <PersonScreen
            round={round}
            person={person}
            onEncounter={() => push({ kind: "encounter", person: person.id })}
            onRequest={() => push({ kind: "request", person: person.id })}
            onBack={back}
          />
        );
  }
  if (s.store === "locked") screen = <Locked round={round} s={s} />;
  if (screen)
    return (
      <>
        <Bar round={round} />
        {screen}
      </>
    );

  const go = (t: Tab) => () => {
    setTab(t);
    setSaved(null);
  };
  return (
    <>
      <Bar round={round} />
      {tab === "home" && <Home round={round} saved={saved && { person: find(saved.person) }} open={push} />}
      {tab === "outbox" && <Outbox round={round} />}
      {tab === "places" && (
        <main class="screen" aria-label="Places disponibles">
          <PlacesSummary round={round} full />
        </main>
      )}
      <nav class="nav" aria-label="Navigation">
        <button type="button" aria-current={tab === "home" ? "page" : undefined} onClick={go("home")}>
          Accueil
        </button>
        <button type="button" aria-current={tab === "outbox" ? "page" : undefined} onClick={go("outbox")}>
          Envois
          <span class="count">{s.pending + s.rejected ? `${s.pending + s.rejected} à envoyer` : "à jour"}</span>
        </button>
        <button type="button" aria-current={tab === "places" ? "page" : undefined} onClick={go("places")}>
          Places
        </button>
      </nav>
    </>
  );
}

/* The lease ran out (docs/threat-model.md): the store stays shut until the phone
 * authenticates, which it tries by itself; this says so rather than failing each action. */
function Locked({ round, s }: { round: Round; s: SyncStatus }) {
  return (
    <main class="screen" aria-labelledby="locked-title">
      <h1 id="locked-title">Données verrouillées</h1>
      <p class="warning">Reconnectez-vous au réseau pour rouvrir les données de la maraude.</p>
      <Waiting s={s} />
      <p>
        Ce téléphone ne s'est pas connecté au serveur depuis trop longtemps : par sécurité, les données qu'il garde restent
        fermées jusqu'à sa prochaine connexion. Rien n'est perdu : ce qui attend d'être envoyé partira à ce moment-là.
      </p>
      <button type="button" class="wide big" onClick={() => round.syncNow()}>
        Réessayer maintenant
      </button>
    </main>
  );
}
