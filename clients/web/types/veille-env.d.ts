/* Modules the build leaves to the browser (build.mjs marks them external). */

/** Served by veilled (docs/protocol.md, "HTTP"): its web options, read at start. */
declare module "/config.js" {
  const config: {
    /** Tile URL template ("https://…/{z}/{x}/{y}.png"), or null: outlines only. */
    tiles: string | null;
    tilesAttribution: string;
    /** Inactivity before the session locks. */
    lockSeconds: number;
  };
  export default config;
}

/* Stylesheets imported by views for their side effect: esbuild bundles them into the page's
 * main-XXXXXXXX.css, which build.mjs links from index.html. */
declare module "*.css";
