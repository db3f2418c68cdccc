// The demo page in a real headless Chromium, driven over the Chrome DevTools Protocol with
// npm `ws` (no other package).
//
//   node tests/web/test_browser.mjs build/demo [--chromium /usr/bin/chromium] [--screenshot FILE]
//
// Starts build/demo and Chromium, opens the page at / in two browser contexts (separate
// cookies and storage, like two people) and asserts through the page: a call shows its
// result, an error shows, a chat message typed in one context appears in the other, the live
// table fills from rpc#stats; then the server restarts on the same port, twice (the second time
// with --auth), and both pages reconnect by themselves (the chat still works); a WAMP-CRA login succeeds with the right secret and fails
// with a wrong one, and the permissions then apply. A screenshot of the page is written to
// build/web-demo.png (or FILE). Prints PASS/FAIL per step, ends with
// `web-browser: N passed, M failed`; exits 77 (skip) when Chromium is missing.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const DEMO = args[0] && !args[0].startsWith('--') ? args[0] : 'build/demo';
const CHROMIUM = opt('--chromium', process.env.CHROMIUM || '/usr/bin/chromium');
const SHOT = opt('--screenshot', 'build/web-demo.png');
let passed = 0, failed = 0;
const procs = [];

if (!existsSync(CHROMIUM)) {
  console.log(`SKIP web-browser: ${CHROMIUM} is not installed (Debian package chromium)`);
  process.exit(77);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function within(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timed out: ' + what)), ms); })])
    .finally(() => clearTimeout(t));
}
function kill(proc, sig = 'SIGTERM') {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const k = setTimeout(() => proc.kill('SIGKILL'), 3000);
    proc.once('exit', () => { clearTimeout(k); resolve(); });
    proc.kill(sig);
  });
}

function startDemo(extra, port) {
  const proc = spawn(DEMO, ['--port', String(port), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  return within(new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', (c) => reject(new Error(`demo exited ${c}: ${err}`)));
  }), 5000, 'demo start').then((line) => ({ proc, port: Number(/:(\d+)$/.exec(line)[1]) }));
}

// ---- a small CDP client ----
class Cdp {
  constructor(url) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.id = 0;
    this.waiting = new Map();
    this.ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.id && this.waiting.has(m.id)) {
        const { resolve, reject } = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.error) reject(new Error(m.error.message)); else resolve(m.result);
      }
    });
  }
  ready() { return new Promise((resolve, reject) => { this.ws.once('open', resolve); this.ws.once('error', reject); }); }
  send(method, params = {}, sessionId) {
    const id = ++this.id;
    this.ws.send(JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params }));
    return within(new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject })), 10000, method);
  }
}

