/* The GOV.UK error summary: at the top of a form that would not send, a box titled
 * "Il y a un problème" listing each problem as a link to its field; it takes the focus after
 * each refused submit, so that keyboard and screen-reader users land on it. The same messages
 * stand beside the fields (Field.tsx, Choices.tsx, NumberStepper.tsx). */
import { useEffect, useRef } from "preact/hooks";
import "./forms.css";

/** One problem of a form: `target` is the id of the element to focus (an input, or the first
 * radio or checkbox of a group); `message` says what to do, in French. */
export interface FieldError {
  target: string;
  message: string;
}

export interface ErrorSummaryProps {
  errors: readonly FieldError[];
  /** Changes at every refused submit (a counter): the summary takes the focus each time. */
  focusKey: number;
  title?: string;
  /** Heading level of the title, to fit the page's outline (default 2). */
  level?: 2 | 3 | 4;
}

export function ErrorSummary({ errors, focusKey, title = "Il y a un problème", level = 2 }: ErrorSummaryProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focusKey > 0 && errors.length) ref.current?.focus();
  }, [focusKey]);
  if (!errors.length) return null;
  const Heading = `h${level}` as "h2";
  return (
    <div class="error-summary" ref={ref} tabIndex={-1}>
      <div role="alert">
        <Heading class="error-summary__title">{title}</Heading>
        <ul class="error-summary__list">
          {errors.map((e) => (
            <li key={e.target}>
              <a href={`#${e.target}`} onClick={(ev) => focusField(ev, e.target)}>
                {e.message}
              </a>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

/** Focus the field without touching the URL, its label or legend scrolled into view. */
function focusField(ev: Event, id: string): void {
  ev.preventDefault();
  const el = document.getElementById(id);
  if (!el) return;
  const legend = el.closest("fieldset")?.querySelector("legend");
  const label = document.querySelector(`label[for="${CSS.escape(id)}"]`);
  (legend ?? label ?? el).scrollIntoView({ block: "start" });
  el.focus({ preventScroll: true });
}

/** The message of the error aimed at `target`, if any. */
export function errorFor(errors: readonly FieldError[], target: string): string | undefined {
  return errors.find((e) => e.target === target)?.message;
}
