// ws-broadcast: the Node.js `ws` peer of tools/bench/run-fanout. A WebSocket server on
// 127.0.0.1 that relays every message it receives to every other connected client, as a
// broadcast server does (no auth, no subprotocol, no compression). Prints port=N once
// listening; runs until killed.
//   node ws-broadcast.mjs --modules DIR [--port N]
import { createRequire } from 'node:module';
import path from 'node:path';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const modules = arg('--modules', null);
if (!modules) {
  console.error('usage: node ws-broadcast.mjs --modules DIR [--port N]');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), 'index.js'));
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(arg('--port', 0)),
  perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('listening', () => console.log(`port=${wss.address().port}`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const c of wss.clients)
      if (c !== ws && c.readyState === 1)
        c.send(data, { binary: isBinary });
  });
});
