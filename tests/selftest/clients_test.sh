#!/usr/bin/env bash
# Real clients against the test-only fault-injection twins of the module
# ($MODULE) and the provider ($PROVIDER, optional): with a power-on test made
# to fail, pkcs11-tool still lists the slot, but opening a session or
# initializing the token fails with CKR_DEVICE_ERROR; openssl cannot load
# the provider. Without a fault both work.
set -uo pipefail
: "${MODULE:?path of libcertvault-pkcs11-faults.so}"
command -v pkcs11-tool >/dev/null || { echo "SKIP: pkcs11-tool not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CERTVAULT_HOME="$work/vault"
mkdir -p "$CERTVAULT_HOME"
fail() { echo "FAIL: $*"; [ -f "$work/out" ] && cat "$work/out"; exit 1; }
p11() { timeout 60 pkcs11-tool --module "$MODULE" "$@" >"$work/out" 2>&1; }

for t in sha256 ecdsa-p384 argon2id drbg; do
  export CERTVAULT_SELFTEST_FAULT=$t
  p11 -L || fail "$t: pkcs11-tool -L"
  grep -q "certvault slot" "$work/out" || fail "$t: no slot listed"
  p11 --init-token --label x --so-pin so-pin-1234 && fail "$t: token initialized in the error state"
  grep -q CKR_DEVICE_ERROR "$work/out" || fail "$t: C_InitToken is not CKR_DEVICE_ERROR"
  p11 -O && fail "$t: session opened in the error state"
  grep -q CKR_DEVICE_ERROR "$work/out" || fail "$t: C_OpenSession is not CKR_DEVICE_ERROR"
  if [ -n "${PROVIDER:-}" ]; then
    OPENSSL_CONF=/dev/null timeout 60 openssl list -providers -provider-path "$(dirname "$PROVIDER")" \
      -provider "$(basename "$PROVIDER" .so)" >"$work/out" 2>&1 && fail "$t: openssl loaded the provider"
    grep -q "error state: $t" "$work/out" || fail "$t: openssl does not show the self-test reason"
  fi
done
unset CERTVAULT_SELFTEST_FAULT
p11 --init-token --label x --so-pin so-pin-1234 || fail "no fault: C_InitToken"
echo "clients OK"
