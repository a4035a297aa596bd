/* The supervisor's view (superviseur, role 8): the territory's places on the map and in the
 * table, and the day's indicators. Nothing personal: this module never reads the desk's
 * orientations or people (the server sends a supervisor none, and the view does not ask). */
import { useRef, useState } from "preact/hooks";
import type { Category, Desk } from "../../state/model";
import { Indicators } from "../indicators/Indicators";
import { PlacesPanel } from "../map/PlacesPanel";
import { useFillHeight } from "../siao/layout";
import "../siao/siao.css";

export interface SupervisorViewProps {
  desk: Pick<Desk, "places" | "clock" | "link" | "tiles" | "principal" | "indicators">;
}

export function SupervisorView({ desk }: SupervisorViewProps) {
  const [categories, setCategories] = useState<Category[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useFillHeight(box);
  return (
    <div class="desk-view supervisor-view" ref={box}>
      <Indicators indicators={desk.indicators} withEncounters />
      <PlacesPanel
        desk={desk}
        categories={categories}
        onCategories={setCategories}
        selectedId={selectedId}
        onSelect={setSelectedId}
        orientation="side"
      />
    </div>
  );
}
