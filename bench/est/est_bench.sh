#!/usr/bin/env bash
# EST simpleenroll load against the CLI batch issuance, in one run
# (issue 13 performance targets; figures in bench/README.md).
#   [THREADS=T] bench/est/est_bench.sh BUILD_DIR [N] [CONNECTIONS]   (T: server threads, default CONNECTIONS)
# One CA (certvault's PKCS#11 token, SQLite), P-256 CSRs, profile "device":
#   1. certvault-ca issue --batch with N CSRs              (the CLI rate)
#   2. certvault-ca serve, N simpleenroll over CONNECTIONS TLS 1.3
#      keep-alive connections with a client certificate     (the EST rate)
#   3. the same with a full mutual-TLS handshake per enrollment   (target >= 1,500/s)
#   4. open loop: RATE enrollments/s offered (default 200) for 10 s, a full
#      mutual-TLS handshake each, latency from each request's due time (target p99 <= 50 ms);
#      then the same over 64 keep-alive connections
# and prints EST/CLI and the figures against their targets. The load client runs on the same 2 cores.
set -euo pipefail
BUILD="$(cd "${1:?usage: est_bench.sh BUILD_DIR [N] [CONNECTIONS]}" && pwd)"
N="${2:-2000}"
CONNS="${3:-8}"
HERE="$(cd "$(dirname "$0")" && pwd)"
LOAD="$BUILD/bench/certvault-est-load"
source "$HERE/bench_lib.sh"
# Enrollments wait for the commit on suspended connections, not on threads.
bench_ca "${THREADS:-$CONNS}"

small=$((N / 10))
t_small=$(cli_issue "$LOAD" "$small")
t_full=$(cli_issue "$LOAD" "$N")
cli_rate=$(echo "$N / $t_full" | bc -l)
cli_marginal=$(echo "($N - $small) / ($t_full - $t_small)" | bc -l)
printf 'CLI batch issuance:        %d certificates in %.2f s: %.0f/s (%.0f/s without the process start-up: %d in %.2f s)\n' \
  "$N" "$t_full" "$cli_rate" "$cli_marginal" "$small" "$t_small"

start_server
common=(--port "$HTTPS_PORT" --cacert "$CA_DIR/root.pem" --cert "$WORK/terminal.pem" --key "$WORK/terminal.key"
        --path /.well-known/est/device/simpleenroll)
"$LOAD" "${common[@]}" --requests 200 --connections 2 >/dev/null   # warm-up
c0=$(server_cpu "$SERVER_PID")
ka=$("$LOAD" "${common[@]}" --requests "$N" --connections "$CONNS")
echo "EST keep-alive ($CONNS conns): $ka server_cpu_s=$(echo "$(server_cpu "$SERVER_PID") - $c0" | bc -l)"
server_ms() {  # the server's own time per simpleenroll (access log), p50 and p99
  grep '"op":"simpleenroll"' "$CA_DIR/access.log" | sed -n 's/.*"ms":\([0-9.]*\).*/\1/p' | sort -n |
    awk '{a[NR]=$1} END {printf "server-side p50_ms=%.2f p99_ms=%.2f\n", a[int(NR*0.5)+1], a[int(NR*0.99)+1]}'
}
server_ms
: >"$CA_DIR/access.log"
c0=$(server_cpu "$SERVER_PID")
full=$("$LOAD" "${common[@]}" --requests "$N" --connections "$CONNS" --new-connection)
echo "EST full handshake each:   $full server_cpu_s=$(echo "$(server_cpu "$SERVER_PID") - $c0" | bc -l)"
server_ms
c0=$(server_cpu "$SERVER_PID")
hs=$("$LOAD" "${common[@]}" --path /healthz --requests "$N" --connections "$CONNS" --new-connection)
echo "TLS handshake + /healthz:  $hs server_cpu_s=$(echo "$(server_cpu "$SERVER_PID") - $c0" | bc -l)"
: >"$CA_DIR/access.log"
RATE="${RATE:-200}"
c0=$(server_cpu "$SERVER_PID")
ol=$("$LOAD" "${common[@]}" --requests "$((RATE * 10))" --connections 64 --rate "$RATE" --new-connection)
echo "EST open loop at $RATE/s, full handshake each: $ol server_cpu_s=$(echo "$(server_cpu "$SERVER_PID") - $c0" | bc -l)"
server_ms
: >"$CA_DIR/access.log"
c0=$(server_cpu "$SERVER_PID")
olk=$("$LOAD" "${common[@]}" --requests "$((RATE * 10))" --connections 64 --rate "$RATE")
echo "EST open loop at $RATE/s, keep-alive (64 conns): $olk server_cpu_s=$(echo "$(server_cpu "$SERVER_PID") - $c0" | bc -l)"
server_ms
full_rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$full")
ol_p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$ol")
printf 'EST full handshake each: %.0f/s = %.2f of the 1,500/s target\n' "$full_rate" "$(echo "$full_rate / 1500" | bc -l)"
olk_p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$olk")
printf 'EST open loop at %d/s: p99 %.1f ms with a full handshake each, %.1f ms keep-alive = %.2f / %.2f of the 50 ms target (<= 1 meets it)\n' \
  "$RATE" "$ol_p99" "$olk_p99" "$(echo "$ol_p99 / 50" | bc -l)" "$(echo "$olk_p99 / 50" | bc -l)"
ka_rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$ka")
printf 'EST keep-alive / CLI batch: %.2f (%.2f against the CLI rate without start-up; target >= 0.50)\n' \
  "$(echo "$ka_rate / $cli_rate" | bc -l)" "$(echo "$ka_rate / $cli_marginal" | bc -l)"
