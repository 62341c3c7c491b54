#!/usr/bin/env bash
# Interop: OpenSC pkcs11-tool (Debian 12, opensc 0.23) against $MODULE.
# Covers: slot/mechanism listing, token init, RSA-2048 and EC P-256 keygen,
# sign/verify in the token and cross-checked with openssl, `--test`, a
# certificate object written and read back byte-identical, and wrong-PIN
# counting (count low -> final try -> locked) read from the token flags.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool openssl cmp
setup_env

p11 --list-slots >"$WORK/slots.txt" || fail "C_GetSlotList (pkcs11-tool -L) failed"
expect_contains "$WORK/slots.txt" "Slot 0" "no slot listed"
init_token
p11 --list-token-slots >"$WORK/tokens.txt" || fail "pkcs11-tool -T failed"
expect_contains "$WORK/tokens.txt" "token label +: $TOKEN_LABEL" "initialized token not listed"
expect_contains "$WORK/tokens.txt" "PIN initialized" "token does not report CKF_USER_PIN_INITIALIZED"
p11 --token-label "$TOKEN_LABEL" --list-mechanisms >"$WORK/mechs.txt" || fail "pkcs11-tool -M failed"
expect_contains "$WORK/mechs.txt" "ECDSA" "CKM_ECDSA missing from C_GetMechanismList"
expect_contains "$WORK/mechs.txt" "RSA-PKCS" "CKM_RSA_PKCS missing from C_GetMechanismList"

log "key pair generation (RSA-2048, EC P-256)"
p11_user --keypairgen --key-type rsa:2048 --id 01 --label rsa-key --usage-sign >/dev/null \
  || fail "RSA-2048 C_GenerateKeyPair failed"
p11_user --keypairgen --key-type EC:prime256v1 --id 02 --label ec-key --usage-sign >/dev/null \
  || fail "EC P-256 C_GenerateKeyPair failed"
p11_user --list-objects >"$WORK/objects.txt" || fail "pkcs11-tool -O failed"
expect_contains "$WORK/objects.txt" "label: +rsa-key" "RSA key not listed"
expect_contains "$WORK/objects.txt" "label: +ec-key" "EC key not listed"

log "sign in the token, verify in the token and with openssl"
head -c 1000 /dev/urandom >"$WORK/data.bin"
openssl dgst -sha256 -binary "$WORK/data.bin" >"$WORK/data.sha256"
# sign_and_check ID MECH INPUT [pkcs11-tool args]: C_Sign + C_Verify in the
# token, then openssl verifies the same signature with the exported public key,
# then a modified input must not verify.
sign_and_check() {
  local id=$1 mech=$2 in=$3
  shift 3
  p11_user --sign --id "$id" -m "$mech" "$@" -i "$in" -o "$WORK/sig.$id" \
    || fail "C_Sign with $mech failed"
  p11_user --verify --id "$id" -m "$mech" "$@" -i "$in" \
    --signature-file "$WORK/sig.$id" >"$WORK/verify.$id" || fail "C_Verify with $mech failed"
  expect_contains "$WORK/verify.$id" "Signature is valid" "token rejected its own $mech signature"
  p11 --token-label "$TOKEN_LABEL" --read-object --type pubkey --id "$id" -o "$WORK/pub.$id.der" \
    || fail "reading the public key $id failed"
  openssl pkeyutl -verify -pubin -keyform DER -inkey "$WORK/pub.$id.der" -in "$WORK/data.sha256" \
    -sigfile "$WORK/sig.$id" -pkeyopt digest:sha256 >/dev/null || fail "openssl rejects the $mech signature"
  # Flip one bit of byte 3 (writing a fixed byte would leave the data as it was
  # whenever that byte already had that value: 1 run in 256).
  python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[3] ^= 1; open(sys.argv[2], "wb").write(d)' \
    "$in" "$WORK/tampered"
  if p11_user --verify --id "$id" -m "$mech" "$@" -i "$WORK/tampered" \
      --signature-file "$WORK/sig.$id" >"$WORK/verify.$id" 2>&1 \
      && grep -q "Signature is valid" "$WORK/verify.$id"; then
    fail "$mech signature verified over modified data"
  fi
}
sign_and_check 01 SHA256-RSA-PKCS "$WORK/data.bin"
# CKM_ECDSA over a SHA-256 digest: what pkcs11-tool, libp11 and NSS use.
sign_and_check 02 ECDSA "$WORK/data.sha256" --signature-format openssl

