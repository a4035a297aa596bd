/* The live map of the territory's centres (Leaflet, no WebGL). Without a tile source (a machine
 * without internet, the tests) it draws the département's outline, loaded on demand from the
 * build's geo/<code>.js module, under the markers; with one, the tiles and their credit too.
 *
 * One marker per located centre, showing the free places of the selected categories: green
 * with its number when some are free, grey at 0, a dashed hatched border when the declaration
 * is stale (and "périmée" in its tooltip: never colour alone). Markers are drawn on their own
 * canvas (countMarker.ts), above the outline: a delta redraws one marker's rectangle, in the
 * frame that shows the table's change. The table beside the map is its accessible equivalent: markers
 * are not keyboard stops (a territory may have hundreds), the table's centre names select
 * the same centre here, and the map itself can be moved with the arrow keys. */
import type { FeatureCollection } from "geojson";
import "./no3d";
import * as L from "leaflet";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { Category, Centre, Desk } from "../../state/model";
import { useValue } from "../useValue";
import { CATEGORY_LABEL, formatAge } from "../../state/labels";
import { count, freeIn, receives, shown, useMinute } from "../places/live";
import { countMarker, RADIUS, type CountMarker } from "./countMarker";
import "./map.css";

export interface CentresMapProps {
  /** places, clock, the tile layer when configured, and the principal's territory (whose
   * outline is drawn until the places say which) */
  desk: Pick<Desk, "places" | "clock" | "tiles" | "principal">;
  /** the category filter (empty: all), shared with the table */
  categories: readonly Category[];
  selectedId: string | null;
  onSelect(id: string | null): void;
}

/** The outline's credit (Licence Ouverte: the source must be named), shown with the outline. */
export const OUTLINE_CREDIT = "Contours : IGN GEOFLA, INSEE ; france-geojson (2016), Licence Ouverte";

const FRANCE: L.LatLngTuple = [46.6, 2.5];

interface Entry {
  marker: CountMarker;
  centre: Centre;
}

function line(parent: HTMLElement, cls: string, text: string): HTMLElement {
  const el = document.createElement("div");
  el.className = cls;
  el.textContent = text;
  parent.appendChild(el);
  return el;
}

/** The tooltip, built with the DOM (names come from the server: never as HTML). */
function tooltipOf(c: Centre, cats: readonly Category[], now: number): HTMLElement {
  const el = document.createElement("div");
  el.className = "cm-tip";
  line(el, "cm-tip__name", c.name);
  if (c.address) line(el, "cm-tip__address", c.address);
  const list = document.createElement("ul");
  list.className = "cm-tip__counts";
  for (const k of cats) {
    if ((c.capacity[k] ?? 0) === 0) continue;
    const free = count(c.free, k);
    const held = count(c.held, k);
    const li = document.createElement("li");
    li.textContent =
      `${CATEGORY_LABEL[k]} : ${free} libre${free > 1 ? "s" : ""} / ${count(c.vacancies, k)} vacante${count(c.vacancies, k) > 1 ? "s" : ""}` +
      (held ? ` (${held} retenue${held > 1 ? "s" : ""})` : "");
    list.appendChild(li);
  }
  el.appendChild(list);
  if (!c.declaredAt) line(el, "cm-tip__stale", "⚠ Jamais déclaré : déclaration périmée");
  else {
    line(el, "cm-tip__age", `Déclaré ${formatAge(c.declaredAt, now)}`);
    if (c.stale) line(el, "cm-tip__stale", "⚠ Déclaration périmée");
  }
  return el;
}

