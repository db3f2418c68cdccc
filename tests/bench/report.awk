# report.awk: the table and the ratios of make bench, from build/bench/results.tsv
# (tab-separated: RESULT scenario server conns depth size rate_per_s p50_us p99_us p999_us
# server_cpu_s server_rss_kb round). awk -F'\t' -v rounds=N -f report.awk results.tsv
# Ours are the servers named build/...; with several rounds the ratios use, per line, the round
# with the highest rate (idle lines: the means over the rounds).

function f(x, d) { return x == "null" ? "-" : sprintf("%." d "f", x) }
function ratio(a, b) { return (a == "null" || b == "null" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
function ours(s) { return s ~ /^build\// }
# KB per session over fewer than 1000 sessions is below what RSS resolves (pages, a garbage
# collector's heap): no ratio
function kbratio(a, b, conns) {
    if (conns < 1000) return "- (under 1000 sessions)"
    return (a == "null" || b == "null" || a <= 0 || b <= 0) ? "-" : sprintf("%.2f", a / b)
}
function mean(sum, cnt, k) { return (k in cnt) && cnt[k] ? sum[k] / cnt[k] : "null" }
function per_cpu(i) { return (ra[i] != "null" && cp[i] != "null" && cp[i] > 0) ? ra[i] / cp[i] : "null" }

BEGIN {
    fmt = "%-9s %-11s %6s %5s %5s %11s %9s %9s %9s %6s %8s %8s"
    printf fmt, "scenario", "server", "conns", "depth", "size", "rate/s", "p50 us", "p99 us", "p999 us",
        "cpu s", "rss KB", "KB/sess"
    if (rounds > 1) printf " %5s", "round"
    printf "\n"
}

{
    n++
    sc[n] = $2; sv[n] = $3; co[n] = $4; de[n] = $5; sz[n] = $6; ra[n] = $7; p5[n] = $8; p9[n] = $9
    p3[n] = $10; cp[n] = $11; rs[n] = $12; rd[n] = $13; kb[n] = "null"
    if (sc[n] ~ /^idle/) {
        b = sc[n] SUBSEP sv[n] SUBSEP rd[n]
        if (co[n] == 0) base[b] = rs[n]
        else if ((b in base) && rs[n] != "null" && base[b] != "null") kb[n] = (rs[n] - base[b]) / co[n]
    }
    printf fmt, sc[n], sv[n], co[n], f(de[n], 0), f(sz[n], 0), f(ra[n], 0), f(p5[n], 1), f(p9[n], 1),
        f(p3[n], 1), f(cp[n], 2), f(rs[n], 0), f(kb[n], 2)
    if (rounds > 1) printf " %5s", rd[n]
    printf "\n"
    # the best round of each line
    if (sc[n] ~ /^idle/ && co[n] == 0) next
    k = sc[n] SUBSEP sv[n] SUBSEP co[n] SUBSEP de[n] SUBSEP sz[n]
    if (sc[n] ~ /^idle/) { # memory: the mean over the rounds (its noise goes both ways)
        if (kb[n] != "null") { kbs[k] += kb[n]; kbn[k]++ }
        if (rs[n] != "null") { rss[k] += rs[n]; rsn[k]++ }
        if (ra[n] != "null") { ras[k] += ra[n]; ran[k]++ }
    }
    if (!(k in best)) { best[k] = n; order[++nk] = k; next }
    j = best[k]
    if (ra[n] != "null" && (ra[j] == "null" || ra[n] > ra[j])) best[k] = n
}

END {
    print ""
    print "ratios ours / peer per line" (rounds > 1 ? " (best of " rounds " rounds; idle: means)" : "") ": rate and rate per server CPU"
    print "second above 1 favour ours; latency and memory below 1 favour ours"
    for (a = 1; a <= nk; a++) {
        i = best[order[a]]
        if (!ours(sv[i])) continue
        for (b = 1; b <= nk; b++) {
            j = best[order[b]]
            if (ours(sv[j]) || sc[j] != sc[i] || co[j] != co[i] || de[j] != de[i] || sz[j] != sz[i]) continue
            line = sprintf("  %-9s %-14s %-10s / %-9s", sc[i], co[i] (de[i] != "null" ? " x " de[i] : ""), sv[i], sv[j])
            if (sc[i] ~ /^idle/) {
                ki = order[a]; kj = order[b]
                printf "%s  KB/session %s   rss %s   sessions opened/s %s\n", line,
                    kbratio(mean(kbs, kbn, ki), mean(kbs, kbn, kj), co[i]), ratio(mean(rss, rsn, ki), mean(rss, rsn, kj)),
                    ratio(mean(ras, ran, ki), mean(ras, ran, kj))
            }
            else
                printf "%s  rate %s   per cpu s %s   p50 %s   p99 %s   p999 %s\n", line, ratio(ra[i], ra[j]),
                    ratio(per_cpu(i), per_cpu(j)), ratio(p5[i], p5[j]), ratio(p9[i], p9[j]), ratio(p3[i], p3[j])
        }
    }
    print ""
    print "rpc_idle: with the idle sessions / without, per server (rate near 1 and latency near 1: idle"
    print "sessions cost the active one nothing)"
    for (a = 1; a <= nk; a++) {
        i = best[order[a]]
        if (sc[i] != "rpc_idle" || co[i] == 1) continue
        for (b = 1; b <= nk; b++) {
            j = best[order[b]]
            if (sc[j] != "rpc_idle" || co[j] != 1 || sv[j] != sv[i]) continue
            printf "  %-10s %6s sessions / 1   rate %s   p50 %s   p99 %s   p999 %s\n", sv[i], co[i],
                ratio(ra[i], ra[j]), ratio(p5[i], p5[j]), ratio(p9[i], p9[j]), ratio(p3[i], p3[j])
        }
    }
}
