/* wamp1.js - a small WAMP v1 client for browsers and Node, without dependencies.
 *
 * Its API follows AutobahnJS 0.8 (ab.connect, session.call/subscribe/unsubscribe/publish/
 * prefix/authreq/auth, ab.launch), with Promises instead of when.js:
 *
 *   import wamp1 from "./wamp1.js";        (or <script src="wamp1.classic.js">: window.wamp1)
 *   wamp1.connect("ws://host:8080/", (session) => {
 *       session.prefix("rpc", "http://wamp1.dev/rpc#");
 *       session.call("rpc:add", 2, 3).then((sum) => ..., (err) => err.uri, err.desc, err.details);
 *       session.subscribe("http://wamp1.dev/topic/chat", (topic, event) => ...);
 *       session.publish("http://wamp1.dev/topic/chat", {text: "hi"}, true);   (exclude me)
 *   }, (code, reason, detail) => ..., {maxRetries: 10, retryDelay: 1000});
 *
 * Reconnection: after a lost connection it retries with exponential backoff (retryDelay,
 * doubling up to maxRetryDelay, with jitter), up to maxRetries times in a row (-1: forever);
 * the same session object then re-sends its PREFIXes and SUBSCRIBEs (unless
 * options.resubscribe is false: call session.resubscribe() yourself, after authenticating)
 * and onconnect runs again. Pending calls of a lost connection reject with
 * uri "http://wamp1.dev/error#connection-lost".
 * WAMP-CRA: session.authreq(authKey, extra) -> challenge, wamp1.deriveKey(secret,
 * authextra) and session.authsign(challenge, key) -> signature (Promises: WebCrypto, or a
 * small SHA-256 of our own where crypto.subtle is missing, as on plain http:// from another
 * host), session.auth(signature) -> permissions; wamp1.launch({wsuri, appkey, appsecret},
 * onOpen, onClose) does it all, as ab.launch.
 * Node (18+): pass the WebSocket class of npm "ws" as options.WebSocket when the global
 * one is missing. */

const CONNECTION_CLOSED = 0, CONNECTION_LOST = 1, CONNECTION_RETRIES_EXCEEDED = 2, CONNECTION_UNREACHABLE = 3,
    CONNECTION_UNSUPPORTED = 4, CONNECTION_UNREACHABLE_SCHEDULED_RECONNECT = 5,
    CONNECTION_LOST_SCHEDULED_RECONNECT = 6;
const AUTHREQ = "http://api.wamp.ws/procedure#authreq", AUTH = "http://api.wamp.ws/procedure#auth";
const IDCHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function newid() {
    let id = "";
    for (let i = 0; i < 16; i++) id += IDCHARS.charAt(Math.floor(Math.random() * IDCHARS.length));
    return id;
}

/* ---- crypto: WebCrypto, or our own SHA-256 where it is missing ---- */

const utf8 = (s) => new TextEncoder().encode(String(s));

function base64(bytes) {
    const b = new Uint8Array(bytes);
    let s = "";
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    if (typeof btoa === "function") return btoa(s);
    return Buffer.from(b).toString("base64");
}

const K256 = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2]);

/* SHA-256 of a Uint8Array (FIPS 180-4), for contexts without crypto.subtle */
function sha256(msg) {
    const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
        0x1f83d9ab, 0x5be0cd19]);
    const n = msg.length, total = ((n + 9 + 63) >> 6) << 6;
    const p = new Uint8Array(total);
    p.set(msg);
    p[n] = 0x80;
    const dv = new DataView(p.buffer);
    dv.setUint32(total - 8, Math.floor(n / 0x20000000));
    dv.setUint32(total - 4, (n << 3) >>> 0);
    const w = new Uint32Array(64);
    const ror = (x, k) => (x >>> k) | (x << (32 - k));
    for (let off = 0; off < total; off += 64) {
        for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + 4 * i);
        for (let i = 16; i < 64; i++) {
            const a = w[i - 15], b = w[i - 2];
            w[i] = w[i - 16] + (ror(a, 7) ^ ror(a, 18) ^ (a >>> 3)) + w[i - 7] + (ror(b, 17) ^ ror(b, 19) ^ (b >>> 10));
        }
        let [a, b, c, d, e, f, g, hh] = h;
        for (let i = 0; i < 64; i++) {
            const t1 = (hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i]) >>> 0;
            const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
            hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]);
    return out;
}

