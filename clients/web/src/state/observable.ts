/* A value that views can watch: the whole of the state layer's contract with the views.
 * `set` replaces the value (state modules never mutate a published value in place, so views
 * compare by reference); views watch it with views/useValue.ts. No preact here: the state
 * layer loads without the views' library (the phone's round code, state/roundSession.ts). */

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
