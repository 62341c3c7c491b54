#!/usr/bin/env bash
# certvault-ca end to end with real clients: CA keys generated in the PKCS#11
# token $MODULE (certvault or SoftHSM2), database $CA_DB (sqlite|postgres).
#   init -> issue (single EC + RSA, batch) -> openssl verify -crl_check (good)
#   -> OCSP good/unknown -> revoke -> delta + full CRL (openssl crl -text)
#   -> openssl verify -crl_check (revoked), with -use_deltas too -> OCSP revoked
#   -> python3-cryptography parses every cert/CRL and checks the chain -> audit.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl pkcs11-tool
need_python_module cryptography
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"

log "init (module $(basename "$MODULE"), database $CA_DB)"
ca init || fail "certvault-ca init failed"
for f in root.pem issuing.pem ocsp.pem chain.pem; do [[ -s "$CA_DIR/$f" ]] || fail "init did not write $f"; done
ls "$CA_DIR" | grep -Eq '\.(key|p8)$' && fail "a key file appeared in the CA directory"
p11 --token-label "$TOKEN_LABEL" --login --pin "$USER_PIN" --list-objects --type privkey >"$WORK/keys.txt"
expect_contains "$WORK/keys.txt" "factory-issuing" "the issuing key is not in the token"
expect_contains "$WORK/keys.txt" "factory-ocsp" "the OCSP key is not in the token"
expect_failure "second init" ca init

log "issue: EC P-256 and RSA-2048 CSRs, then a batch"
new_csr ec1 ec dev-ec1 "DNS:ec1.devices.example.com"
new_csr rsa1 rsa:2048 dev-rsa1 "DNS:rsa1.devices.example.com"
ca issue --profile device --csr "$WORK/ec1.csr" --out "$WORK/ec1.pem" || fail "issuing the EC CSR failed"
ca issue --profile device --csr "$WORK/rsa1.csr" --out "$WORK/rsa1.pem" || fail "issuing the RSA CSR failed"
mkdir -p "$WORK/batch" "$WORK/out"
for i in $(seq 1 12); do
  new_csr "b$i" ec "dev-b$i" "DNS:b$i.devices.example.com"
  cp "$WORK/b$i.csr" "$WORK/batch/"
done
ca issue --profile device --batch "$WORK/batch" --out-dir "$WORK/out" --chunk 5 2>"$WORK/batch.log" || { cat "$WORK/batch.log"; fail "batch issuance failed"; }
expect_contains "$WORK/batch.log" "issued 12, refused 0" "batch summary wrong"
[[ $(ls "$WORK/out" | wc -l) -eq 12 ]] || fail "batch did not write 12 certificates"
openssl x509 -in "$WORK/ec1.pem" -noout -text >"$WORK/ec1.txt"
expect_contains "$WORK/ec1.txt" "O = Example Devices" "profile's fixed subject attribute missing"
expect_contains "$WORK/ec1.txt" "DNS:ec1.devices.example.com" "SAN missing"
expect_contains "$WORK/ec1.txt" "Policy: 1.3.6.1.4.1.55555.1.1" "certificatePolicies missing"
expect_contains "$WORK/ec1.txt" "OCSP - URI:http://127.0.0.1:$OCSP_PORT/" "AIA OCSP missing"
expect_contains "$WORK/ec1.txt" "URI:http://127.0.0.1:$OCSP_PORT/crl/full.crl" "CRL DP missing"
openssl x509 -in "$CA_DIR/issuing.pem" -noout -text >"$WORK/issuing.txt"
expect_contains "$WORK/issuing.txt" "Permitted:" "name constraints missing on the issuing CA"
[[ $(openssl x509 -in "$WORK/ec1.pem" -noout -serial | cut -d= -f2 | tr -d '\n' | wc -c) -eq 40 ]] || fail "serial is not 20 octets"
ca list >"$WORK/list.txt"
[[ $(grep -c ' valid ' "$WORK/list.txt") -eq 15 ]] || { cat "$WORK/list.txt"; fail "list shows the wrong number of certificates"; }

# crl_bundle: chain + the current full CRL (+ delta) as one PEM file for openssl verify.
crl_bundle() {
  ca crl --pem --out "$WORK/full.crl.pem" || fail "full CRL generation failed"
  cat "$CA_DIR/chain.pem" "$WORK/full.crl.pem" >"$WORK/bundle.pem"
}
crl_bundle
for c in ec1 rsa1; do
  timeout "$T" openssl verify -crl_check -CAfile "$WORK/bundle.pem" "$WORK/$c.pem" >/dev/null \
    || fail "openssl verify -crl_check rejects the fresh $c certificate"
done

log "OCSP responder"
ca_bg ocsp serve --port "$OCSP_PORT" >"$WORK/ocsp.log" 2>&1
wait_for_line "$WORK/ocsp.log" "listening on" 20 || { cat "$WORK/ocsp.log"; fail "OCSP responder did not start"; }
ocsp_status() {  # CERT|0xSERIAL [extra args] -> prints "good" / "revoked" / "unknown"
  local cert=$1 what=(-cert "$1")
  shift
  [[ "$cert" == 0x* ]] && what=(-serial "$cert")
  timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT" -issuer "$CA_DIR/issuing.pem" -CAfile "$CA_DIR/chain.pem" \
    "$@" "${what[@]}" >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out" >&2; fail "openssl ocsp failed"; }
  expect_contains "$WORK/ocsp.out" "Response verify OK" "OCSP response signature does not verify"
  sed -n "s|^$cert: \([a-z]*\)$|\1|p" "$WORK/ocsp.out"
}
[[ "$(ocsp_status "$WORK/ec1.pem")" == good ]] || fail "OCSP: fresh certificate not good (nonce)"
[[ "$(ocsp_status "$WORK/ec1.pem" -no_nonce)" == good ]] || fail "OCSP: fresh certificate not good (cached)"
[[ "$(ocsp_status 0x0123456789abcdef)" == unknown ]] || fail "OCSP: a serial never issued is not unknown"

