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

kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
expect_failure "certvault tokens with certvaultd stopped" cv tokens
expect_contains "$WORK/expect_failure.out" "certvaultd" "the error does not name certvaultd"
start_daemon
cv list >"$WORK/list2.out" || fail "list after the daemon restarted"
expect_contains "$WORK/list2.out" "object=web" "key lost across a daemon restart"
