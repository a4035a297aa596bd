/* The age of a centre's last declaration, and the stale flag: an icon and words, never a
 * colour alone (DOMAIN.md rule 4: a declaration older than its periodicity must look stale). */
import type { Centre } from "../../state/model";
import { formatAge, formatWhen } from "../../state/labels";

export function WarnIcon() {
  return (
    <svg class="warn-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path d="M8 1.2 15.2 14H.8z" fill="currentColor" />
      <path d="M7.2 5.6h1.6v4.4H7.2zM7.2 11.2h1.6v1.6H7.2z" fill="#fff" />
    </svg>
  );
}

/** "il y a 2 h 05", or "Jamais déclaré"; with "Déclaration périmée" when stale. */
export function DeclarationAge({ centre, now, compact = false }: { centre: Centre; now: number; compact?: boolean }) {
  if (!centre.declaredAt)
    return (
      <span class="stale-flag">
        <WarnIcon /> Jamais déclaré
      </span>
    );
  const age = formatAge(centre.declaredAt, now);
  return (
    <span class={compact ? "decl-age decl-age--inline" : "decl-age"}>
      <time dateTime={new Date(centre.declaredAt).toISOString()} title={`Déclaré ${formatWhen(centre.declaredAt, now)}`}>
        {age}
      </time>
      {centre.stale && (
        <span class={compact ? "stale-flag stale-flag--inline" : "stale-flag"}>
          <WarnIcon /> Déclaration périmée
        </span>
      )}
    </span>
  );
}
