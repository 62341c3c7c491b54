#!/usr/bin/env bash
# First-use PIN change (issue 11): a token made with `certvault init
# --pin-must-change` lets its user log in only to change the PIN, with
# pkcs11-tool (C_Login then C_SetPIN) and with `certvault change-pin`;
# everything else is refused (CKR_PIN_EXPIRED) until then.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool
[[ -n "${CLI:-}" && -x "$CLI" ]] || skip "CLI (certvault) not given"
is_softhsm && skip "certvault-specific (certvault init --pin-must-change)"
setup_env
NEW_PIN="new-user-pin-5678"

init_first_use() {
  timeout "$T" "$CLI" init --label "$1" --so-pin "$SO_PIN" --pin "$USER_PIN" --pin-must-change >/dev/null \
    || fail "certvault init --pin-must-change $1"
  timeout "$T" "$CLI" info --token "$1" | grep -q "user-pin-to-be-changed" || fail "$1: PIN not marked to be changed"
}

# --- pkcs11-tool ---
init_first_use first-use
if p11 --token-label first-use --login --pin "$USER_PIN" --list-objects >"$WORK/expired.out" 2>&1; then
  fail "pkcs11-tool listed private objects with a PIN that must be changed"
fi
grep -q "CKR_PIN_EXPIRED" "$WORK/expired.out" || { cat "$WORK/expired.out" >&2; fail "expected CKR_PIN_EXPIRED"; }
p11 --token-label first-use --login --pin "$USER_PIN" --change-pin --new-pin "$NEW_PIN" >"$WORK/change.out" 2>&1 \
  || { cat "$WORK/change.out" >&2; fail "pkcs11-tool --login --change-pin"; }
p11 --token-label first-use --login --pin "$NEW_PIN" --keypairgen --key-type EC:prime256v1 --label k1 >/dev/null 2>&1 \
  || fail "the new PIN does not work for a key pair"
if p11 --token-label first-use --login --pin "$USER_PIN" --list-objects >/dev/null 2>&1; then
  fail "the old PIN still works"
fi
timeout "$T" "$CLI" info --token first-use | grep -q "user-pin-to-be-changed" && fail "flag still set after the change"
log "pkcs11-tool --login --pin OLD --change-pin --new-pin NEW"

# --- certvault change-pin ---
init_first_use first-use-cli
if timeout "$T" "$CLI" list --token first-use-cli --login --pin "$USER_PIN" >/dev/null 2>"$WORK/cli-expired.err"; then
  fail "certvault list --login worked with a PIN that must be changed"
fi
grep -qi "must be changed" "$WORK/cli-expired.err" || { cat "$WORK/cli-expired.err" >&2; fail "no 'must be changed' message"; }
timeout "$T" "$CLI" change-pin --token first-use-cli --pin "$USER_PIN" --new-pin short 2>"$WORK/weak.err" \
  && fail "a 5-character PIN was accepted"
grep -q "6 to" "$WORK/weak.err" || { cat "$WORK/weak.err" >&2; fail "no PIN policy message"; }
timeout "$T" "$CLI" change-pin --token first-use-cli --pin "$USER_PIN" --new-pin "$NEW_PIN" 2>"$WORK/cli-change.err" \
  || { cat "$WORK/cli-change.err" >&2; fail "certvault change-pin"; }
timeout "$T" "$CLI" keygen --token first-use-cli --label k2 --type ec:p256 --pin "$NEW_PIN" >/dev/null \
  || fail "the new PIN does not work for certvault keygen"
log "certvault change-pin --pin OLD --new-pin NEW"
