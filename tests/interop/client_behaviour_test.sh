#!/usr/bin/env bash
# Interop: the PKCS#11 behaviour real clients rely on (issue 11 §4), with
# OpenSC pkcs11-tool and PyKCS11, embedded and through certvaultd:
#  - CKA_ALWAYS_AUTHENTICATE: pkcs11-tool generates such a key (--always-auth)
#    and signs with it, logging in with CKU_CONTEXT_SPECIFIC after C_SignInit;
#    openssl verifies the signature; certvault csr signs with it too;
#  - public token objects (a certificate, a public key) written in a R/W public
#    session without login, read back byte-identical;
#  - AES-ECB / AES-CBC in pkcs11-tool equal openssl enc -nopad; the new
#    mechanisms are listed;
#  - p11_behaviour.py: AES-ECB/CBC/CTR/CMAC, RSA_X_509 and GCM (ulIvBits=64)
#    against python3-cryptography, the context-specific login refused and
#    accepted, CKA_ALLOWED_MECHANISMS read as an empty array.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool openssl cmp xxd
need_python_module PyKCS11
setup_env
init_token

log "mechanism list"
p11 --token-label "$TOKEN_LABEL" --list-mechanisms >"$WORK/mechs.txt" || fail "pkcs11-tool -M failed"
for m in AES-ECB AES-CBC AES-CTR AES-CMAC RSA-X-509; do
  expect_contains "$WORK/mechs.txt" "^ *$m," "$m missing from C_GetMechanismList"
done

log "CKA_ALWAYS_AUTHENTICATE: pkcs11-tool signs with a context-specific login"
p11_user --keypairgen --key-type EC:prime256v1 --id 0a --label aa-key --usage-sign --always-auth >/dev/null \
  || fail "C_GenerateKeyPair with CKA_ALWAYS_AUTHENTICATE failed"
p11_user --list-objects --type privkey >"$WORK/privkeys.txt" || fail "listing private keys"
expect_contains "$WORK/privkeys.txt" "[Aa]lways ?[Aa]uth" "pkcs11-tool does not see CKA_ALWAYS_AUTHENTICATE"
head -c 300 /dev/urandom >"$WORK/data.bin"
openssl dgst -sha256 -binary "$WORK/data.bin" >"$WORK/data.sha256"
for round in 1 2; do
  p11_user --sign --id 0a -m ECDSA --signature-format openssl -i "$WORK/data.sha256" -o "$WORK/aa.sig" \
    >"$WORK/aa-sign.txt" 2>&1 || { cat "$WORK/aa-sign.txt" >&2; fail "signing with an always-authenticate key (round $round)"; }
done
p11 --token-label "$TOKEN_LABEL" --read-object --type pubkey --id 0a -o "$WORK/aa-pub.der" \
  || fail "reading the always-authenticate public key"
openssl pkeyutl -verify -pubin -keyform DER -inkey "$WORK/aa-pub.der" -in "$WORK/data.sha256" \
  -sigfile "$WORK/aa.sig" >/dev/null || fail "openssl rejects the always-authenticate signature"

if [[ -n "${CLI:-}" ]]; then
  timeout "$T" "$CLI" csr --key aa-key --subject /CN=always-auth --out "$WORK/aa.csr" --pin "$USER_PIN" \
    >"$WORK/aa-csr.txt" 2>&1 || { cat "$WORK/aa-csr.txt" >&2; fail "certvault csr with an always-authenticate key"; }
  openssl req -verify -noout -in "$WORK/aa.csr" 2>/dev/null || fail "the CSR signed with the always-authenticate key"
fi

log "public token objects in a R/W public session, without login"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/k.pem" \
  -subj "/CN=public object" -days 1 -outform DER -out "$WORK/cert.der" 2>/dev/null || fail "openssl req"
openssl pkey -in "$WORK/k.pem" -pubout -outform DER -out "$WORK/pub.der" 2>/dev/null || fail "openssl pkey"
p11 --token-label "$TOKEN_LABEL" --write-object "$WORK/cert.der" --type cert --id 0b --label pub-cert >/dev/null \
  || fail "C_CreateObject(CKO_CERTIFICATE) without login"
p11 --token-label "$TOKEN_LABEL" --write-object "$WORK/pub.der" --type pubkey --id 0b --label pub-key >/dev/null \
  || fail "C_CreateObject(CKO_PUBLIC_KEY) without login"
p11 --token-label "$TOKEN_LABEL" --read-object --type cert --id 0b -o "$WORK/cert.out" || fail "reading the certificate"
cmp -s "$WORK/cert.der" "$WORK/cert.out" || fail "certificate differs after the round trip"
p11 --token-label "$TOKEN_LABEL" --read-object --type pubkey --id 0b -o "$WORK/pub.out" || fail "reading the public key"
cmp -s "$WORK/pub.der" "$WORK/pub.out" || fail "public key differs after the round trip"
head -c 32 /dev/urandom >"$WORK/aes.key"
expect_failure "a secret key without login" \
  p11 --token-label "$TOKEN_LABEL" --write-object "$WORK/aes.key" --type secrkey --key-type AES:32 --id 0c
expect_contains "$WORK/expect_failure.out" "CKR_USER_NOT_LOGGED_IN" "a secret key without login: not CKR_USER_NOT_LOGGED_IN"

log "AES-ECB and AES-CBC (no padding) equal openssl enc -nopad"
p11_user --write-object "$WORK/aes.key" --type secrkey --key-type AES:32 --id 0d --label aes-key \
  --usage-decrypt >/dev/null || fail "importing an AES-256 key"
head -c 64 /dev/urandom >"$WORK/plain.bin"
iv="000102030405060708090a0b0c0d0e0f"
key_hex="$(xxd -p -c 64 "$WORK/aes.key")"
# aes_check MECH OPENSSL_CIPHER [IV]: C_Encrypt equals openssl enc -nopad; C_Decrypt round trip.
aes_check() {
  local mech=$1 ossl=$2 p11_iv=() ossl_iv=()
  if [[ $# -ge 3 ]]; then p11_iv=(--iv "$3"); ossl_iv=(-iv "$3"); fi
  p11_user --encrypt --id 0d -m "$mech" "${p11_iv[@]}" -i "$WORK/plain.bin" -o "$WORK/ct.$mech" \
    || fail "C_Encrypt with $mech"
  openssl enc "-$ossl" -nopad -K "$key_hex" "${ossl_iv[@]}" -in "$WORK/plain.bin" -out "$WORK/ct.$mech.ossl" \
    || fail "openssl enc -$ossl"
  cmp -s "$WORK/ct.$mech" "$WORK/ct.$mech.ossl" || fail "$mech ciphertext differs from openssl's"
  p11_user --decrypt --id 0d -m "$mech" "${p11_iv[@]}" -i "$WORK/ct.$mech" -o "$WORK/pt.$mech" \
    || fail "C_Decrypt with $mech"
  cmp -s "$WORK/plain.bin" "$WORK/pt.$mech" || fail "$mech round trip differs"
}
aes_check AES-ECB aes-256-ecb
aes_check AES-CBC aes-256-cbc "$iv"

log "PyKCS11: new mechanisms against python3-cryptography, context-specific login"
timeout "$T" "$PY" "$INTEROP_DIR/p11_behaviour.py" --module "$MODULE" --token "$TOKEN_LABEL" --pin "$USER_PIN" \
  || fail "p11_behaviour.py (exit $?)"
