#!/usr/bin/env bash
# `certvault selftest [--json]` and `certvault-ca selftest [--json]` report
# every power-on test, and each injected failure (CERTVAULT_SELFTEST_FAULT,
# honoured only by the test-only *-faults builds in $CLI and $CA) is reported
# by name with a failing exit code; certvault-ca then refuses every command.
set -u
: "${CLI:?path of certvault-faults}" "${CA:?path of certvault-ca-faults}"
TESTS="integrity drbg sha256 sha384 hmac-sha256 aes-gcm ecdsa-p256 ecdsa-p384 ed25519 rsa-pss argon2id"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

unset CERTVAULT_SELFTEST_FAULT
for prog in "$CLI" "$CA"; do
  name=$(basename "$prog")
  "$prog" selftest >"$work/out" 2>&1; rc=$?
  check "$name selftest passes" test "$rc" -eq 0
  check "$name reports 11 tests" test "$(grep -c '^PASS ' "$work/out")" -eq 11
  "$prog" selftest --json >"$work/json" 2>"$work/err"
  check "$name --json is JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and len(d["tests"]) == 11' "$work/json"
done

for t in $TESTS; do
  for prog in "$CLI" "$CA"; do
    name=$(basename "$prog")
    CERTVAULT_SELFTEST_FAULT=$t "$prog" selftest --json >"$work/json" 2>"$work/err"; rc=$?
    check "$name selftest fails on $t" test "$rc" -ne 0
    check "$name reports $t alone" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bad = [t["name"] for t in d["tests"] if not t["ok"]]
assert not d["ok"] and bad == [sys.argv[2]], bad' "$work/json" "$t"
  done
  # The CA's gate: any other command is refused, the reason logged once.
  CERTVAULT_SELFTEST_FAULT=$t "$CA" --dir "$work" profiles >"$work/out" 2>"$work/err"; rc=$?
  check "certvault-ca refuses commands on $t" test "$rc" -eq 1
  check "certvault-ca logs $t once" test "$(grep -c "error state: $t" "$work/err")" -eq 1
done

echo "selftest programs: $fails failure(s)"
test "$fails" -eq 0
