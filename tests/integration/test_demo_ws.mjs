// JavaScript client tests of build/demo with the npm `ws` package (npm ci first).
//
//   node tests/integration/test_demo_ws.mjs build/demo
//
// Starts `build/demo --port 0`, connects two `ws` clients with subprotocol 'wamp' and checks
// WELCOME, PREFIX with a CURIE call, a publish/subscribe exchange and a deferred sleep call.
// Prints PASS/FAIL per test and ends with `integration-demo-ws: N passed, M failed`.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const DEMO = process.argv[2] || 'build/demo';
const RPC = 'http://wamp1.dev/rpc#';
const TOPIC = 'http://wamp1.dev/topic/';
const SESSION_RE = /^[A-Za-z0-9_-]{16,}$/;

let passed = 0;
let failed = 0;

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

function jsonEqual(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function startDemo(args = []) {
  const proc = spawn(DEMO, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const firstLine = new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', (line) => resolve(line));
    proc.once('exit', (code) => reject(new Error(`demo exited with ${code} before listening: ${stderr}`)));
    proc.once('error', reject);
  });
  return withTimeout(firstLine, 5000, 'the demo\'s first stdout line').then((line) => {
    const m = /^listening on (.+):(\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected first line ${JSON.stringify(line)}`);
    return { proc, host: m[1], port: Number(m[2]) };
  });
}

function stopDemo(demo) {
  return new Promise((resolve) => {
    if (demo.proc.exitCode !== null || demo.proc.signalCode !== null) {
      resolve(demo.proc.exitCode);
      return;
    }
    const killer = setTimeout(() => demo.proc.kill('SIGKILL'), 3000);
    demo.proc.once('exit', (code) => { clearTimeout(killer); resolve(code); });
    demo.proc.kill('SIGTERM');
  });
}

// A small WAMP v1 client over `ws`: queued messages, waits with bounds.
class Client {
  constructor(url) {
    this.url = url;
    this.queue = [];
    this.waiters = [];
    this.closed = null;
    this.nextId = 0;
  }

  open() {
    this.ws = new WebSocket(this.url, ['wamp']);
    this.ws.on('message', (data, isBinary) => {
      let msg;
      try {
        msg = isBinary ? { binary: true } : JSON.parse(data.toString('utf8'));
      } catch (e) {
        msg = { invalid: data.toString('utf8') };
      }
      this.queue.push(msg);
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    return withTimeout(new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    }), 3000, `connecting to ${this.url}`);
  }

  wake() {
    const ws = this.waiters;
    this.waiters = [];
    ws.forEach((w) => w());
  }

  // resolves with the first queued message that matches pred (removing it)
  waitFor(pred, ms, what) {
    return withTimeout(new Promise((resolve, reject) => {
      const look = () => {
        const i = this.queue.findIndex(pred);
        if (i >= 0) {
          resolve(this.queue.splice(i, 1)[0]);
        } else if (this.closed) {
          reject(new Error(`connection closed (${this.closed.code}) while waiting for ${what}`));
        } else {
          this.waiters.push(look);
        }
      };
      look();
    }), ms, what);
  }

  // every message that arrives within ms (plus those already queued)
  async drain(ms) {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.queue;
    this.queue = [];
    return out;
  }

  send(msg) {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  callStart(uri, ...args) {
    const id = `js.${++this.nextId}.${Math.random().toString(36).slice(2, 10)}`;
    this.send([2, id, uri, ...args]);
    return id;
  }

  answer(id, ms = 3000) {
    return this.waitFor((m) => Array.isArray(m) && (m[0] === 3 || m[0] === 4) && m[1] === id, ms,
      `the answer to call ${id}`);
  }

  async call(uri, ...args) {
    const m = await this.answer(this.callStart(uri, ...args));
    check(m[0] === 3, `CALL ${uri} ${JSON.stringify(args)}: expected CALLRESULT, got ${JSON.stringify(m)}`);
    return m[2];
  }

  async sync() {
    await this.call(`${RPC}echo`, 'sync');
  }

  close() {
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

const tests = [];
function test(name, fn) { tests.push({ name, fn }); }

let demo;
let a;
let b;

test('welcome', async () => {
  a = new Client(`ws://${demo.host}:${demo.port}/`);
  b = new Client(`ws://${demo.host}:${demo.port}/`);
  await a.open();
  await b.open();
  for (const [name, c] of [['A', a], ['B', b]]) {
    check(c.ws.protocol === 'wamp', `${name}: selected subprotocol ${JSON.stringify(c.ws.protocol)}`);
    const w = await c.waitFor(() => true, 3000, 'WELCOME');
    check(Array.isArray(w) && w.length === 4 && w[0] === 0, `${name}: first message ${JSON.stringify(w)}`);
    check(typeof w[1] === 'string' && SESSION_RE.test(w[1]), `${name}: sessionId ${JSON.stringify(w[1])}`);
    check(w[2] === 1, `${name}: protocolVersion ${w[2]}`);
    check(typeof w[3] === 'string', `${name}: serverIdent ${JSON.stringify(w[3])}`);
    c.session = w[1];
  }
  check(a.session !== b.session, 'both clients got the same sessionId');
  check(await a.call(`${RPC}session`) === a.session, 'rpc#session differs from WELCOME');
});

test('prefix and CURIE call', async () => {
  a.send([1, 'calc', RPC]);
  check(await a.call('calc:add', 1, 2, 3.5) === 6.5, 'calc:add(1, 2, 3.5)');
  const echoed = await a.call('calc:echo', { k: [1, null, 'é€𝄞'] }, []);
  check(jsonEqual(echoed, [{ k: [1, null, 'é€𝄞'] }, []]), `calc:echo returned ${JSON.stringify(echoed)}`);
  // the prefix is A's alone
  const m = await b.answer(b.callStart('calc:add', 1));
  check(m[0] === 4 && m[2] === 'http://api.wamp.ws/error#NoSuchRPCEndpoint',
    `an undefined prefix on B: ${JSON.stringify(m)}`);
});

test('publish and subscribe', async () => {
  const t = `${TOPIC}js`;
  a.send([1, 't', TOPIC]);
  a.send([5, 't:js']);
  b.send([5, t]);
  await a.sync();
  await b.sync();
  // B publishes (excluded by default); A receives the full topic URI
  b.send([7, t, { from: 'B', n: 1 }]);
  const ev = await a.waitFor((m) => m[0] === 8, 2000, 'an EVENT at A');
  check(jsonEqual(ev, [8, t, { from: 'B', n: 1 }]), `EVENT at A: ${JSON.stringify(ev)}`);
  // A publishes with a CURIE and excludeMe false: both receive
  a.send([7, 't:js', 'to all', false]);
  for (const [name, c] of [['A', a], ['B', b]]) {
    const e = await c.waitFor((m) => m[0] === 8, 2000, `an EVENT at ${name}`);
    check(jsonEqual(e, [8, t, 'to all']), `EVENT at ${name}: ${JSON.stringify(e)}`);
  }
  // eligible: only B
  a.send([7, t, 'only B', [], [b.session]]);
  const e2 = await b.waitFor((m) => m[0] === 8, 2000, 'an EVENT at B');
  check(jsonEqual(e2, [8, t, 'only B']), `EVENT at B: ${JSON.stringify(e2)}`);
  const stray = (await a.drain(200)).filter((m) => m[0] === 8);
  check(stray.length === 0, `A received ${JSON.stringify(stray)}`);
  // after UNSUBSCRIBE nothing more for B
  b.send([6, t]);
  await b.sync();
  a.send([7, t, 'after unsubscribe', false]);
  await a.waitFor((m) => m[0] === 8, 2000, 'an EVENT at A');
  const late = (await b.drain(200)).filter((m) => m[0] === 8);
  check(late.length === 0, `B received after UNSUBSCRIBE: ${JSON.stringify(late)}`);
});

test('deferred sleep call', async () => {
  const t0 = Date.now();
  const slow = a.callStart(`${RPC}sleep`, 300);
  const fast = a.callStart(`${RPC}sleep`, 50);
  // other calls, on this connection and another, are answered meanwhile
  check(jsonEqual(await a.call(`${RPC}echo`, 'meanwhile'), ['meanwhile']), 'echo during sleeps');
  check(await b.call(`${RPC}add`, 2, 2) === 4, 'B during A\'s sleeps');
  check(Date.now() - t0 < 250, `calls during sleeps took ${Date.now() - t0} ms`);
  const first = await a.waitFor((m) => (m[0] === 3 || m[0] === 4) && (m[1] === slow || m[1] === fast), 2000,
    'a sleep result');
  check(first[1] === fast && jsonEqual(first, [3, fast, 50]), `first sleep result ${JSON.stringify(first)}`);
  const second = await a.answer(slow, 2000);
  const dt = Date.now() - t0;
  check(jsonEqual(second, [3, slow, 300]), `second sleep result ${JSON.stringify(second)}`);
  check(dt >= 280 && dt < 1000, `sleep(300) answered after ${dt} ms`);
  const bad = await a.answer(a.callStart(`${RPC}sleep`, 5001));
  check(bad[0] === 4 && bad[2] === 'http://api.wamp.ws/error#invalid_argument', `sleep(5001): ${JSON.stringify(bad)}`);
});

test('clean shutdown', async () => {
  const closed = Promise.all([a, b].map((c) => c.waitFor(() => false, 3000, 'close').catch(() => c.closed)));
  const exited = stopDemo(demo);
  const [ca, cb] = await withTimeout(closed, 3000, 'the close frames');
  check(ca && ca.code === 1001, `A: close code ${ca && ca.code}`);
  check(cb && cb.code === 1001, `B: close code ${cb && cb.code}`);
  const code = await withTimeout(exited, 3000, 'the demo to exit');
  check(code === 0, `exit status ${code}`);
});

async function main() {
  const started = Date.now();
  const hard = setTimeout(() => {
    console.log('FAIL suite: over 30 s');
    console.log(`integration-demo-ws: ${passed} passed, ${failed + 1} failed`);
    if (demo) demo.proc.kill('SIGKILL');
    process.exit(1);
  }, 30000);
  try {
    demo = await startDemo();
  } catch (e) {
    console.log(`FAIL start: ${e.message}`);
    failed++;
  }
  if (demo) {
    for (const { name, fn } of tests) {
      try {
        await withTimeout(fn(), 10000, name);
        passed++;
        console.log(`PASS ${name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}: ${e.message}`);
      }
    }
    for (const c of [a, b]) if (c) c.close();
    if (demo.proc.exitCode === null && demo.proc.signalCode === null) await stopDemo(demo);
  }
  clearTimeout(hard);
  console.log(`runtime ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`integration-demo-ws: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
