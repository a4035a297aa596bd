/* Groups of checkboxes and radios: a fieldset whose legend asks the question, a hint, the
 * error message, then the options (large hit areas, native inputs so that Space and the arrow
 * keys work as everywhere else). A radio may reveal a conditional field under it, as GOV.UK's
 * conditional reveal does. */
import type { ComponentChildren } from "preact";
import { describedBy, ErrorMessage, Hint } from "./Field";
import "./forms.css";

export interface Option<T> {
  value: T;
  label: string;
  hint?: string;
}

/** The id of the option `value` of the group `prefix`: what an error summary links to. */
export function optionId(prefix: string, value: string | number): string {
  return `${prefix}-${value}`;
}

interface GroupProps<T> {
  idPrefix: string;
  legend: ComponentChildren;
  hint?: ComponentChildren;
  error?: string;
  options: readonly Option<T>[];
  /** Options laid out in columns (long lists of short labels). */
  columns?: 1 | 2 | 3;
  /** Options side by side (two or three short answers). */
  inline?: boolean;
}

function Group<T>(p: GroupProps<T> & { children: ComponentChildren }) {
  const hintId = p.hint || p.error ? describedBy(p.idPrefix, p.hint, p.error) : undefined;
  const layout = p.inline ? " choices--inline" : p.columns && p.columns > 1 ? ` choices--cols${p.columns}` : "";
  return (
    <div class={`field${p.error ? " field-error" : ""}`}>
      <fieldset class="fieldset" aria-describedby={hintId}>
        <legend class="fieldset__legend">{p.legend}</legend>
        {p.hint && <Hint id={p.idPrefix}>{p.hint}</Hint>}
        {p.error && <ErrorMessage id={p.idPrefix} message={p.error} />}
        <div class={`choices${layout}`}>{p.children}</div>
      </fieldset>
    </div>
  );
}

export interface CheckboxGroupProps<T extends string | number> extends GroupProps<T> {
  selected: readonly T[];
  onChange(next: T[]): void;
}

export function CheckboxGroup<T extends string | number>(p: CheckboxGroupProps<T>) {
  return (
    <Group {...p}>
      {p.options.map((o) => {
        const id = optionId(p.idPrefix, o.value);
        const on = p.selected.includes(o.value);
        return (
          <div class="choice" key={id}>
            <input
              class="choice__input"
              type="checkbox"
              id={id}
              name={p.idPrefix}
              value={String(o.value)}
              checked={on}
              aria-describedby={o.hint ? `${id}-hint` : undefined}
              onChange={() => p.onChange(on ? p.selected.filter((v) => v !== o.value) : [...p.selected, o.value])}
            />
            <label class="choice__label" for={id}>
              {o.label}
            </label>
            {o.hint && (
              <div class="choice__hint" id={`${id}-hint`}>
                {o.hint}
              </div>
            )}
          </div>
        );
      })}
    </Group>
  );
}

export interface RadioGroupProps<T extends string | number> extends GroupProps<T> {
  value: T | null;
  onChange(value: T): void;
  /** What an option reveals once chosen (a conditional field). */
  reveal?: Partial<Record<string, ComponentChildren>>;
}

export function RadioGroup<T extends string | number>(p: RadioGroupProps<T>) {
  return (
    <Group {...p}>
      {p.options.map((o) => {
        const id = optionId(p.idPrefix, o.value);
        const on = p.value === o.value;
        const revealed = p.reveal?.[String(o.value)];
        return (
          <div class="choice choice--radio" key={id}>
            <input
              class="choice__input"
              type="radio"
              id={id}
              name={p.idPrefix}
              value={String(o.value)}
              checked={on}
              aria-describedby={o.hint ? `${id}-hint` : undefined}
              aria-controls={revealed ? `${id}-reveal` : undefined}
              onChange={() => p.onChange(o.value)}
            />
            <label class="choice__label" for={id}>
              {o.label}
            </label>
            {o.hint && (
              <div class="choice__hint" id={`${id}-hint`}>
                {o.hint}
              </div>
            )}
            {revealed && (
              <div class="choice__reveal" id={`${id}-reveal`} hidden={!on}>
                {on && revealed}
              </div>
            )}
          </div>
        );
      })}
    </Group>
  );
}

export interface CheckboxProps {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  checked: boolean;
  onChange(checked: boolean): void;
}

/** A single yes/no checkbox (no group question needed). */
export function Checkbox(p: CheckboxProps) {
  return (
    <div class="choice">
      <input
        class="choice__input"
        type="checkbox"
        id={p.id}
        name={p.id}
        checked={p.checked}
        aria-describedby={p.hint ? `${p.id}-hint` : undefined}
        onChange={(e) => p.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label class="choice__label" for={p.id}>
        {p.label}
      </label>
      {p.hint && (
        <div class="choice__hint" id={`${p.id}-hint`}>
          {p.hint}
        </div>
      )}
    </div>
  );
}
