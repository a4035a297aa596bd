/* Entry of the desk app: reads the server's configuration (/config.js: tile source, lock
 * delay), then renders the shell. libsodium is not imported here: it loads in the key worker
 * beside the first paint (state/app.ts starts it at enrolment or sign-in). */
import { render } from "preact";
import { App, type AppConfig } from "./state/app";
import { Shell } from "./views/shell/Shell";

interface ServerConfig {
  tiles?: string | null;
  tilesAttribution?: string;
  lockSeconds?: number;
}

const DEFAULT_LOCK_SECONDS = 300;

async function serverConfig(): Promise<ServerConfig> {
  try {
    const m = (await import(/* served by veilled */ new URL("config.js", document.baseURI).href)) as { default?: ServerConfig };
    return m.default ?? {};
  } catch {
    return {}; /* a veilled without it (or a static server): the defaults */
  }
}

function syncUrl(): string {
  const u = new URL("sync", document.baseURI);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}

async function main(): Promise<void> {
  const root = document.getElementById("app");
  const worker = document.querySelector<HTMLMetaElement>('meta[name="veille-keys-worker"]')?.content;
  if (!root || !worker) throw new Error("index.html lacks #app or the key worker's address");
  const sc = await serverConfig();
  const cfg: AppConfig = {
    url: syncUrl(),
    workerUrl: new URL(worker, document.baseURI).href,
    lockSeconds: sc.lockSeconds && sc.lockSeconds > 0 ? sc.lockSeconds : DEFAULT_LOCK_SECONDS,
    tiles: sc.tiles ? { url: sc.tiles, attribution: sc.tilesAttribution ?? "" } : null,
  };
  const app = new App(cfg);
  root.replaceChildren();
  render(<Shell app={app} />, root);
  await app.init();
}

void main();
