// The supervisor's desk (issue 12): the map, table and indicators, and no personal value
// anywhere: not on screen, not in a frame received, and no pull ever asked for (the server
// sends a supervisor none; the app must not ask). Then the server is stopped and started
// again: the connection indicator says the data is not live, and the app comes back live by
// itself (it resubscribes: a later declaration shows). Then the /sync handshake refuses an
// Origin from elsewhere, and every page answer carries the Content-Security-Policy. Last, the
// professional is revoked: the desk closes at once and the browser forgets their key.
import http from "node:http";
import { join } from "node:path";
import { assert, axeCheck, launchBrowser, log, measure, newContext, run, screenshot, seedDemo, startServer, step,
  trackErrors, waitFor } from "./harness.mjs";
import { enrol } from "./desk.mjs";

// Personal values demo-seed wrote (tools/demo-seed): names, notes, languages, households.
const PERSONAL = ["Ahmad", "Karimi", "Mariam", "Traoré", "Dort sous le pont", "séparé de son chien", "dari",
  "bambara", "préfecture le 12", "Mère avec deux enfants", "adulte", "Mise à l'abri ce soir"];

/* The field number of an Envelope's body (its oneof), read from the frame's bytes. */
function bodyField(buf) {
  let i = 0;
  const varint = () => {
    let v = 0, s = 0, b;
    do { b = buf[i++]; v += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80);
    return v;
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8), type = key & 7;
    if (field !== 1) return field; // 1 is request_id; the next one is the body
    if (type !== 0) throw new Error(`unexpected wire type ${type} for request_id`);
    varint();
  }
  return 0;
}
const PULL_REQUEST = 22; // Envelope.pull (proto/veille/v1/envelope.proto)

/* A WebSocket handshake on /sync with the given Origin header (none if null): the status. */
function handshake(port, origin) {
  return new Promise((resolve, reject) => {
    const headers = { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "veille.v1" };
    if (origin) headers.Origin = origin;
    const req = http.request({ host: "127.0.0.1", port, path: "/sync", headers });
    req.on("upgrade", (res, socket) => { socket.destroy(); resolve(res.statusCode); });
    req.on("response", (res) => { res.resume(); resolve(res.statusCode); });
    req.on("error", reject);
    req.end();
  });
}

run(async () => {
  const server = await step("start veilled", () => startServer({ lockSeconds: 600 }));
  const demo = await step("demo data", () => seedDemo(server));
  const browser = await launchBrowser();
  const page = await (await newContext(browser)).newPage();
  const track = trackErrors(page, "supervisor");
  const sent = [], received = [];
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => sent.push(Buffer.from(f.payload)));
    ws.on("framereceived", (f) => received.push(Buffer.from(f.payload)));
  });

  await page.goto(server.url);
  await step("the supervisor enrols and sees the map, the table and the indicators", async () => {
    await enrol(page, demo.codes["helene-garnier"], "778899");
    await waitFor(async () => (await page.locator("tr.centre-row").count()) >= 8, { what: "table rows" });
    await waitFor(async () => Number(await page.locator(".centres-map__box").getAttribute("data-markers")) >= 8, { what: "markers" });
    await page.getByText("Indicateurs du jour").waitFor();
    await page.waitForTimeout(1000); // what else would come, comes
    await axeCheck(page, "supervisor desk");
    await screenshot(page, "supervisor");
  });

  await step("no personal value anywhere, and no pull asked for", async () => {
    const text = await page.locator("body").innerText();
    const html = await page.content();
    const frames = received.map((b) => b.toString("utf8")).join("\n");
    for (const s of PERSONAL) {
      assert.ok(!text.includes(s) && !html.includes(s), `the supervisor's page shows "${s}"`);
      assert.ok(!frames.includes(s), `a frame the supervisor received holds "${s}"`);
    }
    const bodies = sent.map(bodyField);
    assert.ok(!bodies.includes(PULL_REQUEST), `the supervisor's app sent a PullRequest (bodies sent: ${bodies})`);
    log(`${sent.length} frames sent (bodies ${[...new Set(bodies)].join(", ")}), ${received.length} received, none personal`);
  });
  track.assertNone();

  await step("the server stops: the indicator says the data is not live", async () => {
    await server.stop();
    await measure("server stopped to the indicator saying so", () =>
      page.locator(".link--offline, .link--connecting").first().waitFor({ timeout: 10000 }));
    await page.locator(".link--offline").waitFor({ timeout: 10000 });
    assert.match(await page.locator(".link").innerText(), /Hors ligne/);
    await screenshot(page, "supervisor-offline");
  });

  await step("the server starts again: the app comes back live by itself and resubscribes", async () => {
    await server.restart();
    await measure("server started to the app live again", () => page.locator(".link--live").waitFor({ timeout: 40000 }));
    const before = await page.locator('tr[data-id="cph-75-est"] .col-total').innerText();
    await server.cli(join(demo.devices, "olivier-mercier"), ["places", "declare", "famille=9", "jeune_18_25=5"]);
    await waitFor(async () => (await page.locator('tr[data-id="cph-75-est"] .col-total').innerText()).trim() === "14",
      { what: `the declaration after the restart (was ${before})` });
    await screenshot(page, "supervisor-live-again");
  });

  await step("/sync refuses an Origin from elsewhere; pages carry the CSP", async () => {
    assert.equal(await handshake(server.port, "http://evil.example"), 403, "foreign Origin");
    assert.equal(await handshake(server.port, `http://127.0.0.1:${server.port + 1}`), 403, "another port");
    assert.equal(await handshake(server.port, server.origin), 101, "own Origin");
    assert.equal(await handshake(server.port, null), 101, "no Origin (a native client)");
    const r = await page.request.get(server.url);
    const csp = r.headers()["content-security-policy"] ?? "";
    assert.match(csp, new RegExp(`connect-src ws://127\\.0\\.0\\.1:${server.port}/sync wss://127\\.0\\.0\\.1:${server.port}/sync;`));
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(csp, /frame-ancestors 'none'/);
    log(`CSP: ${csp}`);
  });

  await step("the professional revoked: the session ends at once and the browser forgets the key", async () => {
    server.ctl(["professional", "revoke", "helene-garnier"]);
    await page.getByText(/a été révoqué/).first().waitFor({ timeout: 5000 });
    assert.equal(await page.getByRole("button", { name: /Hélène/ }).count(), 0, "the revoked account is gone");
    await screenshot(page, "supervisor-revoked");
  });
});
