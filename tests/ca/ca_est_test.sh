#!/usr/bin/env bash
# certvault-ca serve: EST (RFC 7030 + RFC 8951) over mutual TLS, driven by
# curl (issue 13). The TLS server key is in the CA's token and signs through
# certvault's OpenSSL provider (PROVIDER=certvault.so); the clients' keys are
# PEM files made by the openssl CLI.
#   - cacerts and csrattrs; simpleenroll with a bootstrap client certificate
#     listed in [[server.authorize]], and simplereenroll with the certificate
#     it got (same subject; a different subject is refused);
#   - the enrollment-code path (HTTP Basic), single use;
#   - refusals change nothing: unknown client certificate, revoked client
#     certificate, wrong code, reused code, malformed body, unknown
#     profile, wrong method, oversized body, EST over plain HTTP;
#   - OCSP and CRL on the plain HTTP port of the same server; /healthz,
#     /metrics and the access log (no password in it).
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
is_softhsm && skip "the TLS server key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"

# A bootstrap CA (the manufacturer's), outside certvault: its device
# certificates may enroll into the "device" profile.
boot_ca boot-ca
boot_cert terminal terminal-1 "$WORK/boot-ca"
boot_ca rogue-ca
boot_cert rogue terminal-1 "$WORK/rogue-ca"   # same names, untrusted key

cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
enroll_code_profiles = ["device"]
default_profile = "device"
max_body_bytes = 4096
access_log = "access.log"

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
profiles = ["device"]
TOML
ca init 2>/dev/null || fail "init"
ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
openssl verify -CAfile "$CA_DIR/chain.pem" "$CA_DIR/server.pem" >/dev/null || fail "server.pem does not verify"
ca_bg serve >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }
EST="https://127.0.0.1:$HTTPS_PORT/.well-known/est"

# est CODE_EXPECTED CURL_ARGS...: one request; the body is in $WORK/out.
est() {
  local want=$1
  shift
  local got
  got=$(timeout "$T" curl -s --cacert "$CA_DIR/root.pem" -o "$WORK/out" -w '%{http_code}' "$@") || true
  [[ "$got" == "$want" ]] || { cat "$WORK/out" >&2 || true; fail "curl $*: HTTP $got, expected $want"; }
}
# p7_certs FILE OUT: the certificates of a base64 certs-only response.
p7_certs() {
  openssl base64 -d -A -in "$1" | openssl pkcs7 -inform DER -print_certs -out "$2" || fail "not a certs-only PKCS#7"
}
count_issued() { ca list --limit 100000 2>/dev/null | grep -c "profile=device\|device" || true; }
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$3"; }; }  # fixed string
b64csr() { openssl req -in "$WORK/$1.csr" -outform DER | openssl base64 >"$WORK/$1.b64"; }

# TLS 1.3 by default, server key in the token.
timeout "$T" openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -CAfile "$CA_DIR/root.pem" -tls1_2 </dev/null \
  >"$WORK/s12.log" 2>&1 && fail "TLS 1.2 accepted without tls_min_version = \"1.2\""
timeout "$T" openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -CAfile "$CA_DIR/root.pem" -verify_return_error \
  </dev/null >"$WORK/s13.log" 2>&1 || { cat "$WORK/s13.log"; fail "TLS 1.3 handshake"; }
expect_contains "$WORK/s13.log" "TLSv1.3" "not TLS 1.3"
# ECDHE groups: key exchange runs in the default provider, not certvault's (vault keys only), so
# X25519 and P-256 work and no client is pushed to finite-field DH.
for group in X25519 P-256; do
  timeout "$T" openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -CAfile "$CA_DIR/root.pem" -groups "$group" \
    -verify_return_error </dev/null >"$WORK/sg.log" 2>&1 || { cat "$WORK/sg.log"; fail "TLS 1.3 with $group"; }
done
log "TLS 1.3 only; the server key signs in the token"