log "pkcs11-tool --test"
# --allow-sw: our mechanisms are software (no CKF_HW); --session-rw: --test
# creates session objects. It signs/verifies/decrypts with every key present.
if ! p11_user --test --allow-sw --session-rw >"$WORK/test.txt" 2>&1; then
  # SoftHSM2 2.6 rejects OAEP with a label (CKR_ARGUMENTS_BAD); nothing to do with the client.
  if is_softhsm && grep -q "OAEP" "$WORK/test.txt" && grep -q "C_DecryptInit failed: rv = CKR_ARGUMENTS_BAD" "$WORK/test.txt"; then
    log "SoftHSM2 known limitation: RSA-OAEP with a label; accepting"
  else
    cat "$WORK/test.txt" >&2
    fail "pkcs11-tool --test"
  fi
else
  expect_contains "$WORK/test.txt" "No errors" "pkcs11-tool --test reported errors"
fi

log "certificate object: write, list, read back"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/k.pem" \
  -subj "/CN=interop cert" -days 1 -outform DER -out "$WORK/cert.der" 2>/dev/null || fail "openssl req"
p11_user --write-object "$WORK/cert.der" --type cert --id 03 --label cert-obj >/dev/null \
  || fail "C_CreateObject(CKO_CERTIFICATE) failed"
p11 --token-label "$TOKEN_LABEL" --list-objects --type cert >"$WORK/certs.txt" || fail "listing certs"
expect_contains "$WORK/certs.txt" "cert-obj" "certificate object not listed"
p11 --token-label "$TOKEN_LABEL" --read-object --type cert --id 03 -o "$WORK/cert.out" \
  || fail "reading the certificate back failed"
cmp -s "$WORK/cert.der" "$WORK/cert.out" || fail "certificate CKA_VALUE differs after round trip"

log "wrong PIN counting"
token_flags() { p11 --list-token-slots | grep -A6 "token label *: $TOKEN_LABEL" | grep "token flags" || true; }
expect_failure "C_Login with a wrong PIN" p11_user --pin "wrong-pin-0" --list-objects
[[ "$(token_flags)" == *"user PIN count low"* ]] || fail "no CKF_USER_PIN_COUNT_LOW after a wrong PIN: $(token_flags)"
p11_user --list-objects >/dev/null || fail "correct PIN refused after one wrong PIN"
if is_softhsm; then
  log "SoftHSM2 has no PIN lockout; skipping the lockout part"
  exit 0
fi
[[ "$(token_flags)" != *"count low"* ]] || fail "CKF_USER_PIN_COUNT_LOW not cleared by a good login"
saw_final=0
for attempt in $(seq 1 20); do
  flags="$(token_flags)"
  [[ "$flags" == *"user PIN locked"* ]] && break
  [[ "$flags" == *"final user PIN try"* ]] && saw_final=1
  expect_failure "wrong PIN attempt $attempt" p11_user --pin "wrong-pin-$attempt" --list-objects
done
flags="$(token_flags)"
[[ "$flags" == *"user PIN locked"* ]] || fail "PIN not locked after $attempt wrong PINs: $flags"
((saw_final)) || fail "never saw CKF_USER_PIN_FINAL_TRY before the lock"
log "locked after $((attempt - 1)) wrong PINs"
expect_failure "login with the correct PIN while locked" p11_user --list-objects
expect_contains "$WORK/expect_failure.out" "CKR_PIN_LOCKED" "locked token did not return CKR_PIN_LOCKED"
