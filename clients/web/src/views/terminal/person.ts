/* How the terminal names a person (and finds them: state/search.ts). */
import type { PersonView } from "../../state/model";

/** "Jean Dupont", else the nickname, else a neutral placeholder. */
export function personName(p: Pick<PersonView, "givenName" | "familyName" | "nickname">): string {
  const full = [p.givenName.trim(), p.familyName.trim()].filter(Boolean).join(" ");
  return full || p.nickname.trim() || "Personne sans nom";
}

/** "« Jojo » · né·e en 1971": what tells two namesakes apart. */
export function personDetails(p: PersonView): string {
  const parts: string[] = [];
  const full = [p.givenName.trim(), p.familyName.trim()].filter(Boolean).join(" ");
  if (full && p.nickname.trim()) parts.push(`« ${p.nickname.trim()} »`);
  if (p.birthYear) parts.push(`né·e en ${p.birthYear}`);
  return parts.join(" · ");
}
