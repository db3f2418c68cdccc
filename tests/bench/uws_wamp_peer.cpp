// uws_wamp_peer.cpp - a minimal WAMP v1 broker on uWebSockets, a bench peer for make bench
// (tests/bench/run.sh builds it when the uWebSockets and uSockets sources are found, see
// UWS_DIR there). It does what the bench's scenarios need and no more: WELCOME on open;
// CALL answered with its arguments as an
// array (rpc#echo, no JSON validation beyond finding the elements); SUBSCRIBE, and PUBLISH
// through uWebSockets' own pub/sub (the publisher excluded, as [7,T,E] asks).
//   uws_wamp_peer [PORT]     (0 or none: any free port; prints "listening on 127.0.0.1:P")
#include "App.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

struct Session { char sid[17]; };

unsigned long long rng_state = 0x9E3779B97F4A7C15ull;

void new_sid(char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 16; i++) {
        rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
        out[i] = abc[rng_state & 63];
    }
    out[16] = 0;
}

// the end of the JSON string that starts at s[i] (the opening quote): index of its closing quote
size_t string_end(std::string_view s, size_t i) {
    for (i++; i < s.size(); i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i;
    }
    return std::string_view::npos;
}

} // namespace

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    uWS::App *appp = nullptr;
    uWS::App app;
    appp = &app;
    app.ws<Session>("/*", {
        .compression = uWS::DISABLED,
        .maxPayloadLength = 16 * 1024 * 1024,
        .idleTimeout = 0,
        .maxBackpressure = 64 * 1024 * 1024,
        .closeOnBackpressureLimit = false,
        .resetIdleTimeoutOnSend = false,
        .sendPingsAutomatically = false,
        .upgrade = nullptr,
        .open = [](auto *ws) {
            Session *s = ws->getUserData();
            new_sid(s->sid);
            std::string w = "[0,\"";
            w += s->sid;
            w += "\",1,\"uws-wamp-peer\"]";
            ws->send(w, uWS::OpCode::TEXT);
        },
        .message = [appp](auto *ws, std::string_view m, uWS::OpCode) {
            if (m.size() < 4 || m[0] != '[') return;
            if (m[1] == '2' && m[2] == ',' && m[3] == '"') { // CALL: [2,"id","uri",args...]
                size_t idq = string_end(m, 3);
                if (idq == std::string_view::npos || idq + 2 >= m.size() || m[idq + 2] != '"') return;
                size_t uq = string_end(m, idq + 2);
                if (uq == std::string_view::npos) return;
                std::string r;
                r.reserve(m.size() + 8);
                r += "[3,";
                r.append(m.substr(3, idq - 2));
                r += ",[";
                if (uq + 1 < m.size() && m[uq + 1] == ',') r.append(m.substr(uq + 2, m.size() - uq - 3));
                r += "]]";
                ws->send(r, uWS::OpCode::TEXT);
            } else if (m[1] == '5' && m[2] == ',' && m[3] == '"') { // SUBSCRIBE: [5,"topic"]
                size_t tq = string_end(m, 3);
                if (tq != std::string_view::npos) ws->subscribe(m.substr(4, tq - 4));
            } else if (m[1] == '7' && m[2] == ',' && m[3] == '"') { // PUBLISH: [7,"topic",event]
                size_t tq = string_end(m, 3);
                if (tq == std::string_view::npos || tq + 1 >= m.size() || m[tq + 1] != ',') return;
                std::string e = "[8,";
                e.append(m.substr(3, m.size() - 3));
                // a publisher that subscribes to something is left out by the socket's publish;
                // one that subscribes to nothing goes through the app (it is not a receiver)
                if (!ws->publish(m.substr(4, tq - 4), e, uWS::OpCode::TEXT))
                    appp->publish(m.substr(4, tq - 4), e, uWS::OpCode::TEXT);
            }
        },
    }).listen("127.0.0.1", port, [port](auto *ls) {
        if (!ls) { std::fprintf(stderr, "uws_wamp_peer: cannot listen on %d\n", port); std::exit(2); }
        std::printf("listening on 127.0.0.1:%d\n", us_socket_local_port(0, (struct us_socket_t *)ls));
        std::fflush(stdout);
    }).run();
    return 0;
}
