/* Map and table of the territory's places, side by side as on Soliguide: one category filter
 * for both, one selection for both (a centre chosen in one is highlighted in the other), and
 * a switch to show only one of them. Used by the SIAO desk and the supervisor's view. */
import { useMemo, useState } from "preact/hooks";
import { CATEGORIES, type Category, type Desk } from "../../state/model";
import { useValue } from "../useValue";
import { formatWhen } from "../../state/labels";
import { CentresMap } from "./CentresMap";
import { CategoryFilter } from "../places/CategoryFilter";
import { PlacesTable } from "../places/PlacesTable";
import { isLive, useMinute } from "../places/live";
import "../places/places.css";

export type PlacesLayout = "split" | "map" | "table";

export interface PlacesPanelProps {
  desk: Pick<Desk, "places" | "clock" | "link" | "tiles" | "principal">;
  categories: readonly Category[];
  onCategories(next: Category[]): void;
  selectedId: string | null;
  onSelect(id: string | null): void;
  /** how the panel starts (the user may switch) */
  initialLayout?: PlacesLayout;
  /** map above table (narrow panes) or beside it (wide ones) */
  orientation?: "stacked" | "side";
}

const LAYOUTS: { value: PlacesLayout; label: string }[] = [
  { value: "split", label: "Carte et tableau" },
  { value: "map", label: "Carte" },
  { value: "table", label: "Tableau" },
];

/** "Données du 03:12" when the link is not live: the places may have changed since. */
export function DataAge({ desk }: { desk: Pick<Desk, "places" | "clock" | "link"> }) {
  const link = useValue(desk.link);
  const pl = useValue(desk.places);
  const now = useMinute(desk.clock);
  if (isLive(link.kind) || !pl.loaded) return null;
  return (
    <p class="data-age" role="status">
      Hors ligne : places telles qu'elles étaient {formatWhen(pl.receivedAt, now)}
    </p>
  );
}

export function PlacesPanel({
  desk,
  categories,
  onCategories,
  selectedId,
  onSelect,
  initialLayout = "split",
  orientation = "stacked",
}: PlacesPanelProps) {
  const [layout, setLayout] = useState<PlacesLayout>(initialLayout);
  const centres = useValue(desk.places).centres;
  const available = useMemo(() => {
    const a = CATEGORIES.filter((k) => centres.some((c) => (c.capacity[k] ?? 0) > 0));
    return a.length ? a : CATEGORIES;
  }, [centres]);
  return (
    <section class={`places-panel places-panel--${layout} places-panel--${orientation}`} aria-labelledby="places-title">
      <div class="places-panel__head">
        <h2 id="places-title">Places disponibles</h2>
        <div class="layout-switch" role="group" aria-label="Affichage">
          {LAYOUTS.map((l) => (
            <button type="button" class="chip chip--small" key={l.value} aria-pressed={layout === l.value} onClick={() => setLayout(l.value)}>
              {l.label}
            </button>
          ))}
        </div>
      </div>
      <DataAge desk={desk} />
      <CategoryFilter selected={categories} onChange={onCategories} available={available} />
      <div class="places-panel__body">
        <div class="places-panel__map" hidden={layout === "table"}>
          <CentresMap desk={desk} categories={categories} selectedId={selectedId} onSelect={onSelect} />
        </div>
        {/* hidden rather than removed: the table keeps its sort, the map its view */}
        <div class="places-panel__table" hidden={layout === "map"}>
          <PlacesTable desk={desk} categories={categories} selectedId={selectedId} onSelect={onSelect} />
        </div>
      </div>
    </section>
  );
}