est 200 "$EST/cacerts"
p7_certs "$WORK/out" "$WORK/cacerts.pem"
[[ $(grep -c BEGIN "$WORK/cacerts.pem") == 2 ]] || fail "cacerts: expected issuing + root"
est 204 "$EST/device/csrattrs"   # EC and RSA keys: nothing to ask for
[[ ! -s "$WORK/out" ]] || fail "a 204 answer with content"
est 200 "$EST/ec-only/csrattrs"
openssl base64 -d -A -in "$WORK/out" | openssl asn1parse -inform DER >"$WORK/attrs.txt" || fail "csrattrs: not DER"
expect_contains "$WORK/attrs.txt" "prime256v1" "csrattrs: no curve"
log "cacerts and csrattrs (204 for a profile without a key type to ask for)"

new_csr d1 ec d1.devices.example.com "DNS:d1.devices.example.com"
b64csr d1
before=$(count_issued)
est 200 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" -H "Content-Type: application/pkcs10" \
  --data-binary @"$WORK/d1.b64" "$EST/device/simpleenroll"
p7_certs "$WORK/out" "$WORK/d1.pem"
openssl verify -CAfile "$CA_DIR/chain.pem" "$WORK/d1.pem" >/dev/null || fail "enrolled certificate does not verify"
[[ $(openssl x509 -in "$WORK/d1.pem" -noout -pubkey) == $(openssl pkey -in "$WORK/d1.key" -pubout) ]] \
  || fail "enrolled certificate is not for the CSR's key"
