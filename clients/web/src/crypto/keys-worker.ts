/* The key worker: a module Web Worker, the only code that imports libsodium and the only place
 * a device's secret key lives (docs/web.md). The page talks to it through keys.ts:
 * { id, op, args } in, { id, ok, result | error } out, answered in order; the worker first
 * posts id 0 once libsodium is ready (or could not start). Locking terminates the worker, so
 * every key goes with it. The operations are KeyHolder's (keycore.ts). */
import sodium from "libsodium-wrappers-sumo";
import { answer, failure, KeyError, KeyHolder, type KeyReply, type KeyRequest } from "./keycore";

const holder = sodium.ready.then(() => new KeyHolder(sodium));

holder.then(
  () => postMessage({ id: 0, ok: true, result: null } satisfies KeyReply),
  (e) => postMessage(failure(0, new KeyError("unavailable", `libsodium: ${String(e)}`))),
);

/* Each request waits for the same promise, so requests are answered in the order they came. */
addEventListener("message", async (ev: MessageEvent<KeyRequest>) => {
  postMessage(answer(await holder, ev.data));
});