function hmacSha256(key, msg) {
    if (key.length > 64) key = sha256(key);
    const ipad = new Uint8Array(64 + msg.length), opad = new Uint8Array(96);
    for (let i = 0; i < 64; i++) {
        const k = i < key.length ? key[i] : 0;
        ipad[i] = k ^ 0x36;
        opad[i] = k ^ 0x5c;
    }
    ipad.set(msg, 64);
    opad.set(sha256(ipad), 64);
    return sha256(opad);
}

function pbkdf2Sha256(pw, salt, iterations, len) {
    const out = new Uint8Array(len);
    for (let block = 1, at = 0; at < len; block++) {
        const s = new Uint8Array(salt.length + 4);
        s.set(salt);
        new DataView(s.buffer).setUint32(salt.length, block);
        let u = hmacSha256(pw, s);
        const t = u.slice();
        for (let i = 1; i < iterations; i++) {
            u = hmacSha256(pw, u);
            for (let j = 0; j < 32; j++) t[j] ^= u[j];
        }
        out.set(t.subarray(0, Math.min(32, len - at)), at);
        at += 32;
    }
    return out;
}

function subtle(options) {
    if (options && options.noWebCrypto) return null;
    const c = globalThis.crypto;
    return c && c.subtle ? c.subtle : null;
}

