/* Text fields the GOV.UK way: the label above the field, a hint under the label (tied with
 * aria-describedby), the error message beside the field with a hidden "Erreur :" prefix, and
 * never a placeholder as a label. */
import type { ComponentChildren } from "preact";
import "./forms.css";

/** The ids a field's aria-describedby lists: its hint and its error, when shown. */
export function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return ids || undefined;
}

export function Hint({ id, children }: { id: string; children: ComponentChildren }) {
  return (
    <div class="hint" id={`${id}-hint`}>
      {children}
    </div>
  );
}

export function ErrorMessage({ id, message }: { id: string; message: string }) {
  return (
    <p class="error-message" id={`${id}-error`}>
      <span class="visually-hidden">Erreur : </span>
      {message}
    </p>
  );
}

type Width = "2" | "4" | "5" | "10" | "20" | "full";

export interface TextFieldProps {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  error?: string;
  value: string;
  onInput(value: string): void;
  type?: "text" | "search" | "date" | "password";
  inputMode?: "text" | "numeric";
  autoComplete?: string;
  /** Width in characters, as GOV.UK sizes fields to the answer expected. */
  width?: Width;
  min?: string;
  max?: string;
  maxLength?: number;
  autoFocus?: boolean;
  /** Label shown as a heading-sized label (a one-question field). */
  bigLabel?: boolean;
}

export function TextField(p: TextFieldProps) {
  return (
    <div class={`field${p.error ? " field-error" : ""}`}>
      <label class={`field__label${p.bigLabel ? " field__label--big" : ""}`} for={p.id}>
        {p.label}
      </label>
      {p.hint && <Hint id={p.id}>{p.hint}</Hint>}
      {p.error && <ErrorMessage id={p.id} message={p.error} />}
      <input
        class={`input input--w${p.width ?? "20"}`}
        id={p.id}
        name={p.id}
        type={p.type ?? "text"}
        inputMode={p.inputMode}
        autoComplete={p.autoComplete ?? "off"}
        spellcheck={false}
        value={p.value}
        min={p.min}
        max={p.max}
        maxLength={p.maxLength}
        autoFocus={p.autoFocus}
        aria-describedby={describedBy(p.id, p.hint, p.error)}
        aria-invalid={p.error ? "true" : undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
    </div>
  );
}

export interface TextAreaProps {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  error?: string;
  value: string;
  onInput(value: string): void;
  rows?: number;
  maxLength?: number;
}

export function TextArea(p: TextAreaProps) {
  return (
    <div class={`field${p.error ? " field-error" : ""}`}>
      <label class="field__label" for={p.id}>
        {p.label}
      </label>
      {p.hint && <Hint id={p.id}>{p.hint}</Hint>}
      {p.error && <ErrorMessage id={p.id} message={p.error} />}
      <textarea
        class="textarea"
        id={p.id}
        name={p.id}
        rows={p.rows ?? 3}
        maxLength={p.maxLength}
        value={p.value}
        aria-describedby={describedBy(p.id, p.hint, p.error)}
        aria-invalid={p.error ? "true" : undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
    </div>
  );
}