# The audit chain names the EST client, its address and the request (issue 15).
D1_SERIAL=$(openssl x509 -in "$WORK/d1.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
ca audit export | grep "\"target\":\"$D1_SERIAL\"" | grep '"role":"est-client"' | grep -q '"actor":"est:cert subject=' \
  || fail "the issue record does not name the EST client: $(ca audit export | grep "$D1_SERIAL")"
log "simpleenroll with a bootstrap client certificate"

# Re-enrollment with the certificate just issued (a new key, same subject).
new_csr d1b ec d1.devices.example.com "DNS:d1.devices.example.com"
b64csr d1b
est 200 --cert "$WORK/d1.pem" --key "$WORK/d1.key" --data-binary @"$WORK/d1b.b64" "$EST/simplereenroll"
p7_certs "$WORK/out" "$WORK/d1b.pem"
[[ $(openssl x509 -in "$WORK/d1b.pem" -noout -subject) == $(openssl x509 -in "$WORK/d1.pem" -noout -subject) ]] \
  || fail "re-enrollment changed the subject"
new_csr other ec other.devices.example.com "DNS:other.devices.example.com"
b64csr other
est 403 --cert "$WORK/d1.pem" --key "$WORK/d1.key" --data-binary @"$WORK/other.b64" "$EST/simplereenroll"
# RFC 7030 §4.2.2: the subjectAltNames stay too (same subject, another device's name).
new_csr d1san ec d1.devices.example.com "DNS:d1.devices.example.com,DNS:other.devices.example.com"
b64csr d1san
est 403 --cert "$WORK/d1.pem" --key "$WORK/d1.key" --data-binary @"$WORK/d1san.b64" "$EST/simplereenroll"
expect_contains "$WORK/out" "subjectAltNames differ" "re-enrollment with other SANs: not refused for them"
est 403 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --data-binary @"$WORK/d1b.b64" "$EST/simplereenroll"
log "simplereenroll keeps the subject and SANs; a foreign certificate cannot re-enroll"

# Enrollment code: single use, wrong password refused.
ca enroll-code --profile device >"$WORK/code.txt" 2>/dev/null || fail "enroll-code"
CODE_ID=$(sed -n 's/^id: //p' "$WORK/code.txt")
CODE_PW=$(sed -n 's/^password: //p' "$WORK/code.txt")
# The codes live in the CA database (SQLite here: the file and its WAL).
grep -q "$CODE_ID" "$CA_DIR"/ca.db* || fail "the enrollment code is not in the database"
grep -qF "$CODE_PW" "$CA_DIR"/ca.db* && fail "the enrollment password is stored in clear"
new_csr d2 ec d2.devices.example.com "DNS:d2.devices.example.com"
b64csr d2
est 401 -u "$CODE_ID:wrong-password" --data-binary @"$WORK/d2.b64" "$EST/device/simpleenroll"
est 401 --data-binary @"$WORK/d2.b64" "$EST/device/simpleenroll"
echo "!!!" >"$WORK/bad.b64"
est 400 -u "$CODE_ID:$CODE_PW" --data-binary @"$WORK/bad.b64" "$EST/device/simpleenroll"
est 200 -u "$CODE_ID:$CODE_PW" --data-binary @"$WORK/d2.b64" "$EST/device/simpleenroll"
p7_certs "$WORK/out" "$WORK/d2.pem"
est 403 -u "$CODE_ID:$CODE_PW" --data-binary @"$WORK/d2.b64" "$EST/device/simpleenroll"
log "enrollment code: wrong password 401, malformed body 400 (code kept), used once, reuse 403"

# strongSwan's pki --est (its own TLS stack): first enrollment with a code at
# the unlabelled URL (default_profile), re-enrollment with its certificate.
PKI_RUNS=0  # enrollments and re-enrollments made by pki (for the metrics below)
if command -v pki >/dev/null 2>&1; then
  PKI_RUNS=1
  printf 'libtls {\n  version_max = 1.3\n}\n' >"$WORK/strongswan.conf"
  ca enroll-code --profile device >"$WORK/code3.txt" 2>/dev/null || fail "enroll-code"
  new_csr s1 ec s1.devices.example.com "DNS:s1.devices.example.com"
  openssl req -in "$WORK/s1.csr" -outform DER -out "$WORK/s1.der"
  sw_pki() { STRONGSWAN_CONF="$WORK/strongswan.conf" timeout "$T" pki --est --url "https://127.0.0.1:$HTTPS_PORT" \
               --cacert "$CA_DIR/root.pem" --cacert "$CA_DIR/issuing.pem" --outform pem "$@"; }
  sw_pki --in "$WORK/s1.der" --userpass "$(sed -n 's/^id: //p' "$WORK/code3.txt"):$(sed -n 's/^password: //p' "$WORK/code3.txt")" \
    >"$WORK/s1.pem" 2>"$WORK/pki.log" || { cat "$WORK/pki.log"; fail "pki --est with a code"; }
  expect_contains "$WORK/pki.log" "Issued certificate is trusted" "pki --est: certificate not trusted"
  new_csr s1b ec s1.devices.example.com "DNS:s1.devices.example.com"
  openssl req -in "$WORK/s1b.csr" -outform DER -out "$WORK/s1b.der"
  sw_pki --in "$WORK/s1b.der" --cert "$WORK/s1.pem" --key "$WORK/s1.key" >"$WORK/s1b.pem" 2>"$WORK/pki.log" \
    || { cat "$WORK/pki.log"; fail "pki --est re-enrollment"; }
  [[ $(serial_of "$WORK/s1b.pem") != $(serial_of "$WORK/s1.pem") ]] || fail "pki --est: no new certificate"
  log "strongSwan pki --est: enrollment with a code, re-enrollment with the certificate"
else
  log "strongSwan pki not installed: its part skipped (scripts/deps.sh installs it)"
fi

# Refusals change nothing.
before=$(ca list --limit 100000 2>/dev/null | wc -l)
est 403 --cert "$WORK/rogue.pem" --key "$WORK/rogue.key" --data-binary @"$WORK/other.b64" "$EST/device/simpleenroll"
ca revoke "$(serial_of "$WORK/d1b.pem")" --reason keyCompromise 2>/dev/null || fail "revoke"
new_csr d1c ec d1.devices.example.com "DNS:d1.devices.example.com"
b64csr d1c
est 403 --cert "$WORK/d1b.pem" --key "$WORK/d1b.key" --data-binary @"$WORK/d1c.b64" "$EST/simplereenroll"
expect_contains "$WORK/out" "revoked" "revoked client certificate: wrong reason"
est 400 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --data-binary @"$WORK/bad.b64" "$EST/device/simpleenroll"
printf 'MIIB' >"$WORK/trunc.b64"
est 400 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --data-binary @"$WORK/trunc.b64" "$EST/device/simpleenroll"
openssl req -in "$WORK/d1.csr" -outform DER | head -c 100 | openssl base64 >"$WORK/cut.b64"
est 400 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --data-binary @"$WORK/cut.b64" "$EST/device/simpleenroll"
head -c 8000 /dev/zero | openssl base64 >"$WORK/big.b64"
est 413 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --data-binary @"$WORK/big.b64" "$EST/device/simpleenroll"
est 404 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --data-binary @"$WORK/other.b64" "$EST/nosuch/simpleenroll"
est 403 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" --data-binary @"$WORK/other.b64" "$EST/ec-only/simpleenroll"
est 405 --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" "$EST/device/simpleenroll"
est 404 "$EST/device/nosuchop"
est 501 --data-binary @"$WORK/other.b64" "$EST/device/serverkeygen"
est 403 --data-binary @"$WORK/other.b64" "http://127.0.0.1:$OCSP_PORT/.well-known/est/device/simpleenroll"
after=$(ca list --limit 100000 2>/dev/null | wc -l)
[[ "$before" == "$after" ]] || fail "a refused request stored a certificate ($before -> $after)"
log "refused: untrusted and revoked client certificates, malformed/truncated/oversized bodies, unknown profile, profile not granted, wrong method, plain HTTP"

# OCSP and CRLs on the plain port of the same server.
timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$CA_DIR/issuing.pem" -cert "$WORK/d1b.pem" \
  -CAfile "$CA_DIR/chain.pem" -no_nonce >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out"; fail "openssl ocsp"; }
