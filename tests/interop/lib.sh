# Shared helpers for the interop scripts (sourced, not executed).
#
# Contract for every script that sources this file:
#   MODULE=<path to a PKCS#11 .so>   required; our libcertvault-pkcs11.so in ctest,
#                                    /usr/lib/softhsm/libsofthsm2.so by hand.
#   CLI=<path to certvault>           optional; scripts that do not need it ignore it.
#   CV_INTEROP_KEEP=1                 keep the temp dir for debugging.
#   CV_BACKEND=daemon                 daemon mode: setup_env starts $CERTVAULTD (certvaultd) on a
#                                     socket in $WORK and exports CERTVAULT_SOCKET, so the module
#                                     and the CLI are its clients; cleanup stops it.
# Exit codes: 0 pass, 1 fail (with a "FAIL:" line), 77 skipped (a tool is missing).
# Everything runs under a temp dir ($WORK) removed by an EXIT trap; every external
# tool runs under `timeout` ($T seconds) so that a hung module cannot hang ctest.

set -euo pipefail

readonly SKIP=77
T="${CV_INTEROP_TIMEOUT:-60}"
PY=/usr/bin/python3            # Debian's python3 (python3-pykcs11), not a pyenv one
SO_PIN="so-pin-12345678"
USER_PIN="user-pin-1234"
TOKEN_LABEL="interop"
SCRIPT_NAME="$(basename "$0")"
INTEROP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FAKE_TIME="$INTEROP_DIR/fake_time.sh"   # FAKE_TIME SPEC CMD...: CMD under libfaketime

log()  { printf '[%s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
fail() { printf '[%s] FAIL: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }
skip() { printf '[%s] SKIP: %s\n' "$SCRIPT_NAME" "$*" >&2; exit "$SKIP"; }

# need_tool NAME...: skip (77) when a client is genuinely not installed.
need_tool() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
  done
}

# need_file PATH WHY: skip when an installed component (engine .so, ...) is missing.
need_file() { [[ -e "$1" ]] || skip "$2 ($1 not found)"; }

# need_python_module NAME: skip when /usr/bin/python3 cannot import NAME.
need_python_module() {
  [[ -x "$PY" ]] || skip "$PY is not installed"
  "$PY" -c "import $1" 2>/dev/null || skip "python module '$1' is not installed for $PY"
}

is_softhsm() { [[ "$(basename "$MODULE")" == *softhsm* ]]; }

# setup_env: checks MODULE, creates $WORK and points both certvault
# (CERTVAULT_HOME) and SoftHSM2 (SOFTHSM2_CONF) at private stores inside it.
setup_env() {
  [[ -n "${MODULE:-}" ]] || fail "MODULE is not set (path to the PKCS#11 module)"
  [[ -f "$MODULE" ]] || fail "MODULE=$MODULE does not exist"
  MODULE="$(cd "$(dirname "$MODULE")" && pwd)/$(basename "$MODULE")"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/cv-interop.XXXXXX")"
  trap cleanup EXIT
  export CERTVAULT_HOME="$WORK/vault"
  mkdir -p "$CERTVAULT_HOME" "$WORK/softhsm-tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$WORK/softhsm-tokens" >"$WORK/softhsm2.conf"
  export SOFTHSM2_CONF="$WORK/softhsm2.conf"
  log "module $MODULE, work dir $WORK"
  if [[ "${CV_BACKEND:-embedded}" == daemon ]] && ! is_softhsm; then start_daemon; fi
}

# start_daemon: certvaultd ($CERTVAULTD) serving $CERTVAULT_HOME on
# $WORK/certvaultd.sock, log in $WORK/certvaultd.log; exports CERTVAULT_SOCKET.
# CV_DAEMON_SETTINGS: extra "key = value" lines for its [daemon] section.
# Sets DAEMON_PID. Safe to call again after the daemon died (restart).
start_daemon() {
  [[ -n "${CERTVAULTD:-}" && -x "$CERTVAULTD" ]] || fail "CV_BACKEND=daemon needs CERTVAULTD (path to certvaultd)"
  export CERTVAULT_SOCKET="$WORK/certvaultd.sock"
  printf '[daemon]\n%s\n' "${CV_DAEMON_SETTINGS:-}" >"$WORK/certvaultd.conf"
  "$CERTVAULTD" --config "$WORK/certvaultd.conf" --socket "$CERTVAULT_SOCKET" >>"$WORK/certvaultd.log" 2>&1 &
  DAEMON_PID=$!
  BG_PIDS+=("$DAEMON_PID")
  local deadline=$((SECONDS + 10))
  until [[ -S "$CERTVAULT_SOCKET" ]] && grep -q "serving" "$WORK/certvaultd.log" 2>/dev/null; do
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/certvaultd.log" >&2; fail "certvaultd exited at start"; }
    ((SECONDS < deadline)) || fail "certvaultd did not start in 10 s"
    sleep 0.05
  done
  log "certvaultd (pid $DAEMON_PID) on $CERTVAULT_SOCKET"
}

# need_daemon_mode: for scripts that only make sense against certvaultd.
need_daemon_mode() {
  [[ "${CV_BACKEND:-embedded}" == daemon ]] || skip "needs CV_BACKEND=daemon"
  [[ -n "${CERTVAULTD:-}" && -x "$CERTVAULTD" ]] || skip "CERTVAULTD (certvaultd) not given"
}

# BG_PIDS: the background processes (certvaultd too) that cleanup stops.
BG_PIDS=()
# cleanup [RC]: the EXIT trap; stops BG_PIDS, removes $WORK and exits with RC
# (default: the status the script was exiting with). It must run to the end
# whatever fails: a background server it missed would outlive the test and
# keep ctest waiting on the output pipe it inherited.
cleanup() {
  local rc=${1:-$?} pid
  set +e
  for pid in "${BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${CV_INTEROP_KEEP:-0}" == 1 ]]; then
    log "keeping $WORK"
  else
    rm -rf "$WORK"
  fi
  if [[ $rc -eq 0 ]]; then log "PASS"; fi
  exit "$rc"
}

