// A peer to compare build/demo with: a WAMP v1 broker on npm ws, with the demo's routes that
// make bench uses (shared/spec/wamp1.md semantics, same contract line as build/demo):
//   WELCOME [0, sessionId, 1, ident] on connect; subprotocol "wamp" (426 when not offered);
//   PREFIX; CALL http://wamp1.dev/rpc#echo (the arguments as an array) and rpc#add (sum of the
//   numbers, or of one array of numbers) -> CALLRESULT, anything else -> CALLERROR;
//   SUBSCRIBE / UNSUBSCRIBE / PUBLISH on http://wamp1.dev/topic/{name} with excludeMe by
//   default, exclude and eligible lists; an EVENT is encoded once and sent to every receiver.
// node tests/bench/ws_wamp_peer.mjs [--host ADDR] [--port N]   (default 127.0.0.1, port 0)
import { WebSocketServer } from 'ws';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '0'));

const ERR = 'http://api.wamp.ws/error#';
const TOPIC = /^http:\/\/wamp1\.dev\/topic\/[^/]+$/;
const topics = new Map();   // topic URI -> Set of sessions
const sessions = new Map(); // sessionId -> session

const rpc = {
  'http://wamp1.dev/rpc#echo': (a) => a,
  'http://wamp1.dev/rpc#add': (a) => {
    const nums = a.length === 1 && Array.isArray(a[0]) ? a[0] : a;
    let sum = 0;
    for (const n of nums) {
      if (typeof n !== 'number') throw new Error('invalid_argument');
      sum += n;
    }
    return sum;
  },
};

function resolve(s, uri) { // CURIE: split at the first ':'; a defined prefix expands
  const i = uri.indexOf(':');
  if (i > 0) { const p = s.prefixes.get(uri.slice(0, i)); if (p !== undefined) return p + uri.slice(i + 1); }
  return uri;
}

function publish(s, m) {
  const topic = resolve(s, m[1]);
  const subs = topics.get(topic);
  if (!subs) return;
  let exclude = null, eligible = null;
  if (m.length >= 4) {
    if (m[3] === true) exclude = [s.id];
    else if (Array.isArray(m[3])) exclude = m[3];
    else if (m[3] !== false) exclude = [s.id];       // not a boolean or list: counts as absent
  } else exclude = [s.id];
  if (m.length >= 5) {
    if (!Array.isArray(m[4])) return;                // malformed: delivers nothing
    eligible = m[4];
  }
  if ((exclude && !exclude.every((x) => typeof x === 'string')) ||
      (eligible && !eligible.every((x) => typeof x === 'string'))) return;
  const frame = Buffer.from(JSON.stringify([8, topic, m[2]]));
  const ex = exclude && exclude.length ? new Set(exclude) : null;
  if (eligible) {
    for (const id of eligible) {
      const r = sessions.get(id);
      if (r && subs.has(r) && !(ex && ex.has(id))) r.ws.send(frame, { binary: false });
    }
    return;
  }
  for (const r of subs) if (!(ex && ex.has(r.id))) r.ws.send(frame, { binary: false });
}

function onMessage(s, data, isBinary) {
  if (isBinary) return;
  let m;
  try { m = JSON.parse(data); } catch { return; }
  if (!Array.isArray(m)) return;
  switch (m[0]) {
    case 1: // PREFIX
      if (typeof m[1] === 'string' && typeof m[2] === 'string') s.prefixes.set(m[1], m[2]);
      return;
    case 2: { // CALL
      if (typeof m[1] !== 'string') return;
      if (typeof m[2] !== 'string') {
        s.ws.send(JSON.stringify([4, m[1], ERR + 'invalid_argument', 'procURI must be a string']));
        return;
      }
      const uri = resolve(s, m[2]);
      const f = rpc[uri];
      if (!f) { s.ws.send(JSON.stringify([4, m[1], ERR + 'NoSuchRPCEndpoint', `no procedure ${uri}`])); return; }
      let r;
      try { r = f(m.slice(3)); } catch {
        s.ws.send(JSON.stringify([4, m[1], ERR + 'invalid_argument', 'invalid argument']));
        return;
      }
      s.ws.send(JSON.stringify([3, m[1], r]));
      return;
    }
    case 5: { // SUBSCRIBE
      if (typeof m[1] !== 'string') return;
      const topic = resolve(s, m[1]);
      if (!TOPIC.test(topic)) return;
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(s);
      s.topics.add(topic);
      return;
    }
    case 6: { // UNSUBSCRIBE
      if (typeof m[1] !== 'string') return;
      const topic = resolve(s, m[1]);
      const set = topics.get(topic);
      if (set && set.delete(s) && set.size === 0) topics.delete(topic);
      s.topics.delete(topic);
      return;
    }
    case 7: // PUBLISH
      if (typeof m[1] === 'string' && m.length >= 3) publish(s, m);
      return;
    default:
  }
}

const wss = new WebSocketServer({
  host, port, maxPayload: 16 * 1024 * 1024, clientTracking: false,
  handleProtocols: (protocols) => (protocols.has('wamp') ? 'wamp' : false),
  verifyClient: (info, cb) => {
    const offered = (info.req.headers['sec-websocket-protocol'] || '').split(',').map((p) => p.trim());
    if (offered.includes('wamp')) cb(true); else cb(false, 426, 'subprotocol wamp required');
  },
});
wss.on('listening', () => console.log(`listening on ${host}:${wss.address().port}`));
wss.on('connection', (ws) => {
  let id;
  do id = randomBytes(12).toString('base64url'); while (sessions.has(id));
  const s = { id, ws, prefixes: new Map(), topics: new Set() };
  sessions.set(id, s);
  ws.send(JSON.stringify([0, id, 1, 'ws-wamp-peer (npm ws)']));
  ws.on('message', (data, isBinary) => onMessage(s, data, isBinary));
  ws.on('close', () => {
    sessions.delete(id);
    for (const t of s.topics) {
      const set = topics.get(t);
      if (set && set.delete(s) && set.size === 0) topics.delete(t);
    }
  });
  ws.on('error', () => {});
});
wss.on('error', (e) => { console.error(`ws_wamp_peer: ${e.message}`); process.exit(2); });
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
