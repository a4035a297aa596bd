/* A value that views can watch: the whole of the state layer's contract with the views.
 * `useValue(obs)` re-renders a component when the value changes; `set` replaces the value
 * (state modules never mutate a published value in place, so views compare by reference). */
import { useEffect, useState } from "preact/hooks";

export class Observable<T> {
  private listeners = new Set<(v: T) => void>();
  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  set(v: T): void {
    if (Object.is(v, this.current)) return;
    this.current = v;
    for (const l of [...this.listeners]) l(v);
  }

  subscribe(fn: (v: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

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
