/* The views' side of state/observable.ts: `useValue(obs)` re-renders a component when the
 * value changes. */
import { useEffect, useState } from "preact/hooks";
import type { Observable } from "../state/observable";

/** The current value of `obs`, re-rendering the calling component when it changes. */
export function useValue<T>(obs: Observable<T>): T {
  const [, setTick] = useState(0);
  const rendered = obs.value;
  useEffect(() => {
    const off = obs.subscribe(() => setTick((t) => t + 1));
    /* a change between this render and the subscription is not missed */
    if (!Object.is(obs.value, rendered)) setTick((t) => t + 1);
    return off;
  }, [obs]);
  return rendered;
}