# p11 ARGS...: pkcs11-tool against $MODULE with a timeout.
p11() { timeout "$T" pkcs11-tool --module "$MODULE" "$@"; }

# p11_user ARGS...: pkcs11-tool logged in as the user on our token.
p11_user() { p11 --token-label "$TOKEN_LABEL" --login --pin "$USER_PIN" "$@"; }

# init_token [LABEL]: C_InitToken on the first slot without a token, then
# C_InitPIN as the SO (the same sequence works for certvault and SoftHSM2).
init_token() {
  local label="${1:-$TOKEN_LABEL}"
  p11 --init-token --slot-index 0 --label "$label" --so-pin "$SO_PIN" >/dev/null \
    || fail "C_InitToken failed (pkcs11-tool --init-token)"
  p11 --token-label "$label" --login --login-type so --so-pin "$SO_PIN" \
    --init-pin --pin "$USER_PIN" >/dev/null || fail "C_InitPIN failed (pkcs11-tool --init-pin)"
  log "token '$label' initialized"
}

# free_port: prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_line FILE PATTERN SECONDS: waits until grep -E finds PATTERN in FILE
# (e.g. s_server's "ACCEPT"; probing the port would eat a -naccept connection).
wait_for_line() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    if grep -Eq -- "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# expect_contains FILE PATTERN WHAT: fails unless grep -E finds PATTERN in FILE.
# sntp_server PORT OFFSET: an SNTP server (RFC 4330) on 127.0.0.1:PORT whose clock is OFFSET s
# ahead, stopped by cleanup (BG_PIDS). All its output goes to its log: if it ever outlived the
# test, an inherited stderr would keep ctest waiting for the end of the test's output.
sntp_server() {
  "$PY" - "$1" "$2" >"$WORK/sntp-$1.log" 2>&1 <<'PYEOF' &
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
offset = float(sys.argv[2])
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(512)
    t = time.time() + offset + 2208988800
    reply = bytearray(48)
    reply[0] = 0x24  # LI 0, VN 4, mode 4 (server)
    reply[1] = 1     # stratum 1
    reply[40:48] = struct.pack("!II", int(t), int((t % 1) * 2**32))
    s.sendto(bytes(reply), addr)
PYEOF
  BG_PIDS+=($!)
  wait_for_line "$WORK/sntp-$1.log" ready 30 || fail "the SNTP server did not start"
}

expect_contains() {
  grep -Eq -- "$2" "$1" || { cat "$1" >&2; fail "$3"; }
}

# expect_failure WHAT CMD...: fails if CMD succeeds; a crash (signal) also fails.
expect_failure() {
  local what=$1 rc=0
  shift
  "$@" >"$WORK/expect_failure.out" 2>&1 || rc=$?
  if [[ $rc -eq 0 ]]; then cat "$WORK/expect_failure.out" >&2; fail "$what: succeeded but must fail"; fi
  if [[ $rc -ge 124 ]]; then cat "$WORK/expect_failure.out" >&2; fail "$what: crashed or hung (exit $rc)"; fi
}
