/* The frame of every screen: the header (who is signed in, whether data is live, lock and
 * sign-out), and the view of the signed-in professional's role. */
import type { App, Screen } from "../../state/app";
import { ROLE, type Desk } from "../../state/model";
import { useValue } from "../useValue";
import { roleLabel } from "../../state/labels";
import { CentreView } from "../centre/CentreView";
import { PlacesTable } from "../places/PlacesTable";
import { SiaoView } from "../siao/SiaoView";
import { SupervisorView } from "../supervisor/SupervisorView";
import { TerminalView } from "../terminal/TerminalView";
import { Accounts, Connecting, Enrol, Pin, SetPin } from "./Gate";
import { LinkIndicator } from "./LinkIndicator";
import "./shell.css";

function RoleView({ desk }: { desk: Desk }) {
  switch (desk.principal.role) {
    case ROLE.COORDINATEUR_SIAO:
    case ROLE.ECOUTANT_115:
      return <SiaoView desk={desk} />;
    case ROLE.SUPERVISEUR:
      return <SupervisorView desk={desk} />;
    case ROLE.RESPONSABLE_CENTRE:
      return <CentreView desk={desk} />;
    case ROLE.ACCUEILLANT:
      return <TerminalView desk={desk} />;
    default:
      return (
        <section aria-labelledby="other-title">
          <h2 id="other-title">Places disponibles</h2>
          <p>
            Ce poste de bureau n'a pas de vue propre au rôle « {roleLabel(desk.principal.role)} ». Les maraudes disposent de
            l'application mobile.
          </p>
          <PlacesTable desk={desk} />
        </section>
      );
  }
}

function DeskHeader({ desk }: { desk: Desk }) {
  const link = useValue(desk.link);
  const p = desk.principal;
  return (
    <div class="bar__session">
      <LinkIndicator status={link} />
      <p class="bar__who">
        <span class="bar__name">{p.displayName}</span>
        <span class="bar__role">
          {roleLabel(p.role)} · {p.structureName}
        </span>
      </p>
      <button type="button" class="bar__button" onClick={() => desk.actions.lock()}>
        Verrouiller
      </button>
      <button type="button" class="secondary bar__button" onClick={() => desk.actions.signOut()}>
        Se déconnecter
      </button>
    </div>
  );
}

function Body({ app, s }: { app: App; s: Screen }) {
  switch (s.kind) {
    case "loading":
      return <p class="loading" role="status">Chargement…</p>;
    case "accounts":
      return <Accounts app={app} s={s} />;
    case "enrol":
      return <Enrol app={app} s={s} />;
    case "set-pin":
      return <SetPin app={app} s={s} />;
    case "pin":
      return <Pin app={app} s={s} />;
    case "connecting":
      return <Connecting s={s} />;
    case "desk":
      return <RoleView desk={s.desk} />;
  }
}

export function Shell({ app }: { app: App }) {
  const s = useValue(app.screen);
  const desk = s.kind === "desk" ? s.desk : null;
  return (
    <>
      <a class="skip-link" href="#main">
        Aller au contenu
      </a>
      <header class="bar">
        <h1 class="bar__title">
          veille <span class="bar__subtitle">veille sociale · 115 · SIAO</span>
        </h1>
        {desk && <DeskHeader desk={desk} />}
      </header>
      <main id="main" class={desk ? "main main--desk" : "main main--gate"} tabIndex={-1}>
        <Body app={app} s={s} />
      </main>
    </>
  );
}