class Page {
  constructor(cdp, sessionId) { this.cdp = cdp; this.sid = sessionId; }
  async eval(expr) {
    const r = await this.cdp.send('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true }, this.sid);
    if (r.exceptionDetails) throw new Error('page: ' + (r.exceptionDetails.exception && r.exceptionDetails.exception.description || r.exceptionDetails.text));
    return r.result.value;
  }
  text(id) { return this.eval(`(document.getElementById(${JSON.stringify(id)}) || {}).textContent`); }
  async waitText(id, pred, what, ms = 5000) {
    const end = Date.now() + ms;
    let t;
    while (Date.now() < end) {
      t = await this.text(id);
      if (t !== undefined && pred(t)) return t;
      await sleep(50);
    }
    throw new Error(`${what}: #${id} is ${JSON.stringify(t)}`);
  }
  fill(id, v) { return this.eval(`document.getElementById(${JSON.stringify(id)}).value = ${JSON.stringify(v)}`); }
  click(id) { return this.eval(`document.getElementById(${JSON.stringify(id)}).click()`); }
}

async function step(name, fn) {
  try {
    await within(fn(), 20000, name);
    passed++;
    console.log('PASS ' + name);
  } catch (e) {
    failed++;
    console.log('FAIL ' + name + ': ' + (e && e.message || e));
  }
}

const profile = mkdtempSync(join(tmpdir(), 'wamp1-chromium-'));
const authFile = join(profile, 'auth.json');
writeFileSync(authFile, JSON.stringify({
  keys: {
    alice: { secret: 's3cret', permissions: { pubsub: [{ uri: 'http://wamp1.dev/topic/', prefix: true, pub: true, sub: true }], rpc: [{ uri: 'http://wamp1.dev/rpc#', prefix: true, call: true }] } },
    bob: { secret: 'pw', salt: 'salt123', iterations: 100, keylen: 32, permissions: { pubsub: [], rpc: [{ uri: 'http://wamp1.dev/rpc#echo', call: true }] } },
  },
}));

let demo = await startDemo([], 0);
const port = demo.port;
const chrome = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--user-data-dir=' + profile,
  '--remote-debugging-port=0', '--window-size=1100,900', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
procs.push(chrome);
chrome.stderr.on('data', () => {});
let cdp;
const pages = [];
try {
  const activePort = join(profile, 'DevToolsActivePort');
  for (let i = 0; i < 200 && !existsSync(activePort); i++) await sleep(50);
  const [dport, path] = readFileSync(activePort, 'utf8').split('\n');
  cdp = new Cdp(`ws://127.0.0.1:${dport}${path}`);
  await within(cdp.ready(), 5000, 'CDP connection');
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 2; i++) {
    const { browserContextId } = await cdp.send('Target.createBrowserContext');
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const p = new Page(cdp, sessionId);
    await cdp.send('Page.enable', {}, sessionId);
    await cdp.send('Runtime.enable', {}, sessionId);
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1100, height: 860, deviceScaleFactor: 1, mobile: false }, sessionId);
    await cdp.send('Page.navigate', { url }, sessionId);
    pages.push(p);
  }
  const [a, b] = pages;

  await step('pages_connect_with_their_own_sessions', async () => {
    for (const p of pages) await p.waitText('state', (t) => t === 'open', 'state');
    const sa = await a.waitText('session', (t) => /^[A-Za-z0-9_-]{16,}$/.test(t), 'session id');
    const sb = await b.waitText('session', (t) => /^[A-Za-z0-9_-]{16,}$/.test(t), 'session id');
    if (sa === sb) throw new Error('both contexts show session ' + sa);
  });

  await step('call_shows_result', async () => {
    await a.fill('add-a', '2'); await a.fill('add-b', '40'); await a.click('add-btn');
    await a.waitText('add-out', (t) => t === '= 42', 'rpc#add result');
    await a.fill('echo-in', 'héllo <b>'); await a.click('echo-btn');
    await a.waitText('echo-out', (t) => t === '["héllo <b>"]', 'rpc#echo result');
  });

  await step('error_shows', async () => {
    await b.fill('add-a', 'two'); await b.click('add-btn');
    await b.waitText('add-out', (t) => /^error invalid_argument: /.test(t), 'rpc#add error');
    const cls = await b.eval(`document.getElementById('add-out').className`);
    if (!/err/.test(cls)) throw new Error('error not marked: ' + cls);
  });

  await step('chat_between_contexts', async () => {
    await b.fill('nick', 'bea'); await a.fill('nick', 'ann');
    await a.fill('chat-in', 'hello from ann'); await a.click('chat-send');
    await b.waitText('chat-log', (t) => t.includes('annhello from ann'), 'chat in the other context');
    await a.waitText('chat-log', (t) => t.includes('annhello from ann'), 'chat in the sender');
    await b.fill('chat-in', '<img src=x onerror=alert(1)>'); await b.click('chat-send');
    await a.waitText('chat-log', (t) => t.includes('bea<img src=x'), 'markup shown as text');
    const imgs = await a.eval(`document.querySelectorAll('#chat-log img').length`);
    if (imgs !== 0) throw new Error('chat text became markup');
  });

  await step('live_stats_fill', async () => {
    await a.click('burst');
    await a.waitText('stats-out', (t) => /connections\s*\d+ \/ \d+/.test(t.replace(/\s+/g, ' ')) || /connections\d+ \/ \d+/.test(t), 'stats table', 4000);
    const h = await a.eval(`(() => { const c = document.getElementById('chart'); return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 2 && v > 200 && v < 250); })()`);
    if (!h) throw new Error('nothing drawn on the chart');
  });

  await step('screenshot', async () => {
    for (let i = 0; i < 3; i++) { await sleep(1000); await a.click('burst'); } // a few samples on the chart
    await sleep(1100);
    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' }, a.sid);
    writeFileSync(SHOT, Buffer.from(data, 'base64'));
  });

  await step('fits_a_phone', async () => {
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 390, height: 844, deviceScaleFactor: 2, mobile: true }, b.sid);
    await sleep(300);
    const w = await b.eval('document.documentElement.scrollWidth');
    if (w > 390) throw new Error('the page is ' + w + ' px wide on a 390 px phone');
    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' }, b.sid);
    writeFileSync(SHOT.replace(/\.png$/, '-phone.png'), Buffer.from(data, 'base64'));
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1100, height: 860, deviceScaleFactor: 1, mobile: false }, b.sid);
  });

  await step('reconnects_after_server_restart', async () => {
    const before = await a.text('session');
    await kill(demo.proc);
    await a.waitText('state', (t) => t === 'reconnecting', 'state after the server went away');
    demo = await startDemo([], port);
    for (const p of pages) await p.waitText('state', (t) => t === 'open', 'state after the restart', 10000);
    const after = await a.waitText('session', (t) => /^[A-Za-z0-9_-]{16,}$/.test(t), 'new session id');
    if (after === before) throw new Error('same session id after a restart');
    await b.fill('chat-in', 'still here'); await b.click('chat-send');
    await a.waitText('chat-log', (t) => t.includes('beastill here'), 'chat after reconnecting (re-subscribed)');
  });

  await step('reconnects_to_a_server_with_auth', async () => {
    const before = await a.text('session');
    await kill(demo.proc);
    await a.waitText('state', (t) => t === 'reconnecting', 'state after the server went away');
    demo = await startDemo(['--auth', authFile], port);
    for (const p of pages) await p.waitText('state', (t) => t === 'open', 'state after the restart', 10000);
    const after = await a.waitText('session', (t) => /^[A-Za-z0-9_-]{16,}$/.test(t), 'new session id');
    if (after === before) throw new Error('same session id after a restart');
  });

  await step('cra_login_right_and_wrong_secret', async () => {
    await a.click('add-btn');
    await a.waitText('add-out', (t) => /not-authorized/.test(t), 'a call before logging in');
    await a.fill('login-key', 'alice'); await a.fill('login-secret', 's3cret'); await a.click('login-btn');
    await a.waitText('login-out', (t) => t.startsWith('authenticated as alice'), 'login with the right secret');
    await b.fill('login-key', 'alice'); await b.fill('login-secret', 'wrong'); await b.click('login-btn');
    await b.waitText('login-out', (t) => /login failed: invalid-signature/.test(t), 'login with a wrong secret');
    await a.fill('add-a', '20'); await a.fill('add-b', '22'); await a.click('add-btn');
    await a.waitText('add-out', (t) => t === '= 42', 'a call after logging in');
    await b.fill('add-a', '1'); await b.click('add-btn');
    await b.waitText('add-out', (t) => /not-authorized/.test(t), 'a call after a failed login');
  });

  await step('cra_salted_login_and_permissions', async () => {
    await b.fill('login-key', 'bob'); await b.fill('login-secret', 'pw'); await b.click('login-btn');
    await b.waitText('login-out', (t) => t.startsWith('authenticated as bob'), 'salted login');
    await b.fill('echo-in', 'ok'); await b.click('echo-btn');
    await b.waitText('echo-out', (t) => t === '["ok"]', 'bob may echo');
    await b.fill('add-a', '1'); await b.click('add-btn');
    await b.waitText('add-out', (t) => /not-authorized/.test(t), 'bob may not add');
  });

  await step('chat_after_login_resubscribed', async () => {
    await a.fill('chat-in', 'back again'); await a.click('chat-send');
    await a.waitText('chat-log', (t) => t.includes('annback again'), 'own chat message after re-login');
  });
} catch (e) {
  failed++;
  console.log('FAIL setup: ' + (e && e.message || e));
} finally {
  if (cdp) {
    // a clean shutdown takes Chromium's helper processes with it
    try { await within(cdp.send('Browser.close'), 3000, 'Browser.close'); } catch (e) { /* killed below */ }
    try { cdp.ws.close(); } catch (e) { /* gone */ }
  }
  for (const p of procs) await kill(p);
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch (e) {
    console.log('note: could not remove ' + profile + ': ' + e.message);
  }
}
console.log(`web-browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
