#!/usr/bin/env bash
# Interop: GnuTLS p11tool (gnutls-bin 3.7) loading $MODULE via --provider
# (no system p11-kit config is involved). Covers: token listing, object
# listing with and without login, key generation through GnuTLS, public key
# export checked against the key pkcs11-tool reads, and a GnuTLS-made
# self-signed certificate whose signature is checked by openssl.
source "$(dirname "$0")/lib.sh"
need_tool p11tool pkcs11-tool certtool openssl
setup_env
init_token
export GNUTLS_PIN="$USER_PIN" GNUTLS_SO_PIN="$SO_PIN"
pt() { timeout "$T" p11tool --provider "$MODULE" "$@"; }
TOKEN_URL="pkcs11:token=$TOKEN_LABEL"

pt --list-tokens >"$WORK/tokens.txt" || fail "p11tool --list-tokens failed"
expect_contains "$WORK/tokens.txt" "Label: $TOKEN_LABEL" "token not listed by p11tool"
expect_contains "$WORK/tokens.txt" "URL: pkcs11:.*token=$TOKEN_LABEL" "no token URL"

log "generate an EC P-256 key through GnuTLS"
pt --login --generate-privkey ecdsa --curve secp256r1 --label gnutls-ec --id 0a \
  "$TOKEN_URL" >"$WORK/gen.pem" 2>"$WORK/gen.err" || { cat "$WORK/gen.err" >&2; fail "p11tool --generate-privkey"; }
expect_contains "$WORK/gen.pem" "BEGIN PUBLIC KEY" "generate did not print the public key"
p11_user --keypairgen --key-type rsa:2048 --id 0b --label tool-rsa --usage-sign >/dev/null \
  || fail "pkcs11-tool RSA keygen"

log "list objects"
pt --list-all "$TOKEN_URL" >"$WORK/public.txt" || fail "p11tool --list-all (no login) failed"
expect_contains "$WORK/public.txt" "Label: gnutls-ec" "public key of gnutls-ec not listed"
if grep -q "Type: Private key" "$WORK/public.txt"; then
  fail "private key visible without login (CKA_PRIVATE not honoured)"
fi
pt --login --list-all "$TOKEN_URL" >"$WORK/all.txt" || fail "p11tool --login --list-all failed"
expect_contains "$WORK/all.txt" "Type: Private key" "private keys not listed after login"
[[ $(grep -c "Type: Private key" "$WORK/all.txt") -eq 2 ]] || { cat "$WORK/all.txt" >&2; fail "expected 2 private keys"; }

log "export public keys and compare with pkcs11-tool's view"
for obj in gnutls-ec tool-rsa; do
  pt --export-pubkey "$TOKEN_URL;object=$obj;type=public" >"$WORK/$obj.pem" 2>/dev/null \
    || fail "p11tool --export-pubkey $obj failed"
  openssl pkey -pubin -in "$WORK/$obj.pem" -outform DER -out "$WORK/$obj.gnutls.der" \
    || fail "exported $obj key does not parse"
  p11 --token-label "$TOKEN_LABEL" --read-object --type pubkey --label "$obj" -o "$WORK/$obj.opensc.der" \
    || fail "pkcs11-tool cannot read $obj"
  cmp -s "$WORK/$obj.gnutls.der" "$WORK/$obj.opensc.der" || fail "p11tool and pkcs11-tool disagree on $obj"
done

log "certtool: self-signed certificate with the token key"
printf 'cn = "p11tool interop"\nexpiration_days = 1\nsigning_key\n' >"$WORK/tmpl"
for obj in gnutls-ec tool-rsa; do
  timeout "$T" certtool --provider "$MODULE" --generate-self-signed --template "$WORK/tmpl" \
    --load-privkey "$TOKEN_URL;object=$obj;type=private" \
    --load-pubkey "$TOKEN_URL;object=$obj;type=public" --outfile "$WORK/$obj.crt" 2>"$WORK/certtool.err" \
    || { cat "$WORK/certtool.err" >&2; fail "certtool signing with $obj failed"; }
  openssl verify -CAfile "$WORK/$obj.crt" -check_ss_sig "$WORK/$obj.crt" >/dev/null \
    || fail "openssl rejects the certificate signed by $obj in the token"
done
