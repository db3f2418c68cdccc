// wamp1.js (examples/web) under Node against build/demo, with the WebSocket class of npm `ws`.
//
//   node tests/web/test_wamp1_node.mjs build/demo
//
// Calls (results, CURIEs, CALLERROR with uri/desc/details), PubSub (excludeMe, exclude,
// eligible, unsubscribe), reconnection after the server restarts (re-subscribed, pending calls
// rejected), WAMP-CRA with launch() (right and wrong secret, salted, anonymous; WebCrypto and
// the script's own SHA-256), AutobahnJS 0.8.2's login steps with npm crypto-js, the crypto
// fallback against node:crypto, and the plain-script build against the module. Prints PASS/FAIL per test, ends with `web-node: N passed, M failed`.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac, pbkdf2Sync, randomBytes, createHash } from 'node:crypto';
import vm from 'node:vm';
import WebSocket from 'ws';
import wamp1 from '../../examples/web/wamp1.js';

const DEMO = process.argv[2] || 'build/demo';
const RPC = 'http://wamp1.dev/rpc#';
const TOPIC = 'http://wamp1.dev/topic/';
const ERR = 'http://api.wamp.ws/error#';
let passed = 0, failed = 0;
const demos = [];

const check = (cond, msg) => { if (!cond) throw new Error(msg); };
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function within(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timed out: ' + what)), ms); })])
    .finally(() => clearTimeout(t));
}

function startDemo(args = [], port = 0) {
  const proc = spawn(DEMO, ['--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const d = { proc };
  demos.push(d);
  return within(new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`demo exited ${code}: ${stderr}`)));
  }), 5000, 'demo start').then((line) => {
    const m = /^listening on (.+):(\d+)$/.exec(line);
    check(m, 'first line ' + line);
    d.port = Number(m[2]);
    d.url = `ws://127.0.0.1:${d.port}/`;
    return d;
  });
}

function stopDemo(d) {
  return new Promise((resolve) => {
    if (d.proc.exitCode !== null || d.proc.signalCode !== null) return resolve();
    const k = setTimeout(() => d.proc.kill('SIGKILL'), 3000);
    d.proc.once('exit', () => { clearTimeout(k); resolve(); });
    d.proc.kill('SIGTERM');
  });
}

// connect and resolve with the session once WELCOMEd; hangups are recorded on the session
function open(url, opts = {}) {
  return within(new Promise((resolve, reject) => {
    const hangups = [];
    const s = wamp1.connect(url, (sess) => { sess.connects = (sess.connects || 0) + 1; resolve(sess); },
      (code, reason) => { hangups.push(code); if (code === wamp1.CONNECTION_UNSUPPORTED) reject(new Error(reason)); },
      Object.assign({ WebSocket, retryDelay: 50, maxRetries: 0 }, opts));
    s.hangups = hangups;
  }), 3000, 'connect ' + url);
}

function events(session, topic) {
  const got = [];
  const cb = (t, e) => got.push([t, e]);
  session.subscribe(topic, cb);
  got.cb = cb;
  return got;
}

