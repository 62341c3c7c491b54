#!/usr/bin/env bash
# certvault-ca refuses bad input with a clear message and stores nothing:
# malformed DER and PEM CSRs, a CSR whose signature is broken, a forbidden
# SAN, a key type the profile does not allow, an oversized request, a batch
# mixing good and bad CSRs (only the good ones are stored), revoking an
# unknown serial, bad serial syntax, and a malformed ca.toml.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
ca init || fail "init failed"
count() { ca list --limit 100000 | wc -l; }
BASE=$(count)

# refused WHAT PATTERN ARGS...: certvault-ca must fail, print PATTERN, store nothing.
refused() {
  local what=$1 pattern=$2
  shift 2
  expect_failure "$what" ca "$@"
  expect_contains "$WORK/expect_failure.out" "$pattern" "$what: unclear error"
  [[ $(count) -eq $BASE ]] || fail "$what: something was stored"
  log "refused: $what"
}

new_csr good ec good "DNS:good.devices.example.com"
head -c 300 /dev/urandom >"$WORK/junk.der"
refused "malformed DER CSR" "malformed CSR" issue --profile device --csr "$WORK/junk.der"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; echo "bm90IGEgY3Ny"; echo "-----END CERTIFICATE REQUEST-----"; } >"$WORK/junk.pem"
refused "malformed PEM CSR" "malformed CSR" issue --profile device --csr "$WORK/junk.pem"
openssl req -in "$WORK/good.csr" -outform DER -out "$WORK/good.der"
cp "$WORK/good.der" "$WORK/badsig.der"
size=$(stat -c %s "$WORK/badsig.der")
# Flip one bit inside the signature value (the last bytes of the DER).
"$PY" - "$WORK/badsig.der" <<'PYEOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-3] ^= 0x01
open(p, "wb").write(bytes(b))
PYEOF
refused "bad CSR signature" "signature does not verify" issue --profile device --csr "$WORK/badsig.der"
new_csr evil ec evil "DNS:evil.example.org"
refused "forbidden SAN" "outside the names" issue --profile device --csr "$WORK/evil.csr"
new_csr ipsan ec ipsan "IP:192.0.2.1"
refused "forbidden SAN type" "not allowed" issue --profile device --csr "$WORK/ipsan.csr"
new_csr rsa rsa:2048 rsa "DNS:rsa.devices.example.com"
refused "wrong key type" "public key type rsa-2048 is not allowed" issue --profile ec-only --csr "$WORK/rsa.csr"
new_csr weak rsa:1024 weak "DNS:weak.devices.example.com"
refused "weak RSA key" "not allowed" issue --profile device --csr "$WORK/weak.csr"
sans=$(for i in $(seq 1 400); do printf 'DNS:host-%03d-with-a-long-label.devices.example.com,' "$i"; done)
new_csr big ec big "${sans%,}"
refused "oversized request" "exceeds the limit" issue --profile device --csr "$WORK/big.csr"
refused "unknown profile" "no profile" issue --profile nope --csr "$WORK/good.csr"
new_csr ou ec ou "DNS:ou.devices.example.com"
openssl req -new -key "$WORK/ou.key" -subj "/CN=ou/OU=sneaky" -out "$WORK/ou.csr"
refused "forbidden subject attribute" "OU is not allowed" issue --profile device --csr "$WORK/ou.csr"
refused "revoking an unknown serial" "no certificate with serial" revoke 0123456789abcdef
refused "bad serial syntax" "hexadecimal" revoke not-a-serial
refused "unknown reason" "unknown revocation reason" revoke 01 --reason because

log "a mixed batch stores exactly the good CSRs"
mkdir -p "$WORK/batch" "$WORK/out"
cp "$WORK/good.csr" "$WORK/batch/1-good.csr"
cp "$WORK/junk.der" "$WORK/batch/2-junk.der"
cp "$WORK/evil.csr" "$WORK/batch/3-evil.csr"
rc=0
ca issue --profile device --batch "$WORK/batch" --out-dir "$WORK/out" >"$WORK/batch.log" 2>&1 || rc=$?
[[ $rc -eq 3 ]] || { cat "$WORK/batch.log"; fail "mixed batch: exit $rc, want 3"; }
expect_contains "$WORK/batch.log" "issued 1, refused 2" "mixed batch summary"
expect_contains "$WORK/batch.log" "refused 2-junk.der: malformed CSR" "mixed batch: junk not named"
[[ $(count) -eq $((BASE + 1)) ]] || fail "mixed batch stored the wrong number of certificates"
[[ -s "$WORK/out/1-good.pem" && ! -e "$WORK/out/3-evil.pem" ]] || fail "mixed batch wrote the wrong files"

log "malformed configuration"
cp "$CA_DIR/ca.toml" "$WORK/ca.toml.bak"
printf '[ca\nname = 1\n' >"$CA_DIR/ca.toml"
expect_failure "malformed ca.toml" ca list
expect_contains "$WORK/expect_failure.out" "ca.toml" "malformed ca.toml: unclear error"
cp "$WORK/ca.toml.bak" "$CA_DIR/ca.toml"
sed -i 's/key_usage = \["digitalSignature"\]/key_usage = ["digitalSignature", "keyCertSign"]/' "$CA_DIR/ca.toml"
expect_failure "profile with keyCertSign on a leaf" ca list
expect_contains "$WORK/expect_failure.out" "keyCertSign" "inconsistent profile: unclear error"
cp "$WORK/ca.toml.bak" "$CA_DIR/ca.toml"
chmod 644 "$CA_DIR/pin.txt"
expect_failure "world-readable PIN file" ca issue --profile device --csr "$WORK/good.csr"
expect_contains "$WORK/expect_failure.out" "chmod 600" "readable PIN file: unclear error"
chmod 600 "$CA_DIR/pin.txt"
echo "wrong-pin" >"$CA_DIR/pin.txt"
expect_failure "wrong PIN" ca issue --profile device --csr "$WORK/good.csr"
expect_contains "$WORK/expect_failure.out" "PIN rejected" "wrong PIN: unclear error"
grep -q "wrong-pin" "$WORK/expect_failure.out" && fail "the PIN appears in an error message"
# --pin-file replaces the PIN source named in ca.toml.
printf '%s\n' "$USER_PIN" >"$WORK/operator.pin"
chmod 600 "$WORK/operator.pin"
ca --pin-file "$WORK/operator.pin" issue --profile device --csr "$WORK/good.csr" --out "$WORK/good2.pem" \
  || fail "--pin-file was not used"
log "bad input refused"
