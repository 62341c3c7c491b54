#!/usr/bin/env bash
# certvault-ca: what is issued (issue 12 §2):
#   - an EC key with explicit curve parameters is refused (RFC 5480 §2.1.1);
#   - the issuing CA's nameConstraints hold for every SAN and a DNS-like CN
#     whatever the profile says (a profile without san_dns_suffixes);
#   - nameConstraints are written in the RFC 5280 dNSName form even when
#     ca.toml uses the old ".domain" form;
#   - wildcards are refused unless the profile allows them; repeated SANs
#     are kept once;
#   - a profile whose key usage does not fit its key types is refused when
#     ca.toml is loaded (keyAgreement with RSA: RFC 3279 §2.3.1);
#   - certificateHold and invalidity dates in the future are refused;
#   - the root signs a CRL too (an ARL, at the CRL DP of the issuing CA
#     certificate): `openssl verify -crl_check_all` checks the whole chain,
#     and a revoked issuing CA fails it.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
# A profile without san_dns_suffixes (only the CA's nameConstraints limit
# it) and one that allows wildcards.
cat >>"$CA_DIR/ca.toml" <<'TOML'

[profiles.open]
days = 30
key_usage = ["digitalSignature"]
subject_allowed = ["CN"]
san_types = ["DNS", "email"]

[profiles.wild]
days = 30
key_usage = ["digitalSignature"]
subject_allowed = ["CN"]
san_types = ["DNS"]
allow_wildcards = true
TOML
ca init 2>/dev/null || fail "init failed"
count() { ca list --limit 100000 | wc -l; }
BASE=$(count)
refused() {
  local what=$1 pattern=$2
  shift 2
  expect_failure "$what" ca "$@"
  expect_contains "$WORK/expect_failure.out" "$pattern" "$what: unclear error"
  [[ $(count) -eq $BASE ]] || fail "$what: something was stored"
  log "refused: $what"
}

openssl x509 -in "$CA_DIR/issuing.pem" -noout -text >"$WORK/issuing.txt"
expect_contains "$WORK/issuing.txt" "DNS:devices.example.com" "nameConstraints not in the RFC 5280 dNSName form"
grep -q "DNS:\.devices" "$WORK/issuing.txt" && fail "nameConstraints still in the old .domain form"

# Explicit curve parameters.
openssl ecparam -name prime256v1 -param_enc explicit -genkey -noout -out "$WORK/explicit.key" 2>/dev/null
openssl req -new -key "$WORK/explicit.key" -subj "/CN=explicit" -out "$WORK/explicit.csr" 2>/dev/null \
  || fail "openssl could not make an explicit-parameters CSR"
refused "explicit EC parameters" "explicit curve parameters" issue --profile device --csr "$WORK/explicit.csr"

# nameConstraints whatever the profile says.
new_csr evil ec evil "DNS:evil.example.org"
refused "SAN outside the CA's nameConstraints" "outside the issuing CA's permitted names" \
  issue --profile open --csr "$WORK/evil.csr"
new_csr bank ec www.bank.example.org "DNS:ok.devices.example.com"
refused "CN outside the CA's nameConstraints" "CN=www.bank.example.org is outside" \
  issue --profile open --csr "$WORK/bank.csr"
new_csr apex ec devices.example.com "DNS:devices.example.com"
ca issue --profile open --csr "$WORK/apex.csr" --out "$WORK/apex.pem" 2>/dev/null \
  || fail "the constraint's own domain is refused (RFC 5280: zero or more labels added)"
cat "$CA_DIR/chain.pem" >"$WORK/bundle.pem"
timeout "$T" openssl verify -CAfile "$WORK/bundle.pem" "$WORK/apex.pem" >/dev/null \
  || fail "openssl verify rejects a certificate inside the nameConstraints"
BASE=$(count)

