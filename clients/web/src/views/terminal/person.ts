/* How the terminal names a person and finds them: the identity fields the structure holds,
 * compared without accents or case ("Hélène" is found by "helene", "Œ" by "oe"). */
import type { PersonView } from "../../state/model";

/** Lower case, no accents, ligatures spelt out, apostrophes and hyphens as spaces. */
export function fold(s: string): string {
  return s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/œ/g, "oe")
    .replace(/æ/g, "ae")
    .replace(/ß/g, "ss")
    .replace(/['’‘`\-.,]/g, " ");
}

/** The words of a query; every one must appear in a person's names or birth year. */
export function queryTokens(q: string): string[] {
  return fold(q).split(/\s+/).filter(Boolean);
}

export function matches(p: PersonView, tokens: readonly string[]): boolean {
  if (!tokens.length) return false;
  const hay = fold([p.givenName, p.familyName, p.nickname, p.birthYear ?? ""].join(" "));
  return tokens.every((t) => hay.includes(t));
}

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
