/* The maraude app's service worker (scope /maraude/): precaches the app shell — the page, its
 * stylesheet and modules, the key worker (libsodium), the manifest and icons — so that the app
 * opens with no network at all. Nothing personal ever goes through a cache: records live
 * sealed in IndexedDB (store/local.ts), and the WebSocket (/sync) is not the worker's: the page
 * syncs.
 *
 * build.mjs bundles this file, then workbox-build's injectManifest replaces self.__WB_MANIFEST
 * with the list of the built files and their revisions. An update installs beside the running
 * version and takes over at the next opening (no skipWaiting: a page in the middle of an
 * encounter never has its modules swapped under it); the outbox lives in IndexedDB and is
 * untouched by an update. */
import { cleanupOutdatedCaches, precacheAndRoute } from "workbox-precaching";

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

cleanupOutdatedCaches();
/* /maraude/ is answered with the precached index.html (directoryIndex's default). */
precacheAndRoute(self.__WB_MANIFEST, { ignoreURLParametersMatching: [/.*/] });
