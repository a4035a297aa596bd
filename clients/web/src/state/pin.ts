/* The PIN's rules, the desk's and the phone's (a module of its own: the phone's first paint
 * must not load the desk's state). */
export const PIN_MIN = 6;
export const PIN_MAX = 12;

/** A French message when the PIN is not acceptable, else null. */
export function checkPin(pin: string, confirm: string): string | null {
  if (!/^[0-9]+$/.test(pin)) return "Le code PIN ne doit contenir que des chiffres.";
  if (pin.length < PIN_MIN || pin.length > PIN_MAX) return `Le code PIN doit compter de ${PIN_MIN} à ${PIN_MAX} chiffres.`;
  if (pin !== confirm) return "Les deux codes PIN saisis ne sont pas identiques.";
  return null;
}
