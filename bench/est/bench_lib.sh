# Shared set-up of the enrollment benchmarks (sourced by est_bench.sh and
# cmp_bench.sh after they set BUILD and HERE): one CA on certvault's PKCS#11
# token (SQLite, profile "device") whose `serve` trusts a manufacturer's
# bootstrap CA ($WORK/boot-ca.*), and a terminal certificate it issued
# ($WORK/terminal.*). Everything runs under the interop helpers' $WORK.
export MODULE="$BUILD/src/pkcs11/libcertvault-pkcs11.so" CA_BIN="$BUILD/ca/certvault-ca"
PROVIDER="$BUILD/src/provider/certvault.so"
export CV_INTEROP_TIMEOUT=600
source "$HERE/../../tests/interop/lib.sh"
setup_env
source "$HERE/../../tests/ca/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"
boot_ca boot-ca
boot_cert terminal terminal-1 "$WORK/boot-ca"

# bench_ca THREADS: the [server] section (THREADS server threads), init and
# the server certificate.
bench_ca() {
  cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
access_log = "access.log"
threads = $1
max_connections = 1024

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
profiles = ["device"]
TOML
  ca init 2>/dev/null
  ca server-cert 2>/dev/null
}

# cli_issue CSR_WRITER COUNT: seconds for one `issue --batch` of COUNT CSRs
# (a whole process); CSR_WRITER is a load program with --write-csrs.
cli_issue() {
  rm -rf "$WORK/batch" "$WORK/out"
  mkdir -p "$WORK/batch" "$WORK/out"
  "$1" --write-csrs "$WORK/batch" --requests "$2"
  local t0 t1
  t0=$(date +%s.%N)
  ca issue --profile device --batch "$WORK/batch" --out "$WORK/out/all.pem" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

# start_server: `serve` in the background; sets SERVER_PID (the server itself,
# not its `timeout` wrapper).
start_server() {
  ca_bg serve >"$WORK/serve.log" 2>&1
  wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; exit 1; }
  SERVER_PID="$(pgrep -P "${BG_PIDS[-1]}" | head -1)"
}

# server_cpu PID: that process's CPU seconds so far (user + system), to tell a
# busy server from one that waits (and from a busy client, client_cpu_s).
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
