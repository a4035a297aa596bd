/* The rows of a long table that are drawn: those in view in its scroll box, and a few more
 * above and below (so that Tab from the last one drawn scrolls, which draws the next ones).
 * A browser lays out a table as a whole: with 500 centres, one changed count cost a 20 ms
 * layout; with only the rows in view drawn, it costs under a millisecond (the benchmark's
 * frame budget is 16 ms). Short tables (most territories), and tables whose box is not a
 * bounded scroll box, are drawn whole: find-in-page and screen readers see every row. The
 * table keeps its full height (spacer rows above and below), and says its real row count
 * (aria-rowcount, aria-rowindex). Rows must have one height (places.css fixes it). */
import type { RefObject } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

/** Tables with more rows than this are drawn by window. */
export const WINDOW_FROM = 80;
const OVERSCAN = 8;

interface Geometry {
  measured: boolean;
  bounded: boolean;
  top: number; /* the box's scrollTop */
  height: number; /* the box's clientHeight */
  bodyTop: number; /* the first row's offset in the box's content */
  rowH: number;
}

export interface RowWindow {
  windowed: boolean;
  first: number;
  last: number; /* exclusive */
  rowH: number;
  /** Brings row `index` into view (scrolling the box only if it is not in view). */
  reveal(index: number): void;
}

/** `drawn`: whether the box is in the page (the scroll listener is attached when it is). */
export function useRowWindow(box: RefObject<HTMLElement>, body: RefObject<HTMLElement>, n: number, drawn: boolean): RowWindow {
  const [g, setG] = useState<Geometry>({ measured: false, bounded: true, top: 0, height: 0, bodyTop: 0, rowH: 44 });
  const gRef = useRef(g);
  gRef.current = g;

  const measure = () => {
    const b = box.current;
    const tb = body.current;
    if (!b || !tb) return;
    const row = tb.querySelector<HTMLElement>("tr[data-id]");
    const cur = gRef.current;
    const next: Geometry = {
      measured: true,
      bounded: b.scrollHeight > b.clientHeight + 1,
      top: b.scrollTop,
      height: b.clientHeight,
      bodyTop: tb.getBoundingClientRect().top - b.getBoundingClientRect().top + b.scrollTop,
      rowH: row?.offsetHeight || cur.rowH,
    };
    if (
      next.measured !== cur.measured ||
      next.bounded !== cur.bounded ||
      next.top !== cur.top ||
      next.height !== cur.height ||
      Math.abs(next.bodyTop - cur.bodyTop) > 0.5 ||
      next.rowH !== cur.rowH
    )
      setG(next);
  };

  /* After every render: the header's height or the row height may have changed. */
  useLayoutEffect(measure);

  useEffect(() => {
    const b = box.current;
    if (!b) return;
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        measure();
      });
    };
    b.addEventListener("scroll", onScroll, { passive: true });
    const ro = new ResizeObserver(onScroll);
    ro.observe(b);
    return () => {
      b.removeEventListener("scroll", onScroll);
      ro.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [drawn]);

  const windowed = n > WINDOW_FROM && (!g.measured || g.bounded);
  let first = 0;
  let last = n;
  if (windowed) {
    if (!g.measured || g.height === 0) last = Math.min(n, WINDOW_FROM);
    else {
      first = Math.max(0, Math.floor((g.top - g.bodyTop) / g.rowH) - OVERSCAN);
      last = Math.min(n, Math.ceil((g.top - g.bodyTop + g.height) / g.rowH) + OVERSCAN);
      first = Math.min(first, Math.max(0, last - 1));
    }
  }

  const reveal = (index: number) => {
    const b = box.current;
    if (!b) return;
    const c = gRef.current;
    const head = b.querySelector("thead")?.getBoundingClientRect().height ?? 0;
    const y = c.bodyTop + index * c.rowH;
    if (y < b.scrollTop + head || y + c.rowH > b.scrollTop + b.clientHeight)
      b.scrollTop = Math.max(0, y - head - (b.clientHeight - head - c.rowH) / 2);
  };

  return { windowed, first, last, rowH: g.rowH, reveal };
}
