#!/usr/bin/env bash
# EST after a key rollover (issue 17): the TLS layer trusts the retired
# issuing generation's certificates, so the EST service checks them against
# the database like the current generation's:
#   - a device certificate of generation 1, still valid, re-enrolls after the
#     rollover (simplereenroll) and gets a certificate of generation 2;
#   - a revoked one of generation 1 is refused (403), also where
#     [[server.authorize]] grants its issuer a profile (it used to pass as a
#     foreign certificate, unchecked).
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
is_softhsm && skip "the TLS server key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
serve_ca_setup "$CA_DIR"
for d in d1 d2; do
  new_csr "$d" ec "$d.devices.example.com" "DNS:$d.devices.example.com"
  ca issue --profile device --csr "$WORK/$d.csr" --out "$WORK/$d.pem" 2>/dev/null || fail "issue $d"
done
ca rollover 2>"$WORK/r.out" || { cat "$WORK/r.out" >&2; fail "rollover"; }
ca revoke "$(serial_of "$WORK/d2.pem")" --reason keyCompromise 2>/dev/null || fail "revoke d2"
ca_bg serve >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }
EST="https://127.0.0.1:$HTTPS_PORT/.well-known/est"

# est OP CERT CSR-NAME: the HTTP status of OP with CERT's key; the body in $WORK/out.
est() {
  new_csr "$3" ec "$3.devices.example.com" "DNS:$3.devices.example.com"
  openssl req -in "$WORK/$3.csr" -outform DER | openssl base64 >"$WORK/$3.b64"
  timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$WORK/$2.pem" --key "$WORK/$2.key" \
    -H "Content-Type: application/pkcs10" --data-binary @"$WORK/$3.b64" -o "$WORK/out" -w '%{http_code}' \
    "$EST/$1" || true
}

# Renewal keeps the subject: the CSR is d1's own.
code=$(timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$WORK/d1.pem" --key "$WORK/d1.key" \
  -H "Content-Type: application/pkcs10" --data-binary @<(openssl req -in "$WORK/d1.csr" -outform DER | openssl base64) \
  -o "$WORK/out" -w '%{http_code}' "$EST/simplereenroll" || true)
[[ $code == 200 ]] || { cat "$WORK/out"; fail "a valid generation-1 certificate cannot re-enroll after the rollover ($code)"; }
base64 -d "$WORK/out" | openssl pkcs7 -inform DER -print_certs >"$WORK/d1-new.pem" || fail "re-enrollment: not a PKCS#7"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/issuing-g2.pem" "$WORK/d1-new.pem" >/dev/null 2>&1 \
  || fail "the renewed certificate is not of generation 2"
log "a generation-1 device re-enrolls after the rollover and gets a generation-2 certificate"

[[ $(est device/simpleenroll d2 e2) == 403 ]] || fail "a revoked generation-1 certificate enrolled"
grep -q "revoked" "$WORK/out" || { cat "$WORK/out"; fail "refusal does not say revoked"; }
[[ $(est device/simpleenroll d1 e1) == 200 ]] || fail "a valid generation-1 certificate granted the profile cannot enroll"
log "a revoked generation-1 certificate is refused (403) where its issuer is authorized"
