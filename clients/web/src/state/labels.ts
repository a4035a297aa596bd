/* The words of the trade for the protocol's enumerations, and French formats for dates, ages
 * and durations (Europe/Paris). One place, so that every view says the same thing. */
import type { Category, Need, RefusalMotive, Role, Service, StructureKind, Urgency } from "./model";

export const CATEGORY_LABEL: Record<Category, string> = {
  1: "Homme seul",
  2: "Femme seule",
  3: "Couple",
  4: "Famille avec enfants",
  5: "Jeune 18-25 ans",
  6: "Personne à mobilité réduite",
  7: "Avec animal",
};

/** Short forms for table headers and map markers. */
export const CATEGORY_SHORT: Record<Category, string> = {
  1: "H",
  2: "F",
  3: "Couple",
  4: "Famille",
  5: "18-25",
  6: "PMR",
  7: "Animal",
};

export const URGENCY_LABEL: Record<Urgency, string> = {
  0: "Non précisée",
  1: "Mise à l'abri ce soir",
  2: "Dans les jours qui viennent",
  3: "Orientation sans urgence",
};

export const MOTIVE_LABEL: Record<RefusalMotive, string> = {
  1: "Public non adapté aux catégories du centre",
  2: "Place en réalité indisponible",
  3: "Besoins de soins au-delà de ce que le centre peut assurer",
  4: "Sécurité de la personne ou des résidents",
  5: "La personne a décliné la place",
  6: "Autre motif (préciser)",
};

export const NEED_LABEL: Record<Need, string> = {
  1: "Mise à l'abri, hébergement",
  2: "Alimentation",
  3: "Hygiène",
  4: "Soins",
  5: "Vêtements",
  6: "Accès aux droits, papiers",
  7: "Lien social",
  8: "Autre",
};

export const SERVICE_LABEL: Record<Service, string> = {
  1: "Écoute, échange",
  2: "Boisson chaude",
  3: "Repas, alimentation",
  4: "Vêtements",
  5: "Kit d'hygiène",
  6: "Duvet",
  7: "Information, orientation",
  8: "Appel au 115",
  9: "Accompagnement physique",
  10: "Soins",
  11: "Autre",
};

/** The profile's fields (records.proto PersonField). */
export const PERSON_FIELD_LABEL: Record<number, string> = {
  1: "Prénom",
  2: "Nom",
  3: "Surnom",
  4: "Année de naissance",
  5: "Adultes du ménage",
  6: "Enfants du ménage",
  7: "Mobilité réduite",
  8: "Avec un animal",
  9: "Situation",
  10: "Langues parlées",
  11: "S'oppose au partage de ses données",
};

export const ROLE_LABEL: Record<number, string> = {
  1: "Maraudeur·se",
  2: "Accueillant·e",
  3: "Écoutant·e 115",
  4: "Coordinateur·rice SIAO",
  5: "Responsable de centre",
  6: "Travailleur·se social·e",
  7: "Professionnel·le de santé",
  8: "Superviseur·e",
  9: "Administrateur·rice",
};

export const KIND_LABEL: Record<number, string> = {
  1: "SIAO",
  2: "Maraude",
  3: "Accueil de jour",
  4: "SAO",
  5: "CHRS",
  6: "CHU",
  7: "CPH",
  8: "Préfecture",
};

export function roleLabel(r: Role): string {
  return ROLE_LABEL[r] ?? "Rôle inconnu";
}

export function kindLabel(k: StructureKind): string {
  return KIND_LABEL[k] ?? "Structure";
}

const TZ = "Europe/Paris";
const dateFmt = new Intl.DateTimeFormat("fr-FR", { timeZone: TZ, day: "numeric", month: "long", year: "numeric" });
const shortDateFmt = new Intl.DateTimeFormat("fr-FR", { timeZone: TZ, day: "2-digit", month: "2-digit", year: "numeric" });
const timeFmt = new Intl.DateTimeFormat("fr-FR", { timeZone: TZ, hour: "2-digit", minute: "2-digit" });
const dayKeyFmt = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

/** "7 décembre 2026" */
export function formatDate(ms: number): string {
  return dateFmt.format(ms);
}

/** "07/12/2026" */
export function formatShortDate(ms: number): string {
  return shortDateFmt.format(ms);
}

/** "14:05" */
export function formatTime(ms: number): string {
  return timeFmt.format(ms);
}

/** "aujourd'hui à 14:05", "hier à 22:10", or "03/12/2026 à 09:00" */
export function formatWhen(ms: number, now: number): string {
  const d = dayKeyFmt.format(ms);
  if (d === dayKeyFmt.format(now)) return `aujourd'hui à ${formatTime(ms)}`;
  if (d === dayKeyFmt.format(now - 86_400_000)) return `hier à ${formatTime(ms)}`;
  return `${formatShortDate(ms)} à ${formatTime(ms)}`;
}

/** "il y a 3 min", "il y a 2 h 05", "il y a 4 j" (an age; never negative) */
export function formatAge(ms: number, now: number): string {
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return "à l'instant";
  const m = Math.floor(s / 60);
  if (m < 60) return `il y a ${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `il y a ${h} h ${String(m % 60).padStart(2, "0")}`;
  return `il y a ${Math.floor(h / 24)} j`;
}

/** "1 h 42 min 05 s" → the remaining time of a countdown ("expiré" at 0) */
export function formatRemaining(untilMs: number, now: number): string {
  const s = Math.floor((untilMs - now) / 1000);
  if (s <= 0) return "expiré";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min ${sec} s`;
}

/** "1 adulte, 2 enfants" */
export function formatHousehold(adults: number, children: number): string {
  const a = `${adults} adulte${adults > 1 ? "s" : ""}`;
  if (!children) return a;
  return `${a}, ${children} enfant${children > 1 ? "s" : ""}`;
}

/** Sum of a category count map. */
export function total(c: Partial<Record<Category, number>>): number {
  let n = 0;
  for (const v of Object.values(c)) n += v ?? 0;
  return n;
}
