#!/usr/bin/env bash
# The whole output of a CA made by the guided set-up (issue 12, "Done when"):
# root, issuing CA, OCSP signer, an end-entity certificate for every shipped
# issuing profile (device, server; EC and RSA keys), full and delta CRLs
# (partitioned with CA_CRL_PARTITIONS > 1), the root's ARL and OCSP answers
# (good and revoked) pass three independent implementations:
#   - openssl verify -crl_check_all (with -use_deltas too) and openssl ocsp;
#   - GnuTLS certtool --verify-chain, --verify with the CRLs, --verify-crl;
#   - python3-cryptography (ca_output_check.py): signatures, extensions as
#     the profiles in ca.toml say, CRL number / delta indicator / IDP, OCSP
#     signature, CertID and status.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl certtool pkcs11-tool
need_python_module cryptography
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
PARTS="${CA_CRL_PARTITIONS:-1}"
ca_init_flags "$WORK/ca" --crl-partitions "$PARTS" 2>/dev/null
OUT="$WORK/out"
mkdir -p "$OUT/ee" "$OUT/base" "$OUT/crl" "$OUT/ocsp"

# End-entity certificates: every issuing profile, EC and RSA keys.
new_csr device-ec ec dev-0001 "DNS:dev-0001.devices.example.com"
new_csr device-rsa rsa:2048 dev-0002 "DNS:dev-0002.devices.example.com"
new_csr server-ec ec www.example.net "DNS:www.example.net,DNS:api.example.net"
new_csr server-rsa rsa:2048 mail.example.net "DNS:mail.example.net"
for c in device-ec device-rsa server-ec server-rsa; do
  ca issue --profile "${c%%-*}" --csr "$WORK/$c.csr" --out "$OUT/ee/$c.pem" 2>/dev/null || fail "issue $c"
done
[[ $(ca profiles | grep -cv internal) -eq 2 ]] || fail "the shipped issuing profiles are not device and server"