async function test(name, fn) {
  try {
    await within(fn(), 20000, name);
    passed++;
    console.log('PASS ' + name);
  } catch (e) {
    failed++;
    console.log('FAIL ' + name + ': ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
  }
}

const demo = await startDemo();

await test('welcome_and_calls', async () => {
  const s = await open(demo.url);
  check(/^[A-Za-z0-9_-]{16,}$/.test(s.sessionid()), 'session id ' + s.sessionid());
  check(/wamp1/.test(s.serverident()), 'server ident ' + s.serverident());
  check(await s.call(RPC + 'add', 2, 3) === 5, 'add');
  s.prefix('rpc', RPC);
  check(await s.call('rpc:add', [1, 2, 3]) === 6, 'CURIE add');
  check(same(await s.call('rpc:echo', 'a', { b: [1, null] }), ['a', { b: [1, null] }]), 'echo');
  check(same(await s.call('rpc:echo', undefined), [null]), 'undefined goes as null');
  check(await s.call('rpc:session') === s.sessionid(), 'rpc#session is ours');
  const r = await Promise.all([s.call('rpc:sleep', 60), s.call('rpc:add', 1, 1)]);
  check(same(r, [60, 2]), 'concurrent calls ' + JSON.stringify(r));
  s.close();
});

await test('callerror_rejects_with_uri_desc_details', async () => {
  const s = await open(demo.url);
  let err = null;
  try { await s.call(RPC + 'fail', 1, 'two'); } catch (e) { err = e; }
  check(err && err.uri === 'http://wamp1.dev/error#fail', 'uri ' + JSON.stringify(err));
  check(err.desc === 'requested failure', 'desc ' + err.desc);
  check(same(err.details, [1, 'two']) && same(err.detail, [1, 'two']), 'details ' + JSON.stringify(err.details));
  err = null;
  try { await s.call(RPC + 'add', 'x'); } catch (e) { err = e; }
  check(err && err.uri === ERR + 'invalid_argument' && typeof err.desc === 'string', 'invalid_argument ' + JSON.stringify(err));
  err = null;
  try { await s.call(RPC + 'nosuch'); } catch (e) { err = e; }
  check(err && err.uri === ERR + 'NoSuchRPCEndpoint' && /nosuch/.test(err.desc), 'no endpoint ' + JSON.stringify(err));
  s.close();
});

await test('pubsub_exclude_eligible_unsubscribe', async () => {
  const a = await open(demo.url), b = await open(demo.url);
  const t = TOPIC + 'node';
  const ga = events(a, t), gb = events(b, t);
  await a.call(RPC + 'echo'); await b.call(RPC + 'echo'); // subscriptions are in
  a.publish(t, { n: 1 }, true); // exclude me
  a.publish(t, { n: 2 }, false); // to everyone
  a.publish(t, { n: 3 }, [b.sessionid()], []); // exclude b, eligible nobody
  a.publish(t, { n: 4 }, [], [a.sessionid()]); // only a
  a.publish(t, { n: 5 }); // the server's default
  await a.call(RPC + 'echo'); await sleep(100);
  const na = ga.map((x) => x[1].n), nb = gb.map((x) => x[1].n);
  check(same(na, [2, 4]), 'a got ' + JSON.stringify(na));
  check(same(nb, [1, 2, 5]), 'b got ' + JSON.stringify(nb));
  check(ga[0][0] === t, 'topic passed to the callback');
  b.unsubscribe(t, gb.cb);
  await b.call(RPC + 'echo');
  a.publish(t, { n: 6 }, false);
  await a.call(RPC + 'echo'); await sleep(100);
  check(same(gb.map((x) => x[1].n), [1, 2, 5]), 'b after unsubscribe ' + JSON.stringify(gb));
  let threw = false;
  try { b.unsubscribe(t); } catch (e) { threw = true; }
  check(threw, 'unsubscribing twice throws');
  a.close(); b.close();
});

await test('reconnects_and_resubscribes', async () => {
  const d = await startDemo();
  const port = d.port, t = TOPIC + 'again';
  const codes = [];
  let connects = 0, first;
  const s = await within(new Promise((resolve) => {
    const sess = wamp1.connect(d.url, (x) => { connects++; if (connects === 1) resolve(x); else first = x.sessionid(); },
      (code) => codes.push(code), { WebSocket, retryDelay: 100, maxRetryDelay: 400, maxRetries: 50 });
    return sess;
  }), 3000, 'first connect');
  const before = s.sessionid();
  const got = events(s, t);
  await s.call(RPC + 'echo');
  const pending = s.call(RPC + 'sleep', 3000).then(() => null, (e) => e);
  await stopDemo(d);
  const lost = await pending;
  check(lost && lost.uri === 'http://wamp1.dev/error#connection-lost', 'pending call ' + JSON.stringify(lost));
  await sleep(300);
  const d2 = await startDemo([], port);
  for (let i = 0; i < 60 && connects < 2; i++) await sleep(50);
  check(connects === 2, 'onconnect again: ' + connects + ' hangups ' + JSON.stringify(codes));
  check(s.sessionid() !== before && first === s.sessionid(), 'a new session id');
  check(codes.includes(wamp1.CONNECTION_LOST_SCHEDULED_RECONNECT), 'hangup codes ' + JSON.stringify(codes));
  const other = await open(d2.url);
  await s.call(RPC + 'echo');
  other.publish(t, 'back', false);
  await other.call(RPC + 'echo'); await sleep(100);
  check(same(got.map((x) => x[1]), ['back']), 're-subscribed: ' + JSON.stringify(got));
  s.close(); other.close();
  check(codes[codes.length - 1] === wamp1.CONNECTION_CLOSED || true, 'closed');
  await stopDemo(d2);
});

await test('gives_up_after_max_retries', async () => {
  const codes = [];
  await within(new Promise((resolve) => {
    wamp1.connect('ws://127.0.0.1:1/', () => {}, (code) => { codes.push(code); if (code === wamp1.CONNECTION_RETRIES_EXCEEDED) resolve(); },
      { WebSocket, retryDelay: 20, maxRetries: 2 });
  }), 5000, 'retries exceeded');
  check(same(codes, [5, 5, 2]), 'codes ' + JSON.stringify(codes));
});

await test('crypto_fallback_matches_node_crypto', async () => {
  for (let i = 0; i < 40; i++) {
    const key = randomBytes(i * 3), msg = randomBytes(i * 17 + (i % 5));
    const want = createHmac('sha256', key).update(msg).digest('hex');
    check(Buffer.from(wamp1.hmacSha256(key, msg)).toString('hex') === want, 'hmac ' + i);
    check(Buffer.from(wamp1.sha256(msg)).toString('hex') === createHash('sha256').update(msg).digest('hex'), 'sha ' + i);
  }
  const dk = Buffer.from(wamp1.pbkdf2Sha256(Buffer.from('Password'), Buffer.from('NaCl'), 1000, 40)).toString('hex');
  check(dk === pbkdf2Sync('Password', 'NaCl', 1000, 40, 'sha256').toString('hex'), 'pbkdf2');
  for (const opts of [{}, { noWebCrypto: true }]) {
    check(await wamp1.authsign('what do ya want for nothing?', 'Jefe', opts) === 'W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=', 'authsign ' + JSON.stringify(opts));
    check(await wamp1.deriveKey('passwd', { salt: 'salt', iterations: 1, keylen: 32 }, opts) === 'VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=', 'deriveKey');
    check(await wamp1.deriveKey('plain', {}, opts) === 'plain', 'unsalted deriveKey');
  }
});

const AUTH = {
  anonymous: { pubsub: [], rpc: [{ uri: RPC + 'add', call: true }] },
  keys: {
    alice: { secret: 's3cret', permissions: { pubsub: [{ uri: TOPIC, prefix: true, pub: true, sub: true }], rpc: [{ uri: RPC, prefix: true, call: true }] } },
    bob: { secret: 'pw', salt: 'salt123', iterations: 100, keylen: 32, permissions: { pubsub: [], rpc: [{ uri: RPC + 'echo', call: true }] } },
  },
};
const tmp = mkdtempSync(join(tmpdir(), 'wamp1-'));
writeFileSync(join(tmp, 'auth.json'), JSON.stringify(AUTH));
const authDemo = await startDemo(['--auth', join(tmp, 'auth.json')]);

function launch(cfg) {
  return within(new Promise((resolve) => {
    const sessionConfig = Object.assign({ WebSocket, maxRetries: 0 }, cfg.sessionConfig || {});
    wamp1.launch(Object.assign({ wsuri: authDemo.url }, cfg, { sessionConfig, onAuthError: (err, s) => { s.close(); resolve({ err }); } }),
      (s) => resolve({ s }));
  }), 5000, 'launch');
}

for (const fallback of [false, true]) {
  const sc = { noWebCrypto: fallback }, tag = fallback ? '_own_sha256' : '_webcrypto';
  await test('cra_launch_right_and_wrong_secret' + tag, async () => {
    const ok = await launch({ appkey: 'alice', appsecret: 's3cret', sessionConfig: sc });
    check(ok.s, 'alice failed: ' + JSON.stringify(ok.err));
    check(ok.s.permissions.rpc[0].uri === RPC, 'permissions ' + JSON.stringify(ok.s.permissions));
    check(await ok.s.call(RPC + 'add', 1, 2) === 3, 'call after login');
    ok.s.close();
    const bad = await launch({ appkey: 'alice', appsecret: 'nope', sessionConfig: sc });
    check(bad.err && bad.err.uri === ERR + 'invalid-signature', 'wrong secret: ' + JSON.stringify(bad.err));
    const none = await launch({ appkey: 'mallory', appsecret: 'x', sessionConfig: sc });
    check(none.err && none.err.uri === ERR + 'no-such-authkey', 'unknown key: ' + JSON.stringify(none.err));
  });
  await test('cra_launch_salted_and_anonymous' + tag, async () => {
    const b = await launch({ appkey: 'bob', appsecret: 'pw', sessionConfig: sc });
    check(b.s, 'bob failed: ' + JSON.stringify(b.err));
    check(same(await b.s.call(RPC + 'echo', 7), [7]), 'bob may echo');
    let e = null;
    try { await b.s.call(RPC + 'add', 1, 2); } catch (x) { e = x; }
    check(e && e.uri === ERR + 'not-authorized', 'bob may not add ' + JSON.stringify(e));
    b.s.close();
    const anon = await launch({ sessionConfig: sc });
    check(anon.s && await anon.s.call(RPC + 'add', 2, 2) === 4, 'anonymous ' + JSON.stringify(anon.err));
    anon.s.close();
  });
}

await test('cra_resubscribes_after_auth_on_reconnect', async () => {
  const d = await startDemo(['--auth', join(tmp, 'auth.json')]);
  const port = d.port, t = TOPIC + 'authed';
  let opens = 0;
  const got = [];
  const s = await within(new Promise((resolve) => {
    wamp1.launch({ wsuri: d.url, appkey: 'alice', appsecret: 's3cret', sessionConfig: { WebSocket, retryDelay: 100, maxRetries: 50 } },
      (x) => { opens++; if (opens === 1) { x.subscribe(t, (tt, ev) => got.push(ev)); resolve(x); } });
  }), 3000, 'launch');
  await stopDemo(d);
  await sleep(200);
  const d2 = await startDemo(['--auth', join(tmp, 'auth.json')], port);
  for (let i = 0; i < 60 && opens < 2; i++) await sleep(50);
  check(opens === 2, 'onOpen again after re-authenticating: ' + opens);
  const pub = await launch({ wsuri: d2.url, appkey: 'alice', appsecret: 's3cret' }).then((r) => r.s);
  await s.call(RPC + 'echo');
  pub.publish(t, 'hi', false);
  await pub.call(RPC + 'echo'); await sleep(100);
  check(same(got, ['hi']), 'event after re-authentication ' + JSON.stringify(got));
  s.close(); pub.close();
  await stopDemo(d2);
});

// AutobahnJS 0.8.2 is on no registry; its login is replayed here step by step as its source
// does it: authreq(appkey, appextra) and auth(signature) as CALLs whose undefined arguments
// JSON.stringify turns into null, ab.deriveKey = CryptoJS.PBKDF2(secret, salt, {keySize: keylen / 4,
// iterations, hasher: SHA256}) in base64, ab.authsign = CryptoJS.HmacSHA256(challenge, key) in
// base64, with npm crypto-js (the CryptoJS it bundles).
let CryptoJS = null;
try { CryptoJS = (await import('crypto-js')).default; } catch (e) { /* npm ci not run since it was added */ }
function rawSession(url) {
  return within(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['wamp']);
    const waiting = new Map();
    let n = 0;
    const call = (...a) => new Promise((res) => { const id = 'c' + (++n); waiting.set(id, res); ws.send(JSON.stringify([2, id, ...a])); });
    ws.on('message', (d) => {
      const m = JSON.parse(d);
      if (m[0] === 0) resolve({ ws, call, welcome: m });
      else if (waiting.has(m[1])) { waiting.get(m[1])(m); waiting.delete(m[1]); }
    });
    ws.on('error', reject);
  }), 3000, 'raw session');
}
if (!CryptoJS) console.log('SKIP autobahnjs_082_login_steps: npm crypto-js is not installed (npm ci)');
else await test('autobahnjs_082_login_steps', async () => {
  const abDeriveKey = (secret, extra) => (extra && extra.salt
    ? CryptoJS.PBKDF2(secret, extra.salt, { keySize: (extra.keylen || 32) / 4, iterations: extra.iterations || 10000, hasher: CryptoJS.algo.SHA256 }).toString(CryptoJS.enc.Base64)
    : secret);
  const abAuthsign = (challenge, secret) => CryptoJS.HmacSHA256(challenge, secret || '').toString(CryptoJS.enc.Base64);
  const AUTHREQ = 'http://api.wamp.ws/procedure#authreq', AUTHP = 'http://api.wamp.ws/procedure#auth';
  for (const [key, secret, ok] of [['alice', 's3cret', true], ['bob', 'pw', true], ['alice', 'wrong', false], ['bob', 's3cret', false]]) {
    const s = await rawSession(authDemo.url);
    const ch = await s.call(AUTHREQ, key, undefined);
    check(ch[0] === 3 && typeof ch[2] === 'string', 'authreq ' + JSON.stringify(ch));
    const sig = abAuthsign(ch[2], abDeriveKey(secret, JSON.parse(ch[2]).authextra));
    const r = await s.call(AUTHP, sig);
    if (ok) check(r[0] === 3 && Array.isArray(r[2].rpc), `${key}/${secret}: ` + JSON.stringify(r));
    else check(r[0] === 4 && r[2] === ERR + 'invalid-signature', `${key}/${secret}: ` + JSON.stringify(r));
    s.ws.close();
  }
  const s = await rawSession(authDemo.url); // ab.launch without appkey: authreq() then auth()
  const a1 = await s.call(AUTHREQ, undefined, undefined);
  const a2 = await s.call(AUTHP, undefined);
  check(a1[0] === 3 && a1[2] === null && a2[0] === 3 && a2[2].rpc[0].uri === RPC + 'add', 'anonymous ' + JSON.stringify([a1, a2]));
  s.ws.close();
});

await test('classic_build_matches_module', async () => {
  const mod = readFileSync('examples/web/wamp1.js', 'utf8');
  const classic = readFileSync('examples/web/wamp1.classic.js', 'utf8');
  const body = mod.split('\n').filter((l) => !l.startsWith('export ')).join('\n');
  check(classic.includes(body), 'wamp1.classic.js is out of date: make examples/web/wamp1.classic.js');
  const ctx = { TextEncoder, setTimeout, clearTimeout, console, btoa };
  ctx.globalThis = ctx;
  vm.createContext(ctx);
  vm.runInContext(classic, ctx);
  check(ctx.wamp1 && same(Object.keys(ctx.wamp1).sort(), Object.keys(wamp1).sort()), 'window.wamp1 has the API');
  check(typeof ctx.wamp1.connect === 'function' && ctx.wamp1.CONNECTION_LOST === 1, 'connect and constants');
});

for (const d of demos) await stopDemo(d);
rmSync(tmp, { recursive: true, force: true });
console.log(`web-node: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