export function CentresMap({ desk, categories, selectedId, onSelect }: CentresMapProps) {
  const { places, clock, tiles } = desk;
  const territory = desk.principal.territory;
  const pl = useValue(places);
  const minute = useMinute(clock);
  const host = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const renderer = useRef<L.Renderer | null>(null);
  const entries = useRef(new Map<string, Entry>());
  const fitted = useRef(false);
  const outlined = useRef<"none" | "loading" | "drawn" | "failed">("none");
  /* The latest props, for Leaflet's callbacks. */
  const latest = useRef({ onSelect, selectedId, categories, clock });
  latest.current = { onSelect, selectedId, categories, clock };

  /* The map, once; a layout effect, so that it exists before the markers' (below) first run. */
  useLayoutEffect(() => {
    const el = document.createElement("div");
    el.className = "centres-map__canvas";
    host.current!.appendChild(el);
    const m = L.map(el, { zoomControl: false, preferCanvas: true, keyboard: true, zoomSnap: 0.25, minZoom: 4, maxZoom: 18 });
    m.setView(FRANCE, 5);
    el.setAttribute("role", "region");
    el.setAttribute("aria-label", "Carte des centres (flèches du clavier pour la déplacer, + et − pour zoomer)");
    el.setAttribute("aria-describedby", "centres-map-desc");
    L.control.zoom({ position: "topright", zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(m);
    m.attributionControl.setPrefix('<a href="https://leafletjs.com" hreflang="en">Leaflet</a>');
    if (tiles) L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(m);
    /* Markers and their tooltips repeat the table: hidden from screen readers, which read the table. */
    const pane = m.createPane("centres");
    pane.style.zIndex = "450"; /* above the outline (overlayPane, 400), under tooltips */
    pane.setAttribute("aria-hidden", "true");
    m.getPane("tooltipPane")?.setAttribute("aria-hidden", "true");
    renderer.current = L.canvas({ pane: "centres", tolerance: 3 });
    layer.current = L.layerGroup().addTo(m);
    map.current = m;
    const ro = new ResizeObserver(() => m.invalidateSize({ pan: false }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      m.remove();
      el.remove();
      map.current = null;
      layer.current = null;
      renderer.current = null;
      entries.current.clear();
      fitted.current = false;
      outlined.current = "none";
    };
  }, [tiles]);

  /* The département's outline, from the build's geo/<code>.js (only the one shown is loaded). */
  const code = pl.territory || territory;
  useEffect(() => {
    const m = map.current;
    if (!m || !/^[0-9A-Za-z]{1,3}$/.test(code)) return;
    let cancelled = false;
    let drawn: L.GeoJSON | null = null;
    outlined.current = "loading";
    const url = new URL(`geo/${code}.js`, document.baseURI).href;
    (import(url) as Promise<{ default: FeatureCollection }>)
      .then((mod) => {
        if (cancelled) return;
        drawn = L.geoJSON(mod.default, {
          interactive: false,
          style: { color: "#1d4f91", weight: 2, opacity: 0.9, fillColor: "#1d4f91", fillOpacity: 0.04 },
        }).addTo(m);
        drawn.bringToBack();
        m.attributionControl.addAttribution(OUTLINE_CREDIT);
        outlined.current = "drawn";
        const b = drawn.getBounds();
        if (b.isValid()) {
          m.fitBounds(b, { padding: [12, 12] });
          fitted.current = true;
        }
      })
      .catch(() => {
        if (cancelled) return;
        outlined.current = "failed";
        fitToMarkers();
      });
    return () => {
      cancelled = true;
      if (drawn) {
        drawn.remove();
        m.attributionControl.removeAttribution(OUTLINE_CREDIT);
      }
    };
  }, [code, tiles]);

  /* Without an outline, the markers give the view (once: the user's moves are kept). */
  const fitToMarkers = () => {
    const m = map.current;
    if (!m || fitted.current || outlined.current === "loading" || outlined.current === "drawn") return;
    const pts: L.LatLngTuple[] = [];
    for (const e of entries.current.values()) pts.push([e.centre.location!.lat, e.centre.location!.lon]);
    if (!pts.length) return;
    m.fitBounds(L.latLngBounds(pts), { padding: [40, 40], maxZoom: 14 });
    fitted.current = true;
  };

  /* Markers, updated in place, before the frame is painted (a layout effect): a delta shows
   * on the map in the same frame as in the table, not one frame later. */
  const cats = shown(categories);
  const catsKey = cats.join(",");
  useLayoutEffect(() => {
    const lg = layer.current;
    const rd = renderer.current;
    if (!lg || !rd) return;
    const seen = new Set<string>();
    for (const c of pl.loaded ? pl.centres : []) {
      if (!c.location || !receives(c, cats)) continue;
      seen.add(c.id);
      const look = { n: freeIn(c, cats), stale: c.stale, selected: c.id === latest.current.selectedId };
      const e = entries.current.get(c.id);
      if (!e) {
        const marker = countMarker([c.location.lat, c.location.lon], look, rd);
        const entry: Entry = { marker, centre: c };
        marker.bindTooltip(() => tooltipOf(entry.centre, shown(latest.current.categories), latest.current.clock.value), {
          direction: "auto",
          offset: [RADIUS, 0],
          opacity: 1,
          className: "cm-tooltip",
        });
        marker.on("click", () => {
          const l = latest.current;
          l.onSelect(l.selectedId === entry.centre.id ? null : entry.centre.id);
        });
        entries.current.set(c.id, entry);
        lg.addLayer(marker);
        if (look.selected) marker.bringToFront();
        continue;
      }
      if (e.centre.location?.lat !== c.location.lat || e.centre.location?.lon !== c.location.lon)
        e.marker.setLatLng([c.location.lat, c.location.lon]);
      e.centre = c;
      e.marker.setLook(look);
      if (e.marker.isTooltipOpen()) e.marker.getTooltip()?.update();
    }
    for (const [id, e] of entries.current) {
      if (seen.has(id)) continue;
      lg.removeLayer(e.marker);
      entries.current.delete(id);
    }
    host.current?.setAttribute("data-markers", String(entries.current.size));
    fitToMarkers();
  }, [pl.loaded, pl.centres, catsKey, minute]);

  /* The selection, from the table or a marker: raised, ringed, in view, its tooltip open. */
  const prevSel = useRef<string | null>(null);
  useEffect(() => {
    const m = map.current;
    const prev = prevSel.current ? entries.current.get(prevSel.current) : undefined;
    if (prev) {
      prev.marker.setLook({ ...prev.marker.look, selected: false });
      prev.marker.closeTooltip();
    }
    prevSel.current = selectedId;
    const e = selectedId ? entries.current.get(selectedId) : undefined;
    if (!e || !m) return;
    e.marker.setLook({ ...e.marker.look, selected: true });
    e.marker.bringToFront();
    /* well inside the view, so that its tooltip is not cut by the map's edge */
    const at = e.marker.getLatLng();
    const p = m.latLngToContainerPoint(at);
    const size = m.getSize();
    if (p.x < 60 || p.y < 90 || p.x > size.x - 60 || p.y > size.y - 60) m.panTo(at, { animate: false });
    e.marker.openTooltip();
  }, [selectedId]);

  const unlocated = pl.loaded ? pl.centres.filter((c) => !c.location && receives(c, cats)).length : 0;

  return (
    <div class="centres-map">
      <div class="centres-map__box" ref={host} />
      <p class="map-legend" id="centres-map-desc">
        <span class="visually-hidden">
          Carte du territoire {code} : un repère par centre, portant le nombre de places libres des catégories choisies. Le
          tableau des places donne les mêmes informations.
        </span>
        <span class="map-legend__item" aria-hidden="true">
          <span class="cm cm--free cm--sample">3</span> places libres
        </span>
        <span class="map-legend__item" aria-hidden="true">
          <span class="cm cm--zero cm--sample">0</span> aucune
        </span>
        <span class="map-legend__item" aria-hidden="true">
          <span class="cm cm--free cm--stale cm--sample">2</span> déclaration périmée
        </span>
        {unlocated > 0 && (
          <span class="map-legend__item">
            {unlocated} centre{unlocated > 1 ? "s" : ""} sans localisation : voir le tableau
          </span>
        )}
      </p>
    </div>
  );
}
