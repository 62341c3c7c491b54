#!/usr/bin/env bash
# RSA-PSS CA signatures (signature_algorithm = "rsa-pss", RSA-2048 keys in the
# token $MODULE): the openssl CLI sees RSASSA-PSS (SHA-256, MGF1-SHA-256,
# salt 32) on the CA and leaf certificates and the CRL, `openssl verify
# -crl_check` accepts a fresh certificate and rejects it once revoked, and
# `openssl ocsp` verifies the PSS-signed response.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
CA_KEY_ALG=rsa-2048
CA_SIG_ALG=rsa-pss
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
log "init with RSA-PSS (module $(basename "$MODULE"))"
ca init || fail "certvault-ca init failed"
new_csr dev ec dev-pss "DNS:pss.devices.example.com"
ca issue --profile device --csr "$WORK/dev.csr" --out "$WORK/dev.pem" || fail "issuing failed"
for c in "$CA_DIR/root.pem" "$CA_DIR/issuing.pem" "$CA_DIR/ocsp.pem" "$WORK/dev.pem"; do
  openssl x509 -in "$c" -noout -text >"$WORK/cert.txt"
  expect_contains "$WORK/cert.txt" "Signature Algorithm: rsassaPss" "$(basename "$c") is not signed with RSA-PSS"
  expect_contains "$WORK/cert.txt" "Mask Algorithm: mgf1 with sha256" "$(basename "$c"): wrong PSS mask algorithm"
  expect_contains "$WORK/cert.txt" "Salt Length: 0x20" "$(basename "$c"): wrong PSS salt length"
done
ca crl --pem --out "$WORK/full.crl.pem" || fail "CRL generation failed"
cat "$CA_DIR/chain.pem" "$WORK/full.crl.pem" >"$WORK/bundle.pem"
timeout "$T" openssl verify -crl_check -CAfile "$WORK/bundle.pem" "$WORK/dev.pem" >/dev/null \
  || fail "openssl verify -crl_check rejects the fresh certificate"
timeout "$T" openssl crl -in "$WORK/full.crl.pem" -noout -text >"$WORK/crl.txt"
expect_contains "$WORK/crl.txt" "Signature Algorithm: rsassaPss" "the CRL is not signed with RSA-PSS"
timeout "$T" openssl crl -in "$WORK/full.crl.pem" -noout -CAfile "$CA_DIR/chain.pem" 2>"$WORK/crlv.txt" \
  || { cat "$WORK/crlv.txt"; fail "openssl crl does not verify the CRL"; }
expect_contains "$WORK/crlv.txt" "verify OK" "openssl crl does not verify the CRL"

ca revoke "$(serial_of "$WORK/dev.pem")" --reason keyCompromise || fail "revoke failed"
ca crl --pem --out "$WORK/full.crl.pem" || fail "CRL generation failed"
cat "$CA_DIR/chain.pem" "$WORK/full.crl.pem" >"$WORK/bundle.pem"
timeout "$T" openssl verify -crl_check -CAfile "$WORK/bundle.pem" "$WORK/dev.pem" >"$WORK/verify.txt" 2>&1 \
  && fail "openssl verify -crl_check accepts the revoked certificate"
expect_contains "$WORK/verify.txt" "certificate revoked" "openssl verify does not say revoked"

ca_bg ocsp serve --port "$OCSP_PORT" >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "listening on" 20 || { cat "$WORK/serve.log"; fail "OCSP server did not start"; }
timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$CA_DIR/issuing.pem" -cert "$WORK/dev.pem" \
  -CAfile "$CA_DIR/chain.pem" >"$WORK/ocsp.txt" 2>&1 || { cat "$WORK/ocsp.txt"; fail "openssl ocsp failed"; }
expect_contains "$WORK/ocsp.txt" "Response verify OK" "the PSS-signed OCSP response does not verify"
expect_contains "$WORK/ocsp.txt" "dev.pem: revoked" "OCSP does not say revoked"
log "RSA-PSS: certificates, CRL and OCSP response verify with the openssl CLI"