/* base64(HMAC-SHA256(key, challenge)): the WAMP-CRA signature (a Promise). */
async function authsign(challenge, key, options) {
    const sub = subtle(options);
    if (!sub) return base64(hmacSha256(utf8(key), utf8(challenge)));
    const k = await sub.importKey("raw", utf8(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return base64(await sub.sign("HMAC", k, utf8(challenge)));
}

/* The signing key of a salted secret: base64(PBKDF2-HMAC-SHA256(secret, salt, iterations,
   keylen)), or the secret itself without extra.salt (a Promise), as ab.deriveKey. */
async function deriveKey(secret, extra, options) {
    if (!extra || !extra.salt) return secret;
    const keylen = extra.keylen || 32, iterations = extra.iterations || 10000;
    const sub = subtle(options);
    if (!sub) return base64(pbkdf2Sha256(utf8(secret), utf8(extra.salt), iterations, keylen));
    const k = await sub.importKey("raw", utf8(secret), "PBKDF2", false, ["deriveBits"]);
    const bits = await sub.deriveBits({ name: "PBKDF2", salt: utf8(extra.salt), iterations, hash: "SHA-256" }, k,
        keylen * 8);
    return base64(bits);
}

/* ---- the session ---- */

class Session {
    constructor(wsuri, options) {
        this._wsuri = wsuri;
        this._options = options || {};
        this._ws = null;
        this._session_id = null;
        this._server = null;
        this._calls = new Map();
        this._subscriptions = new Map(); /* full topic URI -> [callbacks] */
        this._prefixes = new Map();
        this.state = "connecting";
    }

    sessionid() { return this._session_id; }
    wsuri() { return this._wsuri; }
    serverident() { return this._server; }

    resolve(curie) {
        const i = curie.indexOf(":");
        if (i >= 0) {
            const uri = this._prefixes.get(curie.substring(0, i));
            if (uri !== undefined) return uri + curie.substring(i + 1);
        }
        return curie;
    }

    shrink(uri) {
        for (const [p, u] of this._prefixes) if (uri.startsWith(u)) return p + ":" + uri.substring(u.length);
        return uri;
    }

    _send(msg) {
        if (!this._ws || this.state !== "open") throw new Error("wamp1: session not open");
        this._ws.send(JSON.stringify(msg));
    }

    prefix(prefix, uri) {
        this._prefixes.set(prefix, uri);
        if (this.state === "open") this._send([1, prefix, uri]);
    }

    call(procuri, ...args) {
        return new Promise((resolve, reject) => {
            if (this.state !== "open") {
                reject({ uri: "http://wamp1.dev/error#not-connected", desc: "the session is not open" });
                return;
            }
            let id;
            do id = newid(); while (this._calls.has(id));
            this._calls.set(id, { resolve, reject });
            this._send([2, id, procuri].concat(args.map((a) => (a === undefined ? null : a))));
        });
    }

    subscribe(topicuri, callback) {
        const uri = this.resolve(topicuri);
        let list = this._subscriptions.get(uri);
        if (!list) {
            list = [];
            this._subscriptions.set(uri, list);
            if (this.state === "open") this._send([5, topicuri]);
        }
        if (list.indexOf(callback) < 0) list.push(callback);
    }

    unsubscribe(topicuri, callback) {
        const uri = this.resolve(topicuri);
        const list = this._subscriptions.get(uri);
        if (!list) throw new Error("wamp1: not subscribed to " + topicuri);
        if (callback !== undefined) {
            const i = list.indexOf(callback);
            if (i < 0) throw new Error("wamp1: callback not subscribed to " + topicuri);
            list.splice(i, 1);
        }
        if (callback === undefined || list.length === 0) {
            this._subscriptions.delete(uri);
            if (this.state === "open") this._send([6, topicuri]);
        }
    }

    /* publish(topic, event), (topic, event, excludeMe), (topic, event, exclude[], eligible[]) */
    publish(topicuri, event, exclude, eligible) {
        const msg = [7, topicuri, event === undefined ? null : event];
        if (typeof exclude === "boolean") msg.push(exclude);
        else if (exclude !== undefined || eligible !== undefined) {
            msg.push(exclude || []);
            if (eligible !== undefined) msg.push(eligible);
        }
        this._send(msg);
    }

    authreq(appkey, extra) { return this.call(AUTHREQ, appkey === undefined ? null : appkey, extra === undefined ? null : extra); }
    authsign(challenge, secret) { return authsign(challenge, secret === undefined ? "" : secret, this._options); }
    auth(signature) { return this.call(AUTH, signature === undefined ? null : signature); }

    /* after a reconnection: the PREFIXes and SUBSCRIBEs again */
    resubscribe() {
        for (const [p, u] of this._prefixes) this._send([1, p, u]);
        for (const uri of this._subscriptions.keys()) this._send([5, uri]);
    }

    close() {
        this._closing = true;
        if (this._ws) this._ws.close(1000);
    }

    _lost(desc) {
        const calls = this._calls;
        this._calls = new Map();
        for (const d of calls.values()) d.reject({ uri: "http://wamp1.dev/error#connection-lost", desc });
    }

    _onmessage(data) {
        let m;
        try { m = JSON.parse(data); } catch (e) { return; }
        if (!Array.isArray(m)) return;
        if (m[0] === 0) {
            this._session_id = m[1];
            this._server = m[3];
            this.state = "open";
            if (this._options.resubscribe !== false) this.resubscribe();
            if (this._onwelcome) this._onwelcome();
        } else if (m[0] === 3 || m[0] === 4) {
            const d = this._calls.get(m[1]);
            if (!d) return;
            this._calls.delete(m[1]);
            if (m[0] === 3) d.resolve(m[2]);
            else {
                const err = { uri: m[2], desc: m[3] };
                if (m.length > 4) { err.details = m[4]; err.detail = m[4]; }
                d.reject(err);
            }
        } else if (m[0] === 8) {
            const list = this._subscriptions.get(this.resolve(m[1]));
            if (list) for (const cb of list.slice()) cb(m[1], m[2]);
        }
    }
}

/* connect(wsuri, onconnect(session), onhangup(code, reason, detail), options): starts
   connecting and returns the session (the same object across reconnections). */
function connect(wsuri, onconnect, onhangup, options) {
    if (!onconnect) throw new Error("wamp1: onConnect handler required");
    const o = Object.assign({ maxRetries: 10, retryDelay: 1000, maxRetryDelay: 30000 }, options || {});
    const WS = o.WebSocket || globalThis.WebSocket;
    const session = new Session(wsuri, o);
    const hangup = onhangup || (() => {});
    let retries = 0;
    if (!WS) {
        hangup(CONNECTION_UNSUPPORTED, "no WebSocket in this environment (pass options.WebSocket)");
        return session;
    }
    const open = () => {
        let ws, welcomed = false;
        try {
            ws = new WS(wsuri, o.skipSubprotocolAnnounce ? undefined : ["wamp"]);
        } catch (e) {
            hangup(CONNECTION_UNSUPPORTED, String(e));
            return;
        }
        session._ws = ws;
        session.state = "connecting";
        session._onwelcome = () => {
            welcomed = true;
            retries = 0;
            onconnect(session);
        };
        ws.onopen = () => {
            if (!o.skipSubprotocolCheck && ws.protocol !== "wamp") {
                session._closing = true;
                ws.close(1000);
                hangup(CONNECTION_UNSUPPORTED, "the server did not select the subprotocol wamp");
            }
        };
        ws.onmessage = (e) => session._onmessage(typeof e.data === "string" ? e.data : String(e.data));
        ws.onerror = () => {};
        ws.onclose = (e) => {
            const was = session.state;
            session.state = "closed";
            session._ws = null;
            session._lost("the connection was lost");
            if (session._closing) {
                if (was !== "closed") hangup(CONNECTION_CLOSED, "closed", e && e.reason);
                return;
            }
            if (o.maxRetries >= 0 && retries >= o.maxRetries) {
                hangup(CONNECTION_RETRIES_EXCEEDED, "maximum reconnection attempts reached", e && e.reason);
                return;
            }
            const base = Math.min(o.maxRetryDelay, o.retryDelay * Math.pow(2, retries));
            const delay = Math.round(base * (0.75 + Math.random() * 0.5));
            retries++;
            session.state = "waiting";
            hangup(welcomed ? CONNECTION_LOST_SCHEDULED_RECONNECT : CONNECTION_UNREACHABLE_SCHEDULED_RECONNECT,
                "reconnecting in " + delay + " ms (attempt " + retries + ")",
                { delay, retries, maxretries: o.maxRetries });
            session._timer = setTimeout(open, delay);
        };
    };
    const close = session.close.bind(session);
    session.close = () => {
        session._closing = true;
        if (session._timer) clearTimeout(session._timer);
        if (session._ws) close();
        else if (session.state !== "closed") {
            session.state = "closed";
            hangup(CONNECTION_CLOSED, "closed");
        }
    };
    open();
    return session;
}

/* launch({wsuri, appkey, appsecret, appextra, sessionConfig}, onOpen(session), onClose):
   connect and authenticate with WAMP-CRA (anonymously without appkey), as ab.launch;
   subscriptions are restored after each authentication. */
function launch(appConfig, onOpen, onClose) {
    const cfg = Object.assign({}, appConfig.sessionConfig || {}, { resubscribe: false });
    return connect(appConfig.wsuri, async (session) => {
        try {
            if (!appConfig.appkey) {
                await session.authreq();
                session.permissions = await session.auth();
            } else {
                const challenge = await session.authreq(appConfig.appkey, appConfig.appextra);
                let signature;
                if (typeof appConfig.appsecret === "function") signature = await appConfig.appsecret(challenge);
                else {
                    const key = await deriveKey(appConfig.appsecret, JSON.parse(challenge).authextra, cfg);
                    signature = await session.authsign(challenge, key);
                }
                session.permissions = await session.auth(signature);
            }
        } catch (err) {
            if (appConfig.onAuthError) appConfig.onAuthError(err, session);
            else if (typeof console !== "undefined") console.log("wamp1: authentication failed", err);
            return;
        }
        session.resubscribe();
        if (onOpen) onOpen(session);
    }, onClose, cfg);
}

const wamp1 = {
    connect, launch, deriveKey, authsign, Session, sha256, hmacSha256, pbkdf2Sha256,
    CONNECTION_CLOSED, CONNECTION_LOST, CONNECTION_RETRIES_EXCEEDED, CONNECTION_UNREACHABLE,
    CONNECTION_UNSUPPORTED, CONNECTION_UNREACHABLE_SCHEDULED_RECONNECT, CONNECTION_LOST_SCHEDULED_RECONNECT,
};

export { connect, launch, deriveKey, authsign, Session, sha256, hmacSha256, pbkdf2Sha256 };
export default wamp1;
