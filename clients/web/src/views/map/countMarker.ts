/* A centre's marker drawn on a canvas: a disc carrying a number (the free places), green when
 * some are free, grey at 0, with a dashed dark ring and hatching when the declaration is stale,
 * and a focus ring when selected. The look of the legend's samples (.cm in map.css).
 *
 * Why a canvas: as DOM elements (Leaflet's div icons), 500 markers made every delta's frame
 * pay for hundreds of positioned boxes (style, paint and compositing of the whole pane) even
 * when one number changed. A Leaflet canvas renderer redraws only the rectangle of the marker
 * that changed, in the next animation frame: the frame that also shows the table's change.
 *
 * It is Leaflet's CircleMarker (hit testing, click, tooltip, z-order come from it) with the
 * number and the rings drawn after the disc. Colours and font come from the page's CSS
 * variables (--ok, --focus, --font), read once. */
import * as L from "leaflet";

/** The disc's radius in CSS pixels (34 px across with its border, as the legend's samples). */
export const RADIUS = 15;
/** What the selection ring adds around the disc: the redrawn rectangle must cover it. */
const RING = 10;

export interface MarkerLook {
  n: number;
  stale: boolean;
  selected: boolean;
}

const ZERO = "#e4e6ea";
const ZERO_TEXT = "#343a46"; /* 9:1 on ZERO */
const ZERO_BORDER = "#6b7280";
const STALE_BORDER = "#1b1b1f";

interface Palette {
  free: string;
  focus: string;
  font: string;
  hatchFree: CanvasPattern | string;
  hatchZero: CanvasPattern | string;
}

let palette: Palette | null = null;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Diagonal stripes over the fill colour, as map.css's repeating-linear-gradient. */
function hatch(ctx: CanvasRenderingContext2D, base: string, stripe: string): CanvasPattern | string {
  const c = document.createElement("canvas");
  c.width = c.height = 8;
  const g = c.getContext("2d");
  if (!g) return base;
  g.fillStyle = base;
  g.fillRect(0, 0, 8, 8);
  g.strokeStyle = stripe;
  g.lineWidth = 2.5;
  g.beginPath();
  for (const o of [-8, 0, 8]) {
    g.moveTo(o, 8);
    g.lineTo(o + 8, 0);
  }
  g.stroke();
  return ctx.createPattern(c, "repeat") ?? base;
}

function paletteFor(ctx: CanvasRenderingContext2D): Palette {
  if (palette) return palette;
  const free = cssVar("--ok", "#1c6b3a");
  palette = {
    free,
    focus: cssVar("--focus", "#0b3d91"),
    font: `700 13px ${cssVar("--font", "sans-serif")}`,
    hatchFree: hatch(ctx, free, "rgba(0, 0, 0, 0.28)"),
    hatchZero: hatch(ctx, ZERO, "rgba(0, 0, 0, 0.1)"),
  };
  return palette;
}

/** What the canvas renderer draws with (Leaflet's internals: typed here, used nowhere else). */
interface CanvasInternals {
  _drawing: boolean;
  _ctx: CanvasRenderingContext2D;
  _updateCircle(layer: L.CircleMarker): void;
}
interface MarkerInternals {
  _renderer: CanvasInternals;
  _point: L.Point;
  _radius: number;
  _pxBounds: L.Bounds;
  _empty(): boolean;
  _map: L.Map | null;
}

/** A centre's marker: a CircleMarker whose look is `look` (set it with `setLook`). */
export interface CountMarker extends L.CircleMarker {
  look: MarkerLook;
  setLook(look: MarkerLook): void;
}

function styleOf(look: MarkerLook): L.PathOptions {
  return {
    stroke: true,
    weight: 2,
    color: look.stale ? STALE_BORDER : look.n > 0 ? "#ffffff" : ZERO_BORDER,
    dashArray: look.stale ? "4 3" : undefined,
    opacity: 1,
    fill: true,
    fillOpacity: 1,
    /* the colour itself is chosen when drawing (a pattern for stale markers) */
    fillColor: "#000000",
  };
}

const CountMarkerClass = (L.CircleMarker as unknown as { extend(props: object): new (...args: unknown[]) => CountMarker }).extend({
  setLook(this: CountMarker, look: MarkerLook) {
    const was = this.look;
    if (was && was.n === look.n && was.stale === look.stale && was.selected === look.selected) return;
    this.look = look;
    /* a new style asks the renderer to redraw this marker's rectangle in the next frame */
    this.setStyle(styleOf(look));
  },

  /* the rectangle redrawn around the marker covers the selection ring */
  _updateBounds(this: CountMarker & MarkerInternals) {
    const m = this._radius + RING;
    this._pxBounds = L.bounds(this._point.subtract([m, m]), this._point.add([m, m]));
  },

  _updatePath(this: CountMarker & MarkerInternals) {
    const r = this._renderer;
    if (!r._drawing || this._empty()) return;
    const ctx = r._ctx;
    const pal = paletteFor(ctx);
    const { n, stale, selected } = this.look;
    const p = this._point;
    if (selected) {
      ctx.beginPath();
      ctx.arc(p.x, p.y, this._radius + 5, 0, Math.PI * 2);
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
      ctx.lineWidth = 6;
      ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
      ctx.stroke();
      ctx.lineWidth = 3;
      ctx.strokeStyle = pal.focus;
      ctx.stroke();
    }
    this.options.fillColor = (stale ? (n > 0 ? pal.hatchFree : pal.hatchZero) : n > 0 ? pal.free : ZERO) as string;
    r._updateCircle(this);
    ctx.globalAlpha = 1;
    ctx.fillStyle = n > 0 ? "#ffffff" : ZERO_TEXT;
    ctx.font = pal.font;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(String(n), p.x, p.y + 1);
  },
});

export function countMarker(at: L.LatLngExpression, look: MarkerLook, renderer: L.Renderer): CountMarker {
  const m = new CountMarkerClass(at, { ...styleOf(look), radius: RADIUS, renderer, bubblingMouseEvents: false });
  m.look = look;
  return m;
}
