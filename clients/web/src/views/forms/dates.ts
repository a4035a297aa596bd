/* Calendar days in Europe/Paris for the forms' date fields (`<input type="date">` gives and
 * takes "YYYY-MM-DD"). A day is turned into an instant at noon, Paris time: noon is the same
 * calendar day in UTC too, so the server's reminders (calendar months in UTC, docs/orientations.md)
 * fall on the day the form showed, whatever the season. */

const TZ = "Europe/Paris";
const dayKeyFmt = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });
const partsFmt = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export const DAY_MS = 86_400_000;

/** "2026-12-07": the Paris calendar day of an instant. */
export function dayKey(ms: number): string {
  return dayKeyFmt.format(ms);
}

/** The day's parts, or null when `s` is not a real "YYYY-MM-DD" date. */
export function parseDay(s: string): { y: number; m: number; d: number } | null {
  const r = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!r) return null;
  const y = Number(r[1]);
  const m = Number(r[2]);
  const d = Number(r[3]);
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return { y, m, d };
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Paris offset from UTC (ms) at an instant: +1 h in winter, +2 h in summer. */
function parisOffset(ms: number): number {
  const p: Record<string, number> = {};
  for (const part of partsFmt.formatToParts(ms)) if (part.type !== "literal") p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of noon, Paris time, on day `key` ("YYYY-MM-DD"); NaN if it is not a date. */
export function noonOf(key: string): number {
  const p = parseDay(key);
  if (!p) return NaN;
  const guess = Date.UTC(p.y, p.m - 1, p.d, 12);
  return guess - parisOffset(guess);
}

/** Day `key` plus `months` calendar months, the day clamped to the month's last. */
export function addMonths(key: string, months: number): string {
  const p = parseDay(key);
  if (!p) return "";
  const idx = p.y * 12 + (p.m - 1) + months;
  const y = Math.floor(idx / 12);
  const m = (idx % 12) + 1;
  const d = Math.min(p.d, daysInMonth(y, m));
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** Whole days from today to `ms` (Paris calendar days): 0 today, 1 tomorrow, -1 yesterday. */
export function daysFrom(now: number, ms: number): number {
  return Math.round((noonOf(dayKey(ms)) - noonOf(dayKey(now))) / DAY_MS);
}

/** "aujourd'hui", "demain", "dans 12 jours", "hier", "il y a 3 jours" */
export function formatDaysFrom(now: number, ms: number): string {
  const n = daysFrom(now, ms);
  if (n === 0) return "aujourd'hui";
  if (n === 1) return "demain";
  if (n === -1) return "hier";
  return n > 0 ? `dans ${n} jours` : `il y a ${-n} jours`;
}
