/* The category filter shared by the table and the map (Soliguide's filter bar): "Toutes" and
 * one toggle button per place category. Several categories may be selected; none selected
 * means all. Toggle buttons (aria-pressed) rather than checkboxes: one press, large targets,
 * and the state is read out ("Homme seul, bouton bascule, enfoncé"). */
import { CATEGORIES, type Category } from "../../state/model";
import { CATEGORY_LABEL } from "../../state/labels";

/* Short enough for one row of chips beside the map; the full words in the tooltip. */
const CHIP_LABEL: Record<Category, string> = {
  1: "Homme seul",
  2: "Femme seule",
  3: "Couple",
  4: "Famille",
  5: "18-25 ans",
  6: "PMR",
  7: "Animal",
};
import "./places.css";

export interface CategoryFilterProps {
  /** selected categories; empty: all */
  selected: readonly Category[];
  onChange(next: Category[]): void;
  /** categories offered (those some centre of the territory has capacity for); default all */
  available?: readonly Category[];
  /** the group's visible name */
  label?: string;
}

export function CategoryFilter({ selected, onChange, available = CATEGORIES, label = "Catégories" }: CategoryFilterProps) {
  const all = selected.length === 0;
  const toggle = (c: Category) =>
    onChange(selected.includes(c) ? selected.filter((x) => x !== c) : CATEGORIES.filter((x) => x === c || selected.includes(x)));
  return (
    <div class="cat-filter" role="group" aria-label={`Filtrer par catégorie de place`}>
      <span class="cat-filter__label" aria-hidden="true">
        {label}
      </span>
      <button type="button" class="chip" aria-pressed={all} onClick={() => onChange([])}>
        Toutes
      </button>
      {available.map((c) => (
        <button
          type="button"
          class="chip"
          key={c}
          title={CATEGORY_LABEL[c]}
          aria-pressed={selected.includes(c)}
          onClick={() => toggle(c)}
        >
          {CHIP_LABEL[c]}
        </button>
      ))}
    </div>
  );
}
