/* Entry of the maraude phone app (/maraude/): registers its service worker (the app shell
 * precached, so the app opens with no network), renders, and reads the server's settings when
 * it can (/config.js; offline, the defaults). The first paint waits for no network request:
 * the shell comes from the service worker, /config.js does not (a Slow 3G link took 2 s for
 * it). libsodium is not imported here: it loads in the key worker, started at enrolment or at
 * the PIN, beside the first paint. */
import { render } from "preact";
import { DEFAULT_LOCK_SECONDS, Maraude } from "./state/maraude";
import { MaraudeApp } from "./views/maraude/MaraudeApp";

interface ServerConfig {
  /** the phone's inactivity lock, seconds (the desk's lockSeconds is another setting) */
  maraudeLockSeconds?: number;
}

async function serverConfig(): Promise<ServerConfig> {
  try {
    const m = (await import(/* served by veilled */ new URL("/config.js", document.baseURI).href)) as { default?: ServerConfig };
    return m.default ?? {};
  } catch {
    return {}; /* offline, or a server without it: the defaults */
  }
}

function syncUrl(): string {
  const u = new URL("/sync", document.baseURI);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}

function registerWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(new URL("sw.js", document.baseURI).href, { scope: "./" }).catch(() => {
    /* an http:// address other than localhost: no offline opening, the rest works */
  });
}

async function main(): Promise<void> {
  const root = document.getElementById("app");
  const worker = document.querySelector<HTMLMetaElement>('meta[name="veille-keys-worker"]')?.content;
  if (!root || !worker) throw new Error("index.html lacks #app or the key worker's address");
  registerWorker();
  const app = new Maraude({
    url: syncUrl(),
    workerUrl: new URL(worker, document.baseURI).href,
    lockSeconds: DEFAULT_LOCK_SECONDS,
  });
  root.replaceChildren();
  render(<MaraudeApp app={app} />, root);
  void serverConfig().then(({ maraudeLockSeconds: lock }) => {
    if (lock && lock > 0) app.setLockSeconds(lock);
  });
  await app.init();
}

void main();
