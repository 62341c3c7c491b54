#!/usr/bin/env bash
# Interop: key lifecycle (docs/design/attributes.md, "Key lifecycle") seen by
# real clients. PyKCS11 (p11_lifecycle.py) reads and sets the vendor
# attributes CKA_CV_KEY_STATE/_TIME/_REASON and sees signing refused with
# CKR_KEY_FUNCTION_NOT_PERMITTED on deactivated, expired, not-yet-valid,
# compromised and destroyed keys; then pkcs11-tool is refused a signature
# with the key PyKCS11 deactivated, `certvault list` shows the states and
# `certvault key state` suspends a key pkcs11-tool then cannot sign with.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool
need_python_module PyKCS11
setup_env
init_token
timeout "$T" "$PY" "$INTEROP_DIR/p11_lifecycle.py" --module "$MODULE" --token "$TOKEN_LABEL" \
  --pin "$USER_PIN" || fail "PyKCS11 lifecycle checks (exit $?)"

log "pkcs11-tool: a signature with the deactivated key is refused"
head -c 32 /dev/urandom >"$WORK/digest.bin"
expect_failure "pkcs11-tool --sign with a deactivated key" \
  p11_user --sign --id "$(printf deactivated | od -An -tx1 | tr -d ' \n')" -m ECDSA -i "$WORK/digest.bin" -o "$WORK/sig.bin"
expect_contains "$WORK/expect_failure.out" "CKR_KEY_FUNCTION_NOT_PERMITTED" \
  "pkcs11-tool did not report CKR_KEY_FUNCTION_NOT_PERMITTED"
p11_user --sign --id "$(printf today | od -An -tx1 | tr -d ' \n')" -m ECDSA -i "$WORK/digest.bin" -o "$WORK/sig.bin" >"$WORK/today.out" 2>&1 \
  || { cat "$WORK/today.out" >&2; fail "an active key in its period no longer signs"; }

if [[ -n "${CLI:-}" ]]; then
  log "certvault list shows the states"
  CERTVAULT_PIN="$USER_PIN" timeout "$T" "$CLI" --json list >"$WORK/list.json" || fail "certvault list failed"
  expect_contains "$WORK/list.json" '"label":"deactivated"[^}]*"state":"deactivated"' "list: deactivated key"
  expect_contains "$WORK/list.json" '"label":"expired"[^}]*"state":"deactivated","stored_state":"active"' \
    "list: a key past its end date is effectively deactivated"
  expect_contains "$WORK/list.json" '"label":"end-of-life"[^}]*"state":"destroyed"' "list: destroyed key"
  log "certvault key state suspends a key; pkcs11-tool can no longer sign with it"
  CERTVAULT_PIN="$USER_PIN" timeout "$T" "$CLI" key state --key today --set suspended --reason "audit" \
    >"$WORK/state.out" || fail "certvault key state failed"
  expect_contains "$WORK/state.out" "active -> suspended" "key state: no transition line"
  expect_failure "pkcs11-tool --sign with a suspended key" \
    p11_user --sign --id "$(printf today | od -An -tx1 | tr -d ' \n')" -m ECDSA -i "$WORK/digest.bin" -o "$WORK/sig.bin"
  expect_contains "$WORK/expect_failure.out" "CKR_KEY_FUNCTION_NOT_PERMITTED" "suspended key: wrong error"
fi
