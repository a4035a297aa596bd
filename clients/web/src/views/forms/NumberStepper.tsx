/* A whole number between bounds: a text field (inputmode numeric, as GOV.UK advises over
 * type=number) between a "−" and a "+" button. The buttons are real buttons with a full
 * accessible name ("Une place de moins : Homme seul"); at a bound they stay focusable
 * (aria-disabled), so the focus never falls to the page when a count reaches 0. The arrow keys
 * step the field too. What the buttons did is said in a polite live region. The value is kept
 * as typed (a string): the form validates it when it is sent. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { describedBy, ErrorMessage, Hint } from "./Field";
import "./forms.css";

export interface NumberStepperProps {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  error?: string;
  value: string;
  onChange(value: string): void;
  min: number;
  max: number;
  /** Accessible names of the buttons, e.g. "Une place de moins : Homme seul". */
  decrementLabel: string;
  incrementLabel: string;
  /** What the live region says after a step, e.g. (n) => `Homme seul : ${n}`. */
  announce?: (n: number) => string;
  /** "row": label and hint on the left, the control on the right (lists of counts). */
  layout?: "stack" | "row";
  /** Marks the field as changed from its initial value (styling only). */
  changed?: boolean;
  /** Extra content after the control (e.g. "était 3"). */
  after?: ComponentChildren;
}

/** The whole number in `s`, or null if it is not one. */
export function parseCount(s: string): number | null {
  const t = s.trim();
  return /^\d{1,6}$/.test(t) ? Number(t) : null;
}

export function NumberStepper(p: NumberStepperProps) {
  const [said, setSaid] = useState("");
  const n = parseCount(p.value);
  const step = (d: number) => {
    const base = n ?? (d > 0 ? p.min - 1 : p.max + 1);
    const next = Math.min(p.max, Math.max(p.min, base + d));
    if (next === n) return;
    p.onChange(String(next));
    setSaid(p.announce ? p.announce(next) : String(next));
  };
  const atMin = n !== null && n <= p.min;
  const atMax = n !== null && n >= p.max;
  const cls = ["field", "stepper", p.layout === "row" ? "stepper--row" : "", p.error ? "field-error" : "", p.changed ? "stepper--changed" : ""]
    .filter(Boolean)
    .join(" ");
  return (
    <div class={cls}>
      <div class="stepper__text">
        <label class="field__label" for={p.id}>
          {p.label}
        </label>
        {p.hint && <Hint id={p.id}>{p.hint}</Hint>}
        {p.error && <ErrorMessage id={p.id} message={p.error} />}
      </div>
      <div class="stepper__control">
        <button
          type="button"
          class="stepper__button"
          aria-label={p.decrementLabel}
          aria-disabled={atMin ? "true" : undefined}
          onClick={() => step(-1)}
        >
          <span aria-hidden="true">−</span>
        </button>
        <input
          class="input stepper__input"
          id={p.id}
          name={p.id}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          spellcheck={false}
          value={p.value}
          aria-describedby={describedBy(p.id, p.hint, p.error)}
          aria-invalid={p.error ? "true" : undefined}
          onInput={(e) => p.onChange((e.currentTarget as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "ArrowUp" || e.key === "ArrowDown") {
              e.preventDefault();
              step(e.key === "ArrowUp" ? 1 : -1);
            }
          }}
        />
        <button
          type="button"
          class="stepper__button"
          aria-label={p.incrementLabel}
          aria-disabled={atMax ? "true" : undefined}
          onClick={() => step(1)}
        >
          <span aria-hidden="true">+</span>
        </button>
        {p.after}
      </div>
      <span class="visually-hidden" aria-live="polite">
        {said}
      </span>
    </div>
  );
}
