#!/usr/bin/env bash
# Interop: NSS tools (libnss3-tools) with $MODULE added to a temp NSS database:
# modutil -add / -list, certutil -U lists the token, certutil -K -h <token>
# lists the token's keys (after login), certutil -L -h <token> lists a
# certificate object, and certutil signs a certificate request with a token key.
source "$(dirname "$0")/lib.sh"
need_tool modutil certutil pkcs11-tool openssl
setup_env
init_token
DB="sql:$WORK/nssdb"
mkdir -p "$WORK/nssdb"
printf '%s\n' "$USER_PIN" >"$WORK/pin.txt"
timeout "$T" certutil -N -d "$DB" --empty-password || fail "certutil -N (create NSS db)"
timeout "$T" modutil -dbdir "$DB" -add certvault-interop -libfile "$MODULE" -force >"$WORK/add.log" 2>&1 \
  || { cat "$WORK/add.log" >&2; fail "modutil -add"; }
timeout "$T" modutil -dbdir "$DB" -list >"$WORK/list.txt" 2>&1 || fail "modutil -list"
expect_contains "$WORK/list.txt" "certvault-interop" "module missing from modutil -list"
expect_contains "$WORK/list.txt" "token: $TOKEN_LABEL" "token missing from modutil -list"

timeout "$T" certutil -U -d "$DB" >"$WORK/tokens.txt" 2>&1 || fail "certutil -U"
expect_contains "$WORK/tokens.txt" "token: $TOKEN_LABEL" "token missing from certutil -U"

p11_user --keypairgen --key-type EC:prime256v1 --id 41 --label nss-ec --usage-sign >/dev/null || fail "EC keygen"
p11_user --keypairgen --key-type rsa:2048 --id 42 --label nss-rsa --usage-sign >/dev/null || fail "RSA keygen"
timeout "$T" certutil -K -d "$DB" -h "$TOKEN_LABEL" -f "$WORK/pin.txt" >"$WORK/keys.txt" 2>&1 \
  || { cat "$WORK/keys.txt" >&2; fail "certutil -K -h $TOKEN_LABEL"; }
expect_contains "$WORK/keys.txt" "< *[0-9]+> *ec .*nss-ec|nss-ec" "EC key missing from certutil -K"
expect_contains "$WORK/keys.txt" "rsa .*nss-rsa|nss-rsa" "RSA key missing from certutil -K"

log "certificate object visible to NSS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/k.pem" \
  -subj "/CN=nss interop" -days 1 -outform DER -out "$WORK/cert.der" 2>/dev/null || fail "openssl req"
p11_user --write-object "$WORK/cert.der" --type cert --id 43 --label nss-cert >/dev/null || fail "write cert"
timeout "$T" certutil -L -d "$DB" -h "$TOKEN_LABEL" -f "$WORK/pin.txt" >"$WORK/certs.txt" 2>&1 \
  || { cat "$WORK/certs.txt" >&2; fail "certutil -L -h $TOKEN_LABEL"; }
expect_contains "$WORK/certs.txt" "nss-cert" "certificate missing from certutil -L"

log "NSS signs a certificate request with the token key"
head -c 64 /dev/urandom >"$WORK/noise"
# -k takes the key's CKA_ID in hex (41, set above); NSS key nicknames need a cert.
timeout "$T" certutil -R -d "$DB" -h "$TOKEN_LABEL" -f "$WORK/pin.txt" -k 41 \
  -s "CN=nss csr" -a -o "$WORK/req.pem" -z "$WORK/noise" </dev/null >"$WORK/req.log" 2>&1 \
  || { cat "$WORK/req.log" >&2; fail "certutil -R with the token EC key"; }
openssl req -in "$WORK/req.pem" -verify -noout 2>"$WORK/verify.log" || { cat "$WORK/verify.log" >&2; fail "CSR signature invalid"; }
