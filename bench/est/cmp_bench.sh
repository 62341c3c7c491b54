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
export MODULE="$BUILD/src/pkcs11/libcertvault-pkcs11.so" CA_BIN="$BUILD/ca/certvault-ca"
PROVIDER="$BUILD/src/provider/certvault.so"
LOAD="$BUILD/bench/certvault-cmp-load"
CSRS="$BUILD/bench/certvault-est-load"
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
printf 'keyUsage=digitalSignature\n' >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/terminal.csr" -CA "$WORK/boot-ca.pem" -CAkey "$WORK/boot-ca.key" -CAcreateserial \
  -days 30 -extfile "$WORK/ext.cnf" -out "$WORK/terminal.pem" 2>/dev/null
cat "$WORK/terminal.pem" "$WORK/boot-ca.pem" >"$WORK/terminal-chain.pem"
cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
access_log = "access.log"
threads = $((CLIENTS * 2))
max_connections = 1024

[[server.authorize]]
issuer = "/CN=Bootstrap CA"
profiles = ["device"]
TOML
ca init 2>/dev/null
ca server-cert 2>/dev/null

cli_issue() {  # COUNT: seconds for one `issue --batch` of COUNT CSRs (a whole process)
  rm -rf "$WORK/batch" "$WORK/out"
  mkdir -p "$WORK/batch" "$WORK/out"
  "$CSRS" --write-csrs "$WORK/batch" --requests "$1"
  local t0 t1
  t0=$(date +%s.%N)
  ca issue --profile device --batch "$WORK/batch" --out "$WORK/out/all.pem" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
t_full=$(cli_issue "$N")
cli_rate=$(echo "$N / $t_full" | bc -l)
printf 'CLI batch issuance:       %d certificates in %.2f s: %.0f/s\n' "$N" "$t_full" "$cli_rate"

ca_bg serve >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; exit 1; }
SERVER_PID="$(pgrep -P "${BG_PIDS[-1]}" | head -1)"
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
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
