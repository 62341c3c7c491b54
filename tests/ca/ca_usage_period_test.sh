#!/usr/bin/env bash
# The issuing key's usage period (issue 17, crypto-periods): with
# issuing_key_usage_days = 2 in ca.toml, three days later (faketime +3d)
# `issue` is refused naming the period, while the same key still revokes,
# signs the CRL and answers OCSP for the certificate it issued before; the
# openssl CLI verifies both against chain.pem.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool faketime
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
printf 'issuing_key_usage_days = 2\n' >"$WORK/usage.toml"
sed -i "/^\[ca\]/r $WORK/usage.toml" "$CA_DIR/ca.toml"
ca init 2>/dev/null || fail "init"

new_csr d1 ec d1 "DNS:d1.devices.example.com"
new_csr d2 ec d2 "DNS:d2.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue inside the period"
S1=$(serial_of "$WORK/d1.pem")

# Three days on: the CA and its clients (the vault records the new time).
later() { timeout "$T" "$FAKE_TIME" '+3d' "$@"; }
later "$CA_BIN" --dir "$CA_DIR" --actor interop-test issue --profile device --csr "$WORK/d2.csr" \
  --out "$WORK/d2.pem" >"$WORK/issue.out" 2>&1 && fail "issued after the usage period"
expect_contains "$WORK/issue.out" "usage period ended" "issue after the period: unclear error"
[[ ! -s "$WORK/d2.pem" ]] || fail "a refused issue wrote a certificate"
later "$CA_BIN" --dir "$CA_DIR" audit >"$WORK/audit.out" 2>&1 || fail "audit"
expect_contains "$WORK/audit.out" "policy-violation factory-issuing issue .*rule: \\[crypto_periods\\] max_issuing_key_usage_days.*usage period ended" \
  "the refusal is not audited as a policy violation naming the rule"
log "issue after the usage period: refused, audited as a policy violation"

later "$CA_BIN" --dir "$CA_DIR" --actor interop-test revoke "$S1" --reason keyCompromise 2>/dev/null \
  || fail "revoke after the usage period"
later "$CA_BIN" --dir "$CA_DIR" --actor interop-test crl 2>/dev/null || fail "crl after the usage period"
later openssl crl -inform DER -in "$CA_DIR/crl/full.crl" -CAfile "$CA_DIR/chain.pem" -noout >"$WORK/crl.out" 2>&1 \
  || { cat "$WORK/crl.out" >&2; fail "the CRL does not verify"; }
expect_contains "$WORK/crl.out" "verify OK" "the CRL does not verify"
openssl crl -inform DER -in "$CA_DIR/crl/full.crl" -noout -text | grep -qi "$S1" || fail "the CRL lacks $S1"
log "CRL after the usage period: signed, verified, lists the revocation"

timeout "$T" "$FAKE_TIME" '+3d' "$CA_BIN" --dir "$CA_DIR" --actor interop-test ocsp serve --port "$OCSP_PORT" \
  >"$WORK/ocsp.log" 2>&1 &
BG_PIDS+=($!)
wait_for_line "$WORK/ocsp.log" "listening on" 30 || { cat "$WORK/ocsp.log"; fail "OCSP responder did not start"; }
later openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$CA_DIR/issuing.pem" -cert "$WORK/d1.pem" \
  -CAfile "$CA_DIR/chain.pem" -no_nonce >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out" >&2; fail "openssl ocsp"; }
expect_contains "$WORK/ocsp.out" "Response verify OK" "the OCSP response does not verify"
expect_contains "$WORK/ocsp.out" "d1.pem: revoked" "OCSP does not say revoked"
log "OCSP after the usage period: signed, verified, revoked"
