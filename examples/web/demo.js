// demo.js - the demo page: connection state, rpc#add / rpc#echo, a chat, a live chart of
// the server's rpc#stats, and a WAMP-CRA login. Plain JavaScript on wamp1.js, no build step.
import wamp1 from "./wamp1.js";

const $ = (id) => document.getElementById(id);
const RPC = "http://wamp1.dev/rpc#", CHAT = "http://wamp1.dev/topic/chat";
const params = new URLSearchParams(location.search);
const wsuri = params.get("ws") || (location.protocol === "https:" ? "wss://" : "ws://") + (location.host || "127.0.0.1:8080") + "/";

let session = null, login = null;

function show(el, text, cls) {
    el.textContent = text;
    el.className = "out" + (cls ? " " + cls : "");
}
const errText = (e) => (e && e.uri ? e.uri.replace(/^.*#/, "") + ": " + e.desc : String(e && e.message || e));
function setState(s) {
    $("state").textContent = s;
    $("state").dataset.state = s;
}

// a value typed in a field: JSON when it parses (2, "x", [1]), else the text itself
function value(text) {
    try { return JSON.parse(text); } catch (e) { return text; }
}

async function doLogin(key, secret) {
    show($("login-out"), "authenticating...");
    try {
        let perms;
        if (key === null) {
            await session.authreq();
            perms = await session.auth();
        } else {
            const challenge = await session.authreq(key);
            const k = await wamp1.deriveKey(secret, JSON.parse(challenge).authextra);
            perms = await session.auth(await session.authsign(challenge, k));
        }
        login = { key, secret };
        const n = (perms.rpc || []).length + (perms.pubsub || []).length;
        show($("login-out"), "authenticated as " + (key === null ? "anonymous" : key) + " (" + n + " permissions)", "ok");
        session.resubscribe(); // subscriptions refused before authenticating go out again
        return true;
    } catch (e) {
        login = null;
        show($("login-out"), "login failed: " + errText(e), "err");
        return false;
    }
}

function onChat(topic, ev) {
    const li = document.createElement("li");
    const b = document.createElement("b");
    b.textContent = ev && ev.from ? String(ev.from) : "?";
    li.appendChild(b);
    li.appendChild(document.createTextNode(ev && ev.text !== undefined ? String(ev.text) : JSON.stringify(ev)));
    const log = $("chat-log");
    log.appendChild(li);
    while (log.children.length > 200) log.removeChild(log.firstChild);
    log.scrollTop = log.scrollHeight;
}

session = wamp1.connect(wsuri, (s) => {
    setState("open");
    $("session").textContent = s.sessionid();
    $("server").textContent = s.serverident() || "";
    s.prefix("rpc", RPC);
    s.subscribe(CHAT, onChat);
    if (login) doLogin(login.key, login.secret); // a new server session: log in again
}, (code, reason) => {
    setState(code === wamp1.CONNECTION_LOST_SCHEDULED_RECONNECT || code === wamp1.CONNECTION_UNREACHABLE_SCHEDULED_RECONNECT
        ? "reconnecting" : "closed");
    $("session").textContent = "-";
    $("server").textContent = reason || "";
}, { maxRetries: -1, retryDelay: 500, maxRetryDelay: 5000, resubscribe: false });

$("nick").value = "guest" + Math.floor(Math.random() * 1000);

$("add-form").addEventListener("submit", (e) => {
    e.preventDefault();
    session.call("rpc:add", value($("add-a").value), value($("add-b").value)).then(
        (r) => show($("add-out"), "= " + JSON.stringify(r), "ok"),
        (err) => show($("add-out"), "error " + errText(err), "err"));
});

$("echo-form").addEventListener("submit", (e) => {
    e.preventDefault();
    session.call("rpc:echo", $("echo-in").value).then(
        (r) => show($("echo-out"), JSON.stringify(r), "ok"),
        (err) => show($("echo-out"), "error " + errText(err), "err"));
});

$("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("chat-in").value;
    if (!text) return;
    try {
        session.publish(CHAT, { from: $("nick").value || "guest", text }, false); // to every tab, this one too
        $("chat-in").value = "";
    } catch (err) {
        onChat(CHAT, { from: "!", text: "not connected" });
    }
});

$("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    doLogin($("login-key").value, $("login-secret").value);
});
$("login-anon").addEventListener("click", () => doLogin(null, null));

$("burst").addEventListener("click", () => {
    for (let i = 0; i < 100; i++) session.call("rpc:echo", i).catch(() => {});
});

// ---- the live chart: calls + events per second and pool use, from rpc#stats every second ----
const hist = [];
let last = null;
function draw() {
    const c = $("chart"), g = c.getContext("2d"), dpr = window.devicePixelRatio || 1;
    const w = Math.max(200, c.clientWidth || 600), h = Math.round(w / 3);
    if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const max = Math.max(10, ...hist.map((p) => p.rate));
    g.strokeStyle = "#e5e7eb";
    g.fillStyle = "#6b7385";
    g.font = "11px system-ui";
    for (let i = 0; i <= 4; i++) {
        const y = 10 + (h - 20) * i / 4;
        g.beginPath(); g.moveTo(30, y); g.lineTo(w, y); g.stroke();
        g.fillText(String(Math.round(max * (1 - i / 4))), 2, y + 4);
    }
    const line = (key, scale, color) => {
        g.strokeStyle = color;
        g.lineWidth = 2;
        g.beginPath();
        hist.forEach((p, i) => {
            const x = 30 + (w - 30) * i / 59, y = 10 + (h - 20) * (1 - Math.min(1, p[key] / scale));
            if (i) g.lineTo(x, y); else g.moveTo(x, y);
        });
        g.stroke();
    };
    line("rate", max, "#2563eb");
    line("use", 100, "#f59e0b");
}
function poll() {
    if (!session || session.state !== "open") return;
    session.call("rpc:stats").then((st) => {
        const now = Date.now(), total = (st.calls || 0) + (st.events_sent || 0);
        const rate = last ? Math.max(0, (total - last.total) * 1000 / Math.max(1, now - last.t)) : 0;
        last = { t: now, total };
        const pools = [["connections", st.connections, st.connections_max], ["subscriptions", st.subscriptions, st.subscriptions_max],
            ["pending_calls", st.pending_calls, st.pending_calls_max], ["send_buffers", st.send_buffers, st.send_buffers_max]];
        const use = Math.max(...pools.map(([, u, m]) => (m ? 100 * u / m : 0)));
        hist.push({ rate, use });
        while (hist.length > 60) hist.shift();
        draw();
        const rows = [["calls + events / s", rate.toFixed(1)]].concat(pools.map(([k, u, m]) => [k, u + " / " + m]));
        const t = $("stats-out");
        t.textContent = "";
        for (const [k, v] of rows) {
            const tr = t.insertRow();
            tr.insertCell().textContent = k;
            tr.insertCell().textContent = v;
        }
    }, () => {});
}
setInterval(poll, 1000);
draw();
window.demo = { get session() { return session; } };
