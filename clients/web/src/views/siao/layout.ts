/* The desk views fill the window under the shell's header, so that the queue and the table
 * scroll inside their own boxes while the indicators, the filter and the map stay in view.
 * The height is measured (the header's height depends on the names shown in it) and set
 * through the CSSOM, which the Content-Security-Policy allows (no style attribute in HTML).
 * In a narrow window (or at 200 % zoom) the view keeps its natural height and the page
 * scrolls, as siao.css lays it out in one column. */
import type { RefObject } from "preact";
import { useLayoutEffect } from "preact/hooks";

const WIDE = "(min-width: 64.01rem)";
const MIN_PX = 480;

export function useFillHeight(ref: RefObject<HTMLElement>): void {
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const wide = window.matchMedia(WIDE);
    const fit = () => {
      if (!wide.matches) {
        el.style.removeProperty("height");
        return;
      }
      const top = el.getBoundingClientRect().top + window.scrollY;
      const parent = el.parentElement;
      const below = parent ? parseFloat(getComputedStyle(parent).paddingBottom) || 0 : 0;
      el.style.height = `${Math.max(MIN_PX, Math.floor(window.innerHeight - top - below))}px`;
    };
    fit();
    window.addEventListener("resize", fit);
    wide.addEventListener("change", fit);
    return () => {
      window.removeEventListener("resize", fit);
      wide.removeEventListener("change", fit);
    };
  }, []);
}