log "revoke, delta CRL, full CRL"
EC1=$(serial_of "$WORK/ec1.pem")
ca revoke "$EC1" --reason keyCompromise --invalidity-date 20261101000000Z || fail "revoke failed"
ca crl --delta --pem --out "$WORK/delta.crl.pem" || fail "delta CRL generation failed"
openssl crl -in "$WORK/delta.crl.pem" -noout -text >"$WORK/delta.txt" || fail "openssl crl cannot read the delta CRL"
expect_contains "$WORK/delta.txt" "Delta CRL Indicator: critical" "delta CRL lacks its indicator"
expect_contains "$WORK/delta.txt" "Serial Number: $EC1" "delta CRL lacks the revoked serial"
expect_contains "$WORK/delta.txt" "Key Compromise" "delta CRL lacks the reason"
expect_contains "$WORK/delta.txt" "Invalidity Date" "delta CRL lacks the invalidity date"
cat "$CA_DIR/chain.pem" "$WORK/full.crl.pem" "$WORK/delta.crl.pem" >"$WORK/bundle-delta.pem"
if timeout "$T" openssl verify -crl_check -use_deltas -CAfile "$WORK/bundle-delta.pem" "$WORK/ec1.pem" >"$WORK/v.out" 2>&1; then
  fail "openssl verify -use_deltas accepts a certificate revoked in the delta CRL"
fi
expect_contains "$WORK/v.out" "certificate revoked" "verify with the delta CRL fails for another reason"
crl_bundle
openssl crl -in "$WORK/full.crl.pem" -noout -text >"$WORK/full.txt" || fail "openssl crl cannot read the full CRL"
expect_contains "$WORK/full.txt" "Serial Number: $EC1" "full CRL lacks the revoked serial"
expect_contains "$WORK/full.txt" "X509v3 CRL Number" "full CRL lacks its number"
if timeout "$T" openssl verify -crl_check -CAfile "$WORK/bundle.pem" "$WORK/ec1.pem" >"$WORK/v.out" 2>&1; then
  fail "openssl verify -crl_check accepts a revoked certificate"
fi
expect_contains "$WORK/v.out" "certificate revoked" "verify fails for another reason than revocation"
timeout "$T" openssl verify -crl_check -CAfile "$WORK/bundle.pem" "$WORK/rsa1.pem" >/dev/null \
  || fail "an unrevoked certificate fails verification after another was revoked"

log "OCSP sees the revocation (cache invalidated)"
deadline=$((SECONDS + 10))
until [[ "$(ocsp_status "$WORK/ec1.pem" -no_nonce)" == revoked ]]; do
  ((SECONDS < deadline)) || fail "OCSP still does not report the revoked certificate"
  sleep 0.5
done
expect_contains "$WORK/ocsp.out" "Reason: keyCompromise" "OCSP revocation reason missing"
[[ "$(ocsp_status "$WORK/rsa1.pem")" == good ]] || fail "OCSP: unrevoked certificate not good"
# GET form (RFC 6960 Appendix A.1) with curl.
timeout "$T" openssl ocsp -issuer "$CA_DIR/issuing.pem" -cert "$WORK/rsa1.pem" -no_nonce -reqout "$WORK/req.der" >/dev/null
enc=$("$PY" -c 'import base64,sys,urllib.parse;print(urllib.parse.quote(base64.b64encode(open(sys.argv[1],"rb").read()).decode(),safe=""))' "$WORK/req.der")
timeout "$T" curl -sf "http://127.0.0.1:$OCSP_PORT/$enc" -o "$WORK/get.der" || fail "OCSP GET failed"
openssl ocsp -respin "$WORK/get.der" -issuer "$CA_DIR/issuing.pem" -cert "$WORK/rsa1.pem" -CAfile "$CA_DIR/chain.pem" \
  >"$WORK/get.txt" 2>&1
expect_contains "$WORK/get.txt" "rsa1.pem: good" "OCSP GET answer wrong"
timeout "$T" curl -sf "http://127.0.0.1:$OCSP_PORT/crl/full.crl" -o "$WORK/served.crl" || fail "CRL download failed"
openssl crl -inform DER -in "$WORK/served.crl" -noout >/dev/null || fail "served CRL does not parse"

log "python3-cryptography parses and validates everything"
"$PY" "$(dirname "$0")/ca_validate.py" "$CA_DIR" "$WORK/full.crl.pem" "$WORK/delta.crl.pem" "$EC1" \
  "$WORK/ec1.pem" "$WORK/rsa1.pem" "$WORK"/out/*.pem || fail "python3-cryptography validation failed"

log "audit events"
ca audit --limit 100 >"$WORK/audit.txt"
for a in init issue revoke crl; do expect_contains "$WORK/audit.txt" " interop-test $a " "no '$a' audit event"; done
log "flow complete"
