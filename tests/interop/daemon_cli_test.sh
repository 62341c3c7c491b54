#!/usr/bin/env bash
# The certvault CLI as a certvaultd client: init, keygen, csr, list, selfsign through the daemon
# (the CLI process never opens the vault: with the daemon stopped it fails, naming certvaultd).
source "$(dirname "$0")/lib.sh"
need_daemon_mode
need_tool openssl
[[ -n "${CLI:-}" && -x "$CLI" ]] || skip "CLI (certvault) not given"
setup_env
export CERTVAULT_PIN="$USER_PIN" CERTVAULT_SO_PIN="$SO_PIN"
cv() { timeout "$T" "$CLI" "$@"; }

cv init --label clitoken >"$WORK/init.out" || fail "certvault init through the daemon"
cv keygen --label web --type ec:p256 >/dev/null || fail "keygen through the daemon"
cv csr --key web --subject /CN=daemon.example --san DNS:daemon.example --out "$WORK/web.csr" || fail "csr"
timeout "$T" openssl req -in "$WORK/web.csr" -noout -verify 2>&1 | grep -q "verify OK" \
  || fail "openssl cannot verify the CSR signed through the daemon"
cv selfsign --key web --subject /CN=daemon.example --days 2 --store --out "$WORK/web.pem" || fail "selfsign"
timeout "$T" openssl x509 -in "$WORK/web.pem" -noout -subject | grep -q daemon.example || fail "certificate"
cv list >"$WORK/list.out" || fail "list"
expect_contains "$WORK/list.out" "object=web" "list does not show the key"
cv tokens >"$WORK/tokens.out" || fail "tokens"
expect_contains "$WORK/tokens.out" "clitoken" "tokens does not show the token"
cv info --token clitoken >"$WORK/info.out" || fail "info"
expect_contains "$WORK/info.out" "certvaultd at $CERTVAULT_SOCKET" "info does not name the daemon's socket as the vault"

# A second daemon on the same socket refuses to start (and leaves the first alone).
rc=0
timeout "$T" "$CERTVAULTD" --config "$WORK/certvaultd.conf" --socket "$CERTVAULT_SOCKET" >"$WORK/second.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { cat "$WORK/second.log" >&2; fail "a second certvaultd on a live socket: exit $rc, want 1"; }
expect_contains "$WORK/second.log" "another certvaultd" "the second daemon does not say why it refused"
cv tokens >/dev/null || fail "the first daemon was disturbed by the second"

# SIGTERM: a clean stop (exit 0) that removes the socket file.
kill "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "certvaultd exited with $rc after SIGTERM"
[[ ! -e "$CERTVAULT_SOCKET" ]] || fail "certvaultd left its socket file behind"
expect_failure "certvault tokens with certvaultd stopped" cv tokens
expect_contains "$WORK/expect_failure.out" "certvaultd" "the error does not name certvaultd"
start_daemon
cv list >"$WORK/list2.out" || fail "list after the daemon restarted"
expect_contains "$WORK/list2.out" "object=web" "key lost across a daemon restart"

# systemd socket activation (LISTEN_FDS), as certvaultd.socket starts it: the daemon adopts the passed socket.
if command -v systemd-socket-activate >/dev/null 2>&1; then
  kill "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  sa_sock="$WORK/activated.sock"
  systemd-socket-activate -E CERTVAULT_HOME -l "$sa_sock" "$CERTVAULTD" --socket "$sa_sock" \
    >"$WORK/activated.log" 2>&1 &
  BG_PIDS+=($!)
  for _ in $(seq 1 50); do [[ -S "$sa_sock" ]] && break; sleep 0.1; done
  CERTVAULT_SOCKET="$sa_sock" cv list >"$WORK/list3.out" || { cat "$WORK/activated.log" >&2; fail "list via a socket-activated certvaultd"; }
  expect_contains "$WORK/list3.out" "object=web" "the socket-activated daemon does not serve the vault"
  log "socket activation: served the vault on the passed socket"
else
  log "systemd-socket-activate not installed: socket activation not checked"
fi