# Wildcards and repeated SANs.
new_csr star ec star "DNS:*.devices.example.com"
refused "a wildcard by default" "wildcard" issue --profile open --csr "$WORK/star.csr"
ca issue --profile wild --csr "$WORK/star.csr" --out "$WORK/star.pem" 2>/dev/null || fail "wildcard with allow_wildcards"
new_csr twice ec twice "DNS:a.devices.example.com,DNS:A.devices.example.com,DNS:b.devices.example.com"
ca issue --profile open --csr "$WORK/twice.csr" --out "$WORK/twice.pem" 2>/dev/null || fail "repeated SANs"
n=$(openssl x509 -in "$WORK/twice.pem" -noout -ext subjectAltName | grep -o "DNS:" | wc -l)
[[ $n -eq 2 ]] || fail "repeated SANs are not kept once ($n DNS names)"
BASE=$(count)
log "wildcards refused by default; repeated SANs kept once"

# Revocation reasons and dates.
S=$(serial_of "$WORK/twice.pem")
refused "certificateHold" "certificateHold is not supported" revoke "$S" --reason certificateHold
refused "an invalidity date in the future" "in the future" revoke "$S" --invalidity-date 20991231000000Z
ca show "$S" | grep -q "status: valid" || fail "a refused revoke changed the certificate"

# The root's CRL (ARL) and -crl_check_all over the whole chain.
openssl x509 -in "$CA_DIR/issuing.pem" -noout -ext crlDistributionPoints | grep -q "root.crl" \
  || fail "the issuing CA certificate has no CRL DP for the root's CRL"
ca crl --pem --out "$WORK/full.pem" 2>/dev/null || fail "crl"
ca crl --ca root --pem --out "$WORK/root.pem" 2>/dev/null || fail "crl --ca root"
timeout "$T" openssl verify -crl_check_all -CAfile "$CA_DIR/chain.pem" -CRLfile "$WORK/full.pem" \
  -CRLfile "$WORK/root.pem" "$WORK/apex.pem" >"$WORK/v.out" 2>&1 || { cat "$WORK/v.out"; fail "verify -crl_check_all"; }
"$PY" - "$CA_DIR/root.pem" "$WORK/root.pem" <<'PYEOF' || fail "python3-cryptography rejects the root's CRL"
import sys
from cryptography import x509
root = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
crl = x509.load_pem_x509_crl(open(sys.argv[2], "rb").read())
assert crl.issuer == root.subject and crl.is_signature_valid(root.public_key())
PYEOF
if command -v certtool >/dev/null; then
  cat "$WORK/apex.pem" "$CA_DIR/issuing.pem" "$CA_DIR/root.pem" >"$WORK/leaf-chain.pem"
  timeout "$T" certtool --verify-chain --infile "$WORK/leaf-chain.pem" >"$WORK/certtool.out" 2>&1 \
    || { cat "$WORK/certtool.out"; fail "GnuTLS certtool --verify-chain rejects the chain"; }
  expect_contains "$WORK/certtool.out" "Chain verification output: Verified" "certtool did not verify the chain"
fi
ISSUING=$(serial_of "$CA_DIR/issuing.pem")
ca revoke --ca root "$ISSUING" --reason cACompromise 2>/dev/null || fail "revoking the issuing CA"
ca crl --ca root --pem --out "$WORK/root.pem" 2>/dev/null || fail "crl --ca root after the revocation"
if timeout "$T" openssl verify -crl_check_all -CAfile "$CA_DIR/chain.pem" -CRLfile "$WORK/full.pem" \
     -CRLfile "$WORK/root.pem" "$WORK/apex.pem" >"$WORK/v.out" 2>&1; then
  fail "verify -crl_check_all accepts a leaf under a revoked issuing CA"
fi
expect_contains "$WORK/v.out" "certificate revoked" "verify fails for another reason"
log "root ARL: -crl_check_all passes, then fails once the issuing CA is revoked"

# A key usage that does not fit the profile's key types: refused at load.
cat >>"$CA_DIR/ca.toml" <<'TOML'

[profiles.bad-ka]
key_usage = ["digitalSignature", "keyAgreement"]
key_algorithms = ["rsa-2048"]
TOML
expect_failure "keyAgreement for RSA keys" ca profiles
expect_contains "$WORK/expect_failure.out" "keyAgreement is not valid for rsa-2048" "keyAgreement for RSA: unclear error"
log "refused at load: keyAgreement for RSA keys"
log PASS
