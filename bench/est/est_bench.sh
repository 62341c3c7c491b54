#!/usr/bin/env bash
# EST simpleenroll load against the CLI batch issuance, in one run
# (issue 13 performance targets; figures in bench/README.md).
#   [THREADS=T] bench/est/est_bench.sh BUILD_DIR [N] [CONNECTIONS]   (T: server threads, default CONNECTIONS)
# One CA (certvault's PKCS#11 token, SQLite), P-256 CSRs, profile "device":
#   1. certvault-ca issue --batch with N CSRs              (the CLI rate)
#   2. certvault-ca serve, N simpleenroll over CONNECTIONS TLS 1.3
#      keep-alive connections with a client certificate     (the EST rate)
#   3. the same with a full mutual-TLS handshake per enrollment
# and prints EST/CLI. The load client runs on the same 2 cores.
set -euo pipefail
BUILD="$(cd "${1:?usage: est_bench.sh BUILD_DIR [N] [CONNECTIONS]}" && pwd)"
N="${2:-2000}"
CONNS="${3:-8}"
HERE="$(cd "$(dirname "$0")" && pwd)"
export MODULE="$BUILD/src/pkcs11/libcertvault-pkcs11.so" CA_BIN="$BUILD/ca/certvault-ca"
PROVIDER="$BUILD/src/provider/certvault.so"
LOAD="$BUILD/bench/certvault-est-load"
export CV_INTEROP_TIMEOUT=600
source "$HERE/../../tests/interop/lib.sh"
setup_env
source "$HERE/../../tests/ca/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/boot-ca.key" \
  -subj "/CN=Bootstrap CA" -days 30 -out "$WORK/boot-ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/terminal.key" \
  -subj "/CN=terminal-1" -out "$WORK/terminal.csr" 2>/dev/null
openssl x509 -req -in "$WORK/terminal.csr" -CA "$WORK/boot-ca.pem" -CAkey "$WORK/boot-ca.key" -CAcreateserial \
  -days 30 -out "$WORK/terminal.pem" 2>/dev/null
cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
access_log = "access.log"
threads = ${THREADS:-$CONNS}   # enrollments wait for the commit on suspended connections, not on threads
max_connections = 1024

[[server.authorize]]
issuer = "/CN=Bootstrap CA"
profiles = ["device"]
TOML
ca init 2>/dev/null
ca server-cert 2>/dev/null

# cli_issue COUNT: seconds for one `issue --batch` of COUNT CSRs (a whole process).
cli_issue() {
  rm -rf "$WORK/batch" "$WORK/out"
  mkdir -p "$WORK/batch" "$WORK/out"
  "$LOAD" --write-csrs "$WORK/batch" --requests "$1"
  local t0 t1
  t0=$(date +%s.%N)
  ca issue --profile device --batch "$WORK/batch" --out "$WORK/out/all.pem" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
small=$((N / 10))
t_small=$(cli_issue "$small")
t_full=$(cli_issue "$N")
cli_rate=$(echo "$N / $t_full" | bc -l)
cli_marginal=$(echo "($N - $small) / ($t_full - $t_small)" | bc -l)
printf 'CLI batch issuance:        %d certificates in %.2f s: %.0f/s (%.0f/s without the process start-up: %d in %.2f s)\n' \
  "$N" "$t_full" "$cli_rate" "$cli_marginal" "$small" "$t_small"

ca_bg serve >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; exit 1; }
SERVER_PID="$(pgrep -P "${BG_PIDS[-1]}" | head -1)"
# server_cpu: the server's CPU seconds so far (user + system), to tell a
# busy server from one that waits (and from a busy client, client_cpu_s).
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$SERVER_PID/stat"; }
common=(--port "$HTTPS_PORT" --cacert "$CA_DIR/root.pem" --cert "$WORK/terminal.pem" --key "$WORK/terminal.key"
        --path /.well-known/est/device/simpleenroll)
"$LOAD" "${common[@]}" --requests 200 --connections 2 >/dev/null   # warm-up
c0=$(server_cpu)
ka=$("$LOAD" "${common[@]}" --requests "$N" --connections "$CONNS")
echo "EST keep-alive ($CONNS conns): $ka server_cpu_s=$(echo "$(server_cpu) - $c0" | bc -l)"
server_ms() {  # the server's own time per simpleenroll (access log), p50 and p99
  grep '"op":"simpleenroll"' "$CA_DIR/access.log" | sed -n 's/.*"ms":\([0-9.]*\).*/\1/p' | sort -n |
    awk '{a[NR]=$1} END {printf "server-side p50_ms=%.2f p99_ms=%.2f\n", a[int(NR*0.5)+1], a[int(NR*0.99)+1]}'
}
server_ms
: >"$CA_DIR/access.log"
c0=$(server_cpu)
full=$("$LOAD" "${common[@]}" --requests "$N" --connections "$CONNS" --new-connection)
echo "EST full handshake each:   $full server_cpu_s=$(echo "$(server_cpu) - $c0" | bc -l)"
server_ms
c0=$(server_cpu)
hs=$("$LOAD" "${common[@]}" --path /healthz --requests "$N" --connections "$CONNS" --new-connection)
echo "TLS handshake + /healthz:  $hs server_cpu_s=$(echo "$(server_cpu) - $c0" | bc -l)"
ka_rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$ka")
printf 'EST keep-alive / CLI batch: %.2f (%.2f against the CLI rate without start-up; target >= 0.50)\n' \
  "$(echo "$ka_rate / $cli_rate" | bc -l)" "$(echo "$ka_rate / $cli_marginal" | bc -l)"
