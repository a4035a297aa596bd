/* Finding a person by the identity fields a structure holds, as the day centre's terminal and
 * the maraude's phone search: compared without accents or case ("Hélène" is found by
 * "helene", "Œ" by "oe"), every word of the query in the names or the birth year. */

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

/** Whether every token (queryTokens) is in p's names or birth year; none matches nothing. */
export function matches(
  p: { givenName: string; familyName: string; nickname: string; birthYear: number | null },
  tokens: readonly string[],
): boolean {
  if (!tokens.length) return false;
  const hay = fold([p.givenName, p.familyName, p.nickname, p.birthYear ?? ""].join(" "));
  return tokens.every((t) => hay.includes(t));
}
