#!/usr/bin/env bash
# certvaultd killed with SIGKILL while clients sign and write through the PKCS#11 module:
#  - the clients get CKR_DEVICE_REMOVED / CKR_SESSION_HANDLE_INVALID, never a hang or a crash;
#  - after the daemon is restarted they recover (reopen, log in again) and sign again;
#  - every object whose C_CreateObject was acknowledged before the kill is still there.
source "$(dirname "$0")/lib.sh"
need_daemon_mode
need_tool pkcs11-tool
need_python_module PyKCS11
setup_env
init_token
p11_user --keypairgen --key-type EC:prime256v1 --id 51 --label loop-key --usage-sign >/dev/null || fail "EC keygen"
dc() { "$PY" "$INTEROP_DIR/daemon_client.py" "$1" --module "$MODULE" --token "$TOKEN_LABEL" --pin "$USER_PIN" "${@:2}"; }

timeout "$T" "$PY" "$INTEROP_DIR/daemon_client.py" signloop --module "$MODULE" --token "$TOKEN_LABEL" \
  --pin "$USER_PIN" --seconds 6 >"$WORK/signloop.out" 2>&1 &
signer=$!
(exec "$PY" "$INTEROP_DIR/daemon_client.py" write --module "$MODULE" --token "$TOKEN_LABEL" --pin "$USER_PIN" \
  --prefix acked >"$WORK/write.acked" 2>"$WORK/write.err") &
writer=$!
BG_PIDS+=("$writer")
wait_for_line "$WORK/signloop.out" "^signed 200$" 30 || { cat "$WORK/signloop.out" >&2; fail "no signatures before the kill"; }
wait_for_line "$WORK/write.acked" "^acked-20$" 30 || fail "no acknowledged writes before the kill"

kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
before=$(wc -l <"$WORK/write.acked")
log "killed certvaultd (pid $DAEMON_PID) after $before acknowledged objects"
sleep 1  # clients now fail: CKR_DEVICE_REMOVED, then CKR_SESSION_HANDLE_INVALID
start_daemon

rc=0
wait "$signer" || rc=$?
cat "$WORK/signloop.out" >&2
[[ $rc -eq 0 ]] || fail "signing client failed or hung (exit $rc)"
expect_contains "$WORK/signloop.out" "summary ok=[0-9]+ errors=[1-9][0-9]* recovered=[1-9]" \
  "the signer saw no error from the kill, or did not recover"
wait_for_line "$WORK/write.acked" "^acked-$((before + 20))$" 30 || { cat "$WORK/write.err" >&2; fail "writer did not recover"; }
kill "$writer"
wait "$writer" 2>/dev/null || true
[[ ! -s "$WORK/write.err" ]] || { cat "$WORK/write.err" >&2; fail "writer reported an unexpected error"; }
timeout "$T" "$PY" "$INTEROP_DIR/daemon_client.py" check --module "$MODULE" --token "$TOKEN_LABEL" \
  --pin "$USER_PIN" --labels "$WORK/write.acked" || fail "acknowledged objects lost across kill -9 of the daemon"

# A stopped (SIGSTOP) daemon: a client call fails after the IPC timeout instead of hanging.
kill -STOP "$DAEMON_PID"
start=$SECONDS
rc=0
CERTVAULT_IPC_TIMEOUT_MS=1000 timeout 30 pkcs11-tool --module "$MODULE" -L >"$WORK/stopped.out" 2>&1 || rc=$?
kill -CONT "$DAEMON_PID"
[[ $rc -ne 0 && $rc -lt 124 ]] || { cat "$WORK/stopped.out" >&2; fail "client against a stopped daemon: exit $rc (want a clean error)"; }
((SECONDS - start < 10)) || fail "client against a stopped daemon took $((SECONDS - start)) s"
p11 -L >/dev/null || fail "not usable again after SIGCONT"
log "stopped daemon: the client failed cleanly after the timeout, then worked again"
