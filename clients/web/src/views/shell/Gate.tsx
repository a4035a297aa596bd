/* The screens before a desk: the professionals enrolled in this browser, enrolment with a
 * pairing code, choosing a PIN, and the PIN to sign in or unlock. GOV.UK's form patterns:
 * labels above fields, hints under them, the error beside the field and in a summary. */
import { useEffect, useRef, useState } from "preact/hooks";
import { PIN_MAX, PIN_MIN, type App, type Screen } from "../../state/app";
import { roleLabel } from "../../state/labels";
import { ErrorSummary, type FieldError } from "../forms/ErrorSummary";
import { TextField } from "../forms/Field";
import { LinkIndicator } from "./LinkIndicator";

/* Moves the focus to the screen's heading when it appears (screen readers announce it). */
function useFocusHeading() {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return ref;
}

/* The one problem of a gate screen, for the shared error summary: each new screen state with
 * an error (every refused try, even with the same message) moves the focus to the summary. */
function useProblem(s: Screen, error: string | undefined, field: string): { errors: FieldError[]; focusKey: number } {
  const seen = useRef<{ s: Screen | null; n: number }>({ s: null, n: 0 });
  if (error && seen.current.s !== s) seen.current = { s, n: seen.current.n + 1 };
  return { errors: error ? [{ target: field, message: error }] : [], focusKey: seen.current.n };
}

export function Accounts({ app, s }: { app: App; s: Extract<Screen, { kind: "accounts" }> }) {
  const h = useFocusHeading();
  return (
    <section class="gate" aria-labelledby="gate-title">
      <h2 id="gate-title" tabIndex={-1} ref={h}>
        Qui êtes-vous ?
      </h2>
      {s.notice && (
        <p class="notice" role="status">
          {s.notice}
        </p>
      )}
      <p class="hint">Choisissez votre nom, puis saisissez votre code PIN.</p>
      <ul class="accounts">
        {s.accounts.map((a) => (
          <li key={a.deviceIdHex}>
            <button type="button" class="account" onClick={() => app.choose(a)}>
              <span class="account__name">{a.label}</span>
              <span class="account__role">{roleLabel(a.role)}</span>
            </button>
          </li>
        ))}
      </ul>
      <p>
        <button type="button" class="secondary" onClick={() => app.showEnrol()}>
          Enrôler un nouveau professionnel sur ce poste
        </button>
      </p>
    </section>
  );
}