expect_contains "$WORK/ocsp.out" "revoked" "OCSP does not show the revocation"
ca crl 2>/dev/null || fail "crl"
sleep 2  # the server polls the database once a second for new CRLs
curl -sf "http://127.0.0.1:$OCSP_PORT/crl/full.crl" -o "$WORK/full.crl" || fail "CRL download"
openssl crl -inform DER -in "$WORK/full.crl" -noout -text | grep -qi "$(serial_of "$WORK/d1b.pem")" \
  || fail "the CRL lacks the revoked serial"
log "OCSP and CRL served beside EST"

curl -sf "http://127.0.0.1:$OCSP_PORT/healthz" | grep -q ok || fail "/healthz"
curl -sf "http://127.0.0.1:$OCSP_PORT/metrics" -o "$WORK/metrics.txt" || fail "/metrics"
has "$WORK/metrics.txt" "certvault_ca_issued_total{op=\"simpleenroll\"} $((2 + PKI_RUNS))" "metrics: issued"
has "$WORK/metrics.txt" "certvault_ca_issued_total{op=\"simplereenroll\"} $((1 + PKI_RUNS))" "metrics: reissued"
has "$WORK/metrics.txt" 'certvault_ca_request_seconds_bucket{op="simpleenroll",le="+Inf"}' "metrics: histogram"
grep -q "$CODE_PW" "$CA_DIR/access.log" && fail "the access log holds a password"
has "$CA_DIR/access.log" "\"client\":\"code $CODE_ID\"" "access log: code identity"
has "$CA_DIR/access.log" "\"serial\":\"$(serial_of "$WORK/d1.pem" | tr 'A-F' 'a-f')\"" "access log: serial"
log "/healthz, /metrics and the access log"
