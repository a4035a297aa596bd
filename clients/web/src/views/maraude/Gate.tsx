/* The phone's screens outside a round: enrolment with the pairing code, choosing the PIN, the
 * PIN (with the wait after wrong ones, and the warning before a wipe), and the phone withdrawn
 * by the server. */
import { useEffect, useRef, useState } from "preact/hooks";
import { PIN_MAX, PIN_MIN, type Maraude, type MaraudeScreen } from "../../state/maraude";

function useFocus<T extends HTMLElement>(deps: unknown[] = []) {
  const ref = useRef<T>(null);
  useEffect(() => ref.current?.focus(), deps);
  return ref;
}

function Brand() {
  return (
    <p class="gate__brand">
      <img src="./icon-192.png" alt="" width={40} height={40} />
      <span>veille · maraude</span>
    </p>
  );
}

export function EnrolScreen({ app, s }: { app: Maraude; s: Extract<MaraudeScreen, { kind: "enrol" }> }) {
  const [code, setCode] = useState("");
  const [local, setLocal] = useState<string | undefined>();
  const h = useFocus<HTMLHeadingElement>();
  const error = local ?? s.error;
  const submit = (e: Event) => {
    e.preventDefault();
    if (code.replace(/[\s-]/g, "").length !== 12) return setLocal("Saisissez le code d'appairage de 12 caractères, par exemple ABCD-EFGH-JKMN.");
    setLocal(undefined);
    void app.enrol(code, "");
  };
  return (
    <main class="gate" aria-labelledby="gate-title">
      <Brand />
      <h1 id="gate-title" tabIndex={-1} ref={h}>
        Enrôler ce téléphone
      </h1>
      {s.notice && (
        <p class="notice" role="status">
          {s.notice}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <div class={`field${error ? " field-error" : ""}`}>
          <label for="pairing-code">Code d'appairage</label>
          <p class="hint" id="pairing-code-hint">
            Le code de 12 caractères remis par l'administrateur de votre structure.
          </p>
          {error && (
            <p class="error" id="pairing-code-error" role="alert">
              {error}
            </p>
          )}
          <input
            id="pairing-code"
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            aria-describedby={`pairing-code-hint${error ? " pairing-code-error" : ""}`}
            aria-invalid={error ? true : undefined}
          />
        </div>
        <button type="submit" class="wide big" disabled={s.busy}>
          {s.busy ? "Enrôlement…" : "Enrôler"}
        </button>
      </form>
    </main>
  );
}

export function SetPinScreen({ app, s }: { app: Maraude; s: Extract<MaraudeScreen, { kind: "set-pin" }> }) {
  const [pin, setPin] = useState("");
  const [confirm, setConfirm] = useState("");
  const h = useFocus<HTMLHeadingElement>();
  return (
    <main class="gate" aria-labelledby="gate-title">
      <Brand />
      <h1 id="gate-title" tabIndex={-1} ref={h}>
        Choisissez votre code PIN
      </h1>
      <p>{s.label}</p>
      <p class="hint">
        De {PIN_MIN} à {PIN_MAX} chiffres. Il ouvre l'application et protège les données enregistrées sur ce téléphone.
      </p>
      {s.error && (
        <p class="error" role="alert">
          {s.error}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void app.setPin(pin, confirm);
        }}
        noValidate
      >
        <div class="field">
          <label for="new-pin">Code PIN</label>
          <input id="new-pin" class="pin" type="password" inputMode="numeric" autoComplete="new-password" value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="new-pin-confirm">Le même code PIN, encore</label>
          <input
            id="new-pin-confirm"
            class="pin"
            type="password"
            inputMode="numeric"
            autoComplete="new-password"
            value={confirm}
            onInput={(e) => setConfirm(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="wide big" disabled={s.busy}>
          {s.busy ? "Protection des clés…" : "Valider"}
        </button>
      </form>
    </main>
  );
}

/* Seconds left before the next try, ticking. */
function useWait(until: number | undefined): number {
  const [, setTick] = useState(0);
  const left = until ? Math.max(0, Math.ceil((until - Date.now()) / 1000)) : 0;
  useEffect(() => {
    if (!left) return;
    const t = setInterval(() => setTick((n) => n + 1), 250);
    return () => clearInterval(t);
  }, [until, left > 0]);
  return left;
}

export function PinScreen({ app, s }: { app: Maraude; s: Extract<MaraudeScreen, { kind: "pin" }> }) {
  const [pin, setPin] = useState("");
  const input = useFocus<HTMLInputElement>([s]);
  const wait = useWait(s.waitUntil);
  return (
    <main class="gate" aria-labelledby="gate-title">
      <Brand />
      <h1 id="gate-title">Maraude verrouillée</h1>
      <p>{s.account.label}</p>
      {s.notice && (
        <p class="notice" role="status">
          {s.notice}
        </p>
      )}
      {s.error && (
        <p class="error" role="alert">
          {s.error}
        </p>
      )}
      {s.warning && <p class="warning">{s.warning}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (wait || !pin) return;
          setPin(""); /* a wrong PIN is typed again from empty */
          void app.signIn(s.account, pin);
        }}
        noValidate
      >
        <div class="field">
          <label for="pin">Code PIN</label>
          <input
            id="pin"
            ref={input}
            class="pin"
            type="password"
            inputMode="numeric"
            autoComplete="current-password"
            value={pin}
            onInput={(e) => setPin(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="wide big" disabled={s.busy || wait > 0}>
          {s.busy ? "Ouverture…" : wait > 0 ? `Nouvel essai dans ${wait} s` : "Ouvrir"}
        </button>
      </form>
    </main>
  );
}

export function RevokedScreen({ app, s }: { app: Maraude; s: Extract<MaraudeScreen, { kind: "revoked" }> }) {
  const h = useFocus<HTMLHeadingElement>();
  return (
    <main class="gate" aria-labelledby="gate-title">
      <Brand />
      <h1 id="gate-title" tabIndex={-1} ref={h}>
        Téléphone retiré
      </h1>
      <p>
        L'administrateur de votre structure a retiré ce téléphone de la maraude. Les données de la maraude qu'il gardait ont été
        effacées, y compris ce qui n'avait pas été envoyé.
      </p>
      {s.error && (
        <p class="error" role="alert">
          L'effacement n'a pas pu se terminer : {s.error} Fermez l'application et rouvrez-la.
        </p>
      )}
      <p>Pour vous servir à nouveau de ce téléphone, demandez un nouveau code d'appairage, puis enrôlez-le.</p>
      <button type="button" class="wide big" onClick={() => void app.init()}>
        Enrôler ce téléphone
      </button>
    </main>
  );
}
