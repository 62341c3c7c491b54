#!/usr/bin/env bash
# certvault-ca OCSP (issue 12 §3), with ocsp_url = "http://host:port/ocsp"
# (the documented form, a URL with a path):
#   - POST and GET (RFC 6960 A.1) at both "/" and "/ocsp/";
#   - CertIDs hashed with SHA-1, SHA-256, SHA-384 and SHA-512 are answered;
#     any other hash gets "unknown" for that CertID, not malformedRequest;
#   - `ocsp rotate` makes a new signing key and certificate while the
#     responder runs: it switches to it, and the old certificate is revoked;
#   - once the OCSP signer is revoked it never signs again: the issuing CA
#     key signs the responses (RFC 6960 §4.2.2.2).
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool curl
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
sed -i "s|^ocsp_url = .*|ocsp_url = \"http://127.0.0.1:$OCSP_PORT/ocsp\"|" "$CA_DIR/ca.toml"
ca init 2>/dev/null || fail "init failed"
new_csr d1 ec d1 "DNS:d1.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue"
ca_bg ocsp serve --port "$OCSP_PORT" >"$WORK/ocsp.log" 2>&1
wait_for_line "$WORK/ocsp.log" "listening on" 20 || { cat "$WORK/ocsp.log"; fail "OCSP responder did not start"; }

# status URL [openssl ocsp args...]: POST through openssl ocsp; prints the
# certificate's status and keeps the response in $WORK/resp.der.
status() {
  local url=$1
  shift
  timeout "$T" openssl ocsp -url "$url" -issuer "$CA_DIR/issuing.pem" "$@" -cert "$WORK/d1.pem" \
    -CAfile "$CA_DIR/chain.pem" -no_nonce -respout "$WORK/resp.der" >"$WORK/ocsp.out" 2>&1 \
    || { cat "$WORK/ocsp.out" >&2; fail "openssl ocsp"; }
  expect_contains "$WORK/ocsp.out" "Response verify OK" "OCSP response does not verify"
  sed -n "s|^$WORK/d1.pem: \([a-z]*\)$|\1|p" "$WORK/ocsp.out"
}
# get_status PREFIX: GET of the URL-encoded base64 request under PREFIX.
get_status() {
  timeout "$T" openssl ocsp -issuer "$CA_DIR/issuing.pem" -cert "$WORK/d1.pem" -no_nonce -reqout "$WORK/req.der" \
    >/dev/null 2>&1 || fail "openssl ocsp -reqout"
  local b64
  b64=$("$PY" -c 'import base64,sys,urllib.parse; print(urllib.parse.quote(base64.b64encode(open(sys.argv[1],"rb").read()).decode(), safe=""))' "$WORK/req.der")
  curl -sf "http://127.0.0.1:$OCSP_PORT$1$b64" -o "$WORK/get.der" || fail "GET $1 failed"
  timeout "$T" openssl ocsp -respin "$WORK/get.der" -issuer "$CA_DIR/issuing.pem" -cert "$WORK/d1.pem" \
    -CAfile "$CA_DIR/chain.pem" >"$WORK/get.out" 2>&1 || { cat "$WORK/get.out" >&2; fail "GET $1: bad response"; }
  sed -n "s|^$WORK/d1.pem: \([a-z]*\)$|\1|p" "$WORK/get.out"
}
# signed_by CERT: true when the response in $WORK/resp.der carries CERT as
# its signer and its signature verifies under CERT's key.
signed_by() {
  "$PY" - "$WORK/resp.der" "$1" <<'PYEOF'
from cryptography.hazmat.primitives.asymmetric import ec
import sys
from cryptography import x509
from cryptography.x509 import ocsp
resp = ocsp.load_der_ocsp_response(open(sys.argv[1], "rb").read())
want = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
certs = resp.certificates
assert certs and certs[0] == want, "responder certificate differs"
want.public_key().verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm))
PYEOF
}

for url in "http://127.0.0.1:$OCSP_PORT" "http://127.0.0.1:$OCSP_PORT/" "http://127.0.0.1:$OCSP_PORT/ocsp" \
           "http://127.0.0.1:$OCSP_PORT/ocsp/"; do
  [[ "$(status "$url")" == good ]] || fail "POST $url: not good"
done
for prefix in "/" "/ocsp/"; do
  [[ "$(get_status "$prefix")" == good ]] || fail "GET $prefix: not good"
done
log "POST and GET at / and /ocsp/"

for md in sha1 sha256 sha384 sha512; do
  [[ "$(status "http://127.0.0.1:$OCSP_PORT/ocsp" "-$md")" == good ]] || fail "CertID with $md: not good"
done
for md in sha224 md5; do
  [[ "$(status "http://127.0.0.1:$OCSP_PORT/ocsp" "-$md")" == unknown ]] || fail "CertID with $md: not unknown"
done
log "CertID hashes: SHA-1/256/384/512 answered, others unknown"

signed_by "$CA_DIR/ocsp.pem" || fail "the response is not signed by the OCSP signer"
OLD_SIGNER=$(serial_of "$CA_DIR/ocsp.pem")
cp "$CA_DIR/ocsp.pem" "$WORK/old-ocsp.pem"
ca ocsp rotate 2>/dev/null || fail "ocsp rotate"
cmp -s "$CA_DIR/ocsp.pem" "$WORK/old-ocsp.pem" && fail "ocsp rotate did not write a new ocsp.pem"
ca show "$OLD_SIGNER" | grep -q "status: revoked" || fail "the old OCSP signer is not revoked"
deadline=$((SECONDS + 30))
until [[ "$(status "http://127.0.0.1:$OCSP_PORT/ocsp")" == good ]] && signed_by "$CA_DIR/ocsp.pem" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the responder does not use the rotated signer"
  sleep 0.5
done
log "ocsp rotate: the running responder signs with the new signer"

NEW_SIGNER=$(serial_of "$CA_DIR/ocsp.pem")
ca revoke "$NEW_SIGNER" --reason keyCompromise 2>/dev/null || fail "revoking the OCSP signer"
deadline=$((SECONDS + 30))
until [[ "$(status "http://127.0.0.1:$OCSP_PORT/ocsp" -VAfile "$CA_DIR/issuing.pem")" == good ]] \
      && signed_by "$CA_DIR/issuing.pem" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the revoked OCSP signer still signs"
  sleep 0.5
done
expect_contains "$WORK/ocsp.log" "the OCSP signer is revoked" "the responder does not say why it switched"
log "a revoked OCSP signer never signs again: the issuing CA signs"
log PASS
