#!/usr/bin/env bash
# 1,000 concurrent sessions from 20 processes on one certvaultd, while hostile clients
# (garbage, an oversized length, an unknown op, half a frame) connect: each hostile client
# is disconnected and every session of the 20 processes still signs.
source "$(dirname "$0")/lib.sh"
need_daemon_mode
need_tool pkcs11-tool
need_python_module PyKCS11
CV_DAEMON_SETTINGS="frame_timeout_ms = 1000"
setup_env
init_token
p11_user --keypairgen --key-type EC:prime256v1 --id 52 --label loop-key --usage-sign >/dev/null || fail "EC keygen"

procs=20 per=50
pids=()
for i in $(seq 1 $procs); do
  timeout "$T" "$PY" "$INTEROP_DIR/daemon_client.py" hold --module "$MODULE" --token "$TOKEN_LABEL" \
    --pin "$USER_PIN" --sessions $per --go "$WORK/go" >"$WORK/hold.$i" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 $procs); do
  wait_for_line "$WORK/hold.$i" "^ready$" 60 || { cat "$WORK/hold.$i" >&2; fail "process $i did not open $per sessions"; }
done
log "$((procs * per)) sessions open in $procs processes"
timeout "$T" "$PY" "$INTEROP_DIR/daemon_client.py" hostile --socket "$CERTVAULT_SOCKET" --timeout 5 \
  || fail "a hostile client was not disconnected"
touch "$WORK/go"
for i in $(seq 1 $procs); do
  wait "${pids[$((i - 1))]}" || { cat "$WORK/hold.$i" >&2; fail "process $i failed after the hostile clients"; }
  expect_contains "$WORK/hold.$i" "^done$" "process $i did not sign on all its sessions"
done
kill -0 "$DAEMON_PID" || fail "certvaultd died"
log "all $((procs * per)) sessions signed"
