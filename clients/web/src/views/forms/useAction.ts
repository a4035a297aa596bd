/* One action sent by a form: busy while it waits (a second click does nothing), then the
 * success text or the Outcome's French message. Survives the component going away (a card
 * removed by the answer's own delta) without setting state on it. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Outcome } from "../../state/model";

export interface ActionState {
  busy: boolean;
  /** the Outcome's message of the last failure, "" otherwise */
  error: string;
  /** what the last success did, "" otherwise */
  done: string;
  /** Sends once; `onOk` returns the success text. Resolves with the outcome (null if busy). */
  run(send: () => Promise<Outcome>, onOk: (o: Outcome & { ok: true }) => string): Promise<Outcome | null>;
  clear(): void;
}

export function useAction(): ActionState {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const alive = useRef(true);
  const inFlight = useRef(false);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const run = async (send: () => Promise<Outcome>, onOk: (o: Outcome & { ok: true }) => string) => {
    if (inFlight.current) return null;
    inFlight.current = true;
    setBusy(true);
    setError("");
    setDone("");
    let o: Outcome;
    try {
      o = await send();
    } catch {
      o = { ok: false, message: "Une erreur inattendue est survenue. Réessayez ; si elle persiste, prévenez l'administrateur." };
    }
    inFlight.current = false;
    if (alive.current) {
      setBusy(false);
      if (o.ok) setDone(onOk(o));
      else setError(o.message);
    }
    return o;
  };
  return { busy, error, done, run, clear: () => (setError(""), setDone("")) };
}
