#!/usr/bin/env bash
# The vault under policy.toml (issue 17, docs/design/policy.md "The vault"):
# pkcs11-tool cannot generate keys outside [algorithms] (RSA-1024, P-384 when
# only P-256 and RSA-2048+ are allowed) nor set a PIN below [pin] min_length,
# PyKCS11 cannot stretch a key's [crypto_periods] max_key_days,
# and a configuration contradicting the policy makes C_Initialize fail
# without a word on stderr from the module. Daemon mode: the same refusals
# come from certvaultd ([vault] policy in its --config), and certvaultd
# refuses to start with a contradicting configuration.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool
is_softhsm && skip "certvault-specific (policy.toml)"
setup_env
VAULT_SETTINGS=$'kdf_memory_kib = 64\nkdf_iterations = 1\npolicy = policy.toml'
cat >"$WORK/policy.toml" <<'TOML'
[policy]
name = "interop policy"
[algorithms]
allowed_key_types = ["ec-p256", "rsa-2048", "rsa-3072"]
min_rsa_bits = 2048
[pin]
min_length = 10
[crypto_periods]
max_key_days = 30
TOML
printf '[vault]\n%s\n' "$VAULT_SETTINGS" >"$WORK/certvault.conf"
export CERTVAULT_CONF="$WORK/certvault.conf"
if [[ "${CV_BACKEND:-embedded}" == daemon ]]; then
  # Restart certvaultd with the policy in its own configuration file.
  kill "$DAEMON_PID" && wait "$DAEMON_PID" 2>/dev/null || true
  rm -f "$CERTVAULT_SOCKET"
  CV_DAEMON_SETTINGS=$'\n[vault]\n'"$VAULT_SETTINGS" start_daemon
fi
init_token

expect_refused() {  # expect_refused CKR_... DESCRIPTION pkcs11-tool-args...
  local ckr="$1" what="$2"
  shift 2
  if p11_user "$@" >"$WORK/refused.out" 2>&1; then fail "$what was accepted"; fi
  grep -q "$ckr" "$WORK/refused.out" || { cat "$WORK/refused.out" >&2; fail "$what: expected $ckr"; }
  log "$what: $ckr"
}
expect_refused CKR_KEY_SIZE_RANGE "RSA-1024 key pair" --keypairgen --key-type rsa:1024 --label weak
expect_refused CKR_KEY_SIZE_RANGE "P-384 key pair" --keypairgen --key-type EC:secp384r1 --label p384
p11_user --keypairgen --key-type EC:prime256v1 --label ok >/dev/null 2>&1 || fail "P-256 key pair refused"
p11_user --list-objects --type privkey 2>/dev/null | grep -q "label:.*ok" || fail "the P-256 key is missing"
p11_user --list-objects --type privkey 2>/dev/null | grep -q "weak" && fail "the refused RSA-1024 key was stored"
expect_refused CKR_PIN_LEN_RANGE "a 9-character PIN" --change-pin --new-pin 123456789
# [crypto_periods] max_key_days through PyKCS11: no date change stretches a
# key's period (docs/design/policy.md).
if "$PY" -c 'import PyKCS11' 2>/dev/null; then
  timeout "$T" "$PY" "$INTEROP_DIR/p11_policy_period.py" --module "$MODULE" --token "$TOKEN_LABEL" \
    --pin "$USER_PIN" >"$WORK/period.out" 2>&1 || { cat "$WORK/period.out" >&2; fail "PyKCS11 crypto-period checks"; }
  log "max_key_days: date changes stay within the period (PyKCS11)"
else
  log "PyKCS11 missing: crypto-period checks skipped"
fi

# allow_weak_pin contradicts [pin] min_length = 10: nothing starts.
if [[ "${CV_BACKEND:-embedded}" == daemon ]]; then
  printf '[vault]\npolicy = policy.toml\nallow_weak_pin = true\n[daemon]\n' >"$WORK/contra.conf"
  if timeout "$T" "$CERTVAULTD" --config "$WORK/contra.conf" --socket "$WORK/contra.sock" >"$WORK/contra.log" 2>&1; then
    fail "certvaultd started with a contradicting config"
  fi
  grep -q "contradicts the policy" "$WORK/contra.log" || { cat "$WORK/contra.log" >&2; fail "no reason from certvaultd"; }
  log "a configuration contradicting the policy: certvaultd refuses to start"
  exit 0
fi
printf '[vault]\npolicy = policy.toml\nallow_weak_pin = true\n' >"$WORK/certvault.conf"
if p11 --list-slots >"$WORK/contra.out" 2>"$WORK/contra.err"; then fail "C_Initialize accepted a contradicting config"; fi
grep -q "CKR_FUNCTION_FAILED" "$WORK/contra.err" || { cat "$WORK/contra.err" >&2; fail "expected CKR_FUNCTION_FAILED"; }
# Only pkcs11-tool's own lines: the reason goes to syslog, never to stderr.
grep -qi "contradicts\|policy" "$WORK/contra.err" && { cat "$WORK/contra.err" >&2; fail "the module wrote to stderr"; }
log "a configuration contradicting the policy: C_Initialize fails"