# CRLs: a base full CRL, the revocation, a delta against it, a new full CRL.
crls() {  # crls [--delta]: every partition's (or the one) CRL, PEM, in $CA_DIR/crl/
  if [[ $PARTS -gt 1 ]]; then ca crl --all-partitions --pem "$@"; else ca crl --pem "$@"; fi
}
crls 2>/dev/null || fail "base CRL"
cp "$CA_DIR"/crl/full*.crl "$OUT/base/"
REVOKED=$(serial_of "$OUT/ee/device-rsa.pem")
echo "$REVOKED" >"$OUT/revoked.txt"
ca revoke "$REVOKED" --reason keyCompromise 2>/dev/null || fail "revoke"
crls --delta 2>/dev/null || fail "delta CRL"
crls 2>/dev/null || fail "full CRL"
ca crl --ca root --pem --out "$OUT/crl/root.pem" 2>/dev/null || fail "the root's ARL"
for f in "$CA_DIR"/crl/full*.crl "$CA_DIR"/crl/delta*.crl; do cp "$f" "$OUT/crl/$(basename "${f%.crl}").pem"; done
for f in "$OUT"/base/*.crl; do mv "$f" "${f%.crl}.pem"; done
log "issued $(ls "$OUT/ee" | wc -l) certificates, CRLs: $(ls "$OUT/crl" | tr '\n' ' ')"

# OCSP answers from `ocsp serve` (nonce on), verified by openssl ocsp.
ca_bg ocsp serve --port "$OCSP_PORT" >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "listening on" 20 || { cat "$WORK/serve.log"; fail "ocsp serve did not start"; }
for c in device-ec device-rsa server-ec; do
  timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/ocsp" -issuer "$CA_DIR/issuing.pem" \
    -cert "$OUT/ee/$c.pem" -CAfile "$CA_DIR/root.pem" -reqout "$OUT/ocsp/$c.req" -respout "$OUT/ocsp/$c.der" \
    >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out"; fail "openssl ocsp $c"; }
  expect_contains "$WORK/ocsp.out" "Response verify OK" "openssl ocsp: the answer for $c does not verify"
  want=good
  [[ $c == device-rsa ]] && want=revoked
  expect_contains "$WORK/ocsp.out" "$c.pem: $want" "openssl ocsp: $c is not $want"
  cp "$OUT/ee/$c.pem" "$OUT/ocsp/$c.cert"
done
log "OCSP: good and revoked answers verify (openssl ocsp)"

# crl_args CERT [BASE|FULL]: -CRLfile for the issuing CA's CRLs and the ARL.
crl_args() {
  local f
  for f in "$OUT"/crl/full*.pem; do printf -- '-CRLfile\n%s\n' "$f"; done
  printf -- '-CRLfile\n%s\n' "$OUT/crl/root.pem"
}
mapfile -t CRL_ARGS < <(crl_args)
ossl_verify() {  # ossl_verify CERT [ARGS...]
  local cert=$1
  shift
  timeout "$T" openssl verify -crl_check_all -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/issuing.pem" \
    "${CRL_ARGS[@]}" "$@" "$cert" >"$WORK/verify.out" 2>&1
}
for c in "$CA_DIR/issuing.pem" "$CA_DIR/ocsp.pem" "$OUT/ee/device-ec.pem" "$OUT/ee/server-ec.pem" \
  "$OUT/ee/server-rsa.pem"; do
  ossl_verify "$c" || { cat "$WORK/verify.out"; fail "openssl verify -crl_check_all rejects $(basename "$c")"; }
done
if ossl_verify "$OUT/ee/device-rsa.pem"; then fail "openssl verify -crl_check_all accepts the revoked certificate"; fi
expect_contains "$WORK/verify.out" "certificate revoked" "the revoked certificate fails for another reason"
# The base full CRLs plus the deltas: the revocation is found in a delta.
mapfile -t CRL_ARGS < <(for f in "$OUT"/base/full*.pem "$OUT"/crl/delta*.pem "$OUT/crl/root.pem"; do
  printf -- '-CRLfile\n%s\n' "$f"; done)
ossl_verify "$OUT/ee/device-ec.pem" -use_deltas || { cat "$WORK/verify.out"; fail "verify -use_deltas: good cert"; }
if ossl_verify "$OUT/ee/device-rsa.pem" -use_deltas; then fail "verify -use_deltas accepts the revoked certificate"; fi
expect_contains "$WORK/verify.out" "certificate revoked" "-use_deltas: the revoked certificate fails for another reason"
log "openssl verify -crl_check_all: whole chain good, the revoked certificate refused (full and delta CRLs)"

# GnuTLS: the chain of every certificate, then the CRLs.
gnutls_chain() {  # gnutls_chain CERT: CERT + issuing (unless CERT is it) + root
  cat "$1"
  [[ "$1" == "$CA_DIR/issuing.pem" ]] || cat "$CA_DIR/issuing.pem"
  cat "$CA_DIR/root.pem"
}
for c in "$CA_DIR/issuing.pem" "$CA_DIR/ocsp.pem" "$OUT"/ee/*.pem; do
  gnutls_chain "$c" >"$WORK/gchain.pem"
  timeout "$T" certtool --verify-chain --infile "$WORK/gchain.pem" >"$WORK/certtool.out" 2>&1 \
    || { cat "$WORK/certtool.out"; fail "certtool --verify-chain rejects $(basename "$c")"; }
  expect_contains "$WORK/certtool.out" "Chain verification output: Verified" "certtool: $(basename "$c") not verified"
done
for f in "$OUT"/base/*.pem "$OUT"/crl/full*.pem "$OUT"/crl/delta*.pem "$OUT/crl/root.pem"; do
  ca_cert="$CA_DIR/issuing.pem"
  [[ "$f" == "$OUT/crl/root.pem" ]] && ca_cert="$CA_DIR/root.pem"
  timeout "$T" certtool --verify-crl --load-ca-certificate "$ca_cert" --infile "$f" >"$WORK/certtool.out" 2>&1 \
    || { cat "$WORK/certtool.out"; fail "certtool --verify-crl rejects $(basename "$f")"; }
  expect_contains "$WORK/certtool.out" "Verification output: Verified" "certtool: CRL $(basename "$f") not verified"
done
# GnuTLS keeps one CRL per issuer in its trust list and does not match
# issuingDistributionPoints: give it the (partition) CRL the certificate names.
gnutls_revoked() {  # gnutls_revoked CERT: certtool --verify against the root with its CRL
  local dp
  dp=$(openssl x509 -in "$1" -noout -ext crlDistributionPoints | sed -n 's|.*URI:.*/\([^/]*\)\.crl$|\1|p')
  gnutls_chain "$1" >"$WORK/gchain.pem"
  timeout "$T" certtool --verify --load-ca-certificate "$CA_DIR/root.pem" --load-crl "$OUT/crl/$dp.pem" \
    --infile "$WORK/gchain.pem" >"$WORK/certtool.out" 2>&1
}
gnutls_revoked "$OUT/ee/device-ec.pem" || { cat "$WORK/certtool.out"; fail "certtool --verify --load-crl: good cert"; }
if gnutls_revoked "$OUT/ee/device-rsa.pem"; then fail "certtool --verify --load-crl accepts the revoked certificate"; fi
expect_contains "$WORK/certtool.out" "revoked" "certtool: the revoked certificate fails for another reason"
log "GnuTLS certtool: every chain and CRL verified, the revoked certificate refused"

"$PY" "$(dirname "$0")/ca_output_check.py" "$CA_DIR" "$OUT" || fail "python3-cryptography checks"
log PASS
