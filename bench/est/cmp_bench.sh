#!/usr/bin/env bash
# CMP p10cr load against the CLI batch issuance, and the same load against
# OpenSSL's own CMP mock server, in one run (issue 13 performance targets;
# figures in docs/design/enrollment.md, CMP).
#   bench/est/cmp_bench.sh BUILD_DIR [N] [CLIENTS]
# One CA (certvault's PKCS#11 token, SQLite), P-256 CSRs, profile "device":
#   1. certvault-ca issue --batch with N CSRs                      (the CLI rate)
#   2. certvault-ca serve: N p10cr, signature-protected, implicitConfirm,
#      from CLIENTS threads of certvault-cmp-load                  (the CMP rate)
#   3. `openssl cmp -port` (mock server: signs its answer, returns a fixed
#      certificate, one request at a time) under the same load
# and prints CMP/CLI and certvault/mock. The load client runs on the same 2 cores.
set -euo pipefail
BUILD="$(cd "${1:?usage: cmp_bench.sh BUILD_DIR [N] [CLIENTS]}" && pwd)"
N="${2:-1000}"
CLIENTS="${3:-8}"
HERE="$(cd "$(dirname "$0")" && pwd)"
LOAD="$BUILD/bench/certvault-cmp-load"
source "$HERE/bench_lib.sh"
bench_ca $((CLIENTS * 2))

t_full=$(cli_issue "$BUILD/bench/certvault-est-load" "$N")
cli_rate=$(echo "$N / $t_full" | bc -l)
printf 'CLI batch issuance:       %d certificates in %.2f s: %.0f/s\n' "$N" "$t_full" "$cli_rate"

start_server
# One key for every CSR of both runs: the mock answers with one fixed certificate (rsp.pem, for that key).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/csr.key" 2>/dev/null
openssl req -new -key "$WORK/csr.key" -subj "/CN=c0.devices.example.com" -out "$WORK/rsp.csr" 2>/dev/null
openssl x509 -req -in "$WORK/rsp.csr" -CA "$WORK/boot-ca.pem" -CAkey "$WORK/boot-ca.key" -CAcreateserial -days 2 \
  -out "$WORK/rsp.pem" 2>/dev/null
common=(--cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --untrusted "$CA_DIR/chain.pem" --csr-key "$WORK/csr.key")
"$LOAD" --port "$OCSP_PORT" --path .well-known/cmp/p/device --trusted "$CA_DIR/root.pem" "${common[@]}" \
  --requests 50 --connections 2 >/dev/null   # warm-up
c0=$(server_cpu "$SERVER_PID")
cv=$("$LOAD" --port "$OCSP_PORT" --path .well-known/cmp/p/device --trusted "$CA_DIR/root.pem" "${common[@]}" \
  --requests "$N" --connections "$CLIENTS")
echo "certvault-ca serve CMP:   $cv server_cpu_s=$(echo "$(server_cpu "$SERVER_PID") - $c0" | bc -l)"

# OpenSSL's mock server: its own signing key (a file) and a fixed answer certificate.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/mock.key" \
  -subj "/CN=mock CMP server" -days 2 -addext keyUsage=digitalSignature -out "$WORK/mock.pem" 2>/dev/null
MOCK_PORT="$(free_port)"
openssl cmp -port "$MOCK_PORT" -srv_cert "$WORK/mock.pem" -srv_key "$WORK/mock.key" -srv_trusted "$WORK/boot-ca.pem" \
  -rsp_cert "$WORK/rsp.pem" -grant_implicitconf >"$WORK/mock.log" 2>&1 &
BG_PIDS+=($!)
MOCK_PID=$!
sleep 1
"$LOAD" --port "$MOCK_PORT" --path / --trusted "$WORK/mock.pem" "${common[@]}" --requests 50 --connections 2 >/dev/null
c0=$(server_cpu "$MOCK_PID")
mock=$("$LOAD" --port "$MOCK_PORT" --path / --trusted "$WORK/mock.pem" "${common[@]}" --requests "$N" --connections "$CLIENTS")
echo "openssl cmp -port (mock): $mock server_cpu_s=$(echo "$(server_cpu "$MOCK_PID") - $c0" | bc -l)"
cv_rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$cv")
mock_rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$mock")
printf 'CMP p10cr / CLI batch: %.2f (target >= 0.40); certvault-ca serve / openssl mock: %.2f\n' \
  "$(echo "$cv_rate / $cli_rate" | bc -l)" "$(echo "$cv_rate / $mock_rate" | bc -l)"