export function Enrol({ app, s }: { app: App; s: Extract<Screen, { kind: "enrol" }> }) {
  const [code, setCode] = useState("");
  const [label, setLabel] = useState("");
  const [local, setLocal] = useState<string | undefined>();
  const h = useFocusHeading();
  const error = local ?? s.error;
  const problem = useProblem(s, error, "pairing-code");
  const submit = (e: Event) => {
    e.preventDefault();
    const c = code.replace(/[\s-]/g, "");
    if (c.length !== 12) return setLocal("Saisissez le code d'appairage de 12 caractères, par exemple ABCD-EFGH-JKMN.");
    setLocal(undefined);
    void app.enrol(code, label.trim());
  };
  return (
    <section class="gate" aria-labelledby="gate-title">
      <h2 id="gate-title" tabIndex={-1} ref={h}>
        Enrôler ce poste
      </h2>
      {s.notice && (
        <p class="notice" role="status">
          {s.notice}
        </p>
      )}
      <ErrorSummary {...problem} />
      <form onSubmit={submit} noValidate>
        <TextField
          id="pairing-code"
          label="Code d'appairage"
          hint="Remis par l'administrateur de veille (valable 24 h, une seule fois)."
          error={error}
          width="10"
          value={code}
          onInput={setCode}
        />
        <TextField
          id="device-label"
          label="Nom de ce poste (facultatif)"
          hint="Pour le reconnaître dans la liste des appareils, par exemple « Accueil, poste 2 »."
          maxLength={64}
          value={label}
          onInput={setLabel}
        />
        <div class="button-group">
          <button type="submit" disabled={s.busy}>
            {s.busy ? "Enrôlement…" : "Enrôler"}
          </button>
          {s.canCancel && (
            <button type="button" class="secondary" onClick={() => void app.showAccounts()}>
              Annuler
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

/** A PIN field: digits, masked, never remembered by the browser. */
function PinInput(p: { id: string; label: string; hint?: string; error?: string; value: string; onInput(v: string): void; autoFocus?: boolean }) {
  return <TextField {...p} type="password" inputMode="numeric" width="10" maxLength={PIN_MAX} />;
}

export function SetPin({ app, s }: { app: App; s: Extract<Screen, { kind: "set-pin" }> }) {
  const [pin, setPin] = useState("");
  const [confirm, setConfirm] = useState("");
  const h = useFocusHeading();
  return (
    <section class="gate" aria-labelledby="gate-title">
      <h2 id="gate-title" tabIndex={-1} ref={h}>
        Choisissez votre code PIN
      </h2>
      <p>
        Poste enrôlé pour <strong>{s.label}</strong>. Votre clé est gardée dans ce navigateur, chiffrée par votre code PIN :
        il vous sera demandé à chaque ouverture de session.
      </p>
      <ErrorSummary {...useProblem(s, s.error, "new-pin")} />
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void app.setPin(pin, confirm);
        }}
      >
        <PinInput
          id="new-pin"
          label="Code PIN"
          hint={`De ${PIN_MIN} à ${PIN_MAX} chiffres. Après 5 erreurs, la clé est effacée de ce poste.`}
          error={s.error}
          value={pin}
          onInput={setPin}
        />
        <PinInput id="confirm-pin" label="Confirmez le code PIN" value={confirm} onInput={setConfirm} />
        <div class="button-group">
          <button type="submit" disabled={s.busy}>
            {s.busy ? "Chiffrement de la clé…" : "Enregistrer le code PIN"}
          </button>
        </div>
      </form>
    </section>
  );
}

export function Pin({ app, s }: { app: App; s: Extract<Screen, { kind: "pin" }> }) {
  const [pin, setPin] = useState("");
  const h = useFocusHeading();
  return (
    <section class="gate" aria-labelledby="gate-title">
      <h2 id="gate-title" tabIndex={-1} ref={h}>
        {s.locked ? "Session verrouillée" : "Ouvrir la session"}
      </h2>
      <p class="account account--static">
        <span class="account__name">{s.account.label}</span>
        <span class="account__role">{roleLabel(s.account.role)}</span>
      </p>
      <ErrorSummary {...useProblem(s, s.error, "pin")} />
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!pin) return;
          setPin(""); /* a PIN never stays in the page longer than its check */
          void app.signIn(s.account, pin, s.locked);
        }}
      >
        <PinInput id="pin" label="Code PIN" error={s.error} value={pin} onInput={setPin} autoFocus={!s.error} />
        <div class="button-group">
          <button type="submit" disabled={s.busy}>
            {s.busy ? "Vérification…" : s.locked ? "Déverrouiller" : "Ouvrir la session"}
          </button>
          <button type="button" class="secondary" onClick={() => void app.showAccounts()}>
            Changer de professionnel
          </button>
        </div>
      </form>
      <details class="forget">
        <summary>Retirer ce professionnel de ce poste</summary>
        <p>Sa clé chiffrée sera effacée de ce navigateur ; il faudra un nouveau code d'appairage pour l'enrôler à nouveau.</p>
        <button type="button" class="danger" onClick={() => void app.forget(s.account)}>
          Retirer {s.account.label}
        </button>
      </details>
    </section>
  );
}

export function Connecting({ s }: { s: Extract<Screen, { kind: "connecting" }> }) {
  const h = useFocusHeading();
  return (
    <section class="gate" aria-labelledby="gate-title">
      <h2 id="gate-title" tabIndex={-1} ref={h}>
        Ouverture de la session de {s.account.label}
      </h2>
      <LinkIndicator status={s.link} />
    </section>
  );
}
