#!/usr/bin/env bash
# certvault-ca ocsp serve reruns the power-on self-tests every [server]
# selftest_interval_s, and once one fails it signs nothing more
# (docs/design/selftest.md):
#   - the CA runs from an "installation" (bin/certvault-ca and the
#     share/certvault/SHA256SUMS manifest listing its digest), so the
#     integrity self-test really checks it;
#   - while serving, the manifest is changed: the next periodic rerun fails
#     `integrity`, the process enters the error state (logged once);
#   - from then on OCSP requests get internalError (RFC 6960 §2.3), and the
#     scheduled CRLs (--crl-interval 1) stop: the served CRL number no longer
#     grows, while the CRLs signed before stay downloadable.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool curl sha256sum
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
printf '\n[server]\nselftest_interval_s = 1\n' >>"$CA_DIR/ca.toml"

PREFIX="$WORK/prefix"
mkdir -p "$PREFIX/bin" "$PREFIX/share/certvault"
cp "$CA_BIN" "$PREFIX/bin/certvault-ca"
(cd "$PREFIX" && sha256sum bin/certvault-ca >share/certvault/SHA256SUMS)
CA_BIN="$PREFIX/bin/certvault-ca"

ca init 2>/dev/null || fail "init failed"
new_csr d1 ec d1 "DNS:d1.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue"
ca_bg ocsp serve --port "$OCSP_PORT" --crl-interval 1 >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "listening on" 30 || { cat "$WORK/serve.log"; fail "the responder did not start"; }

# ocsp_out: openssl ocsp's output for d1 (whatever the responder answers).
ocsp_out() {
  timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$CA_DIR/issuing.pem" -cert "$WORK/d1.pem" \
    -CAfile "$CA_DIR/chain.pem" -no_nonce 2>&1
}
# crl_number: the number of the served full CRL (decimal), or empty.
crl_number() {
  curl -sf "http://127.0.0.1:$OCSP_PORT/crl/full.crl" -o "$WORK/full.crl" || return 0
  local hex
  hex=$(openssl crl -inform DER -in "$WORK/full.crl" -noout -crlnumber | sed -n 's/^crlNumber=0x//p')
  [[ -n "$hex" ]] && echo $((16#$hex))
}

ocsp_out | grep -q "d1.pem: good" || fail "before the failure: not good: $(ocsp_out)"
first=$(crl_number)
deadline=$((SECONDS + 60))
until [[ -n "$first" && "$(crl_number)" -gt "$first" ]]; do
  ((SECONDS < deadline)) || fail "the scheduled CRLs do not advance (first: '${first}')"
  sleep 0.5
  [[ -n "$first" ]] || first=$(crl_number)
done
grep -q "error state" "$WORK/serve.log" && fail "error state before any fault: $(cat "$WORK/serve.log")"
log "serving: OCSP good, scheduled CRLs advance, periodic self-tests pass"

# The installed binary no longer matches its manifest.
sed -i 's/^[0-9a-f]\{64\}/0000000000000000000000000000000000000000000000000000000000000000/' \
  "$PREFIX/share/certvault/SHA256SUMS"
wait_for_line "$WORK/serve.log" "no CRL is signed until a restart" 60 || { cat "$WORK/serve.log"; fail "no error state"; }
grep -q "error state: integrity" "$WORK/serve.log" || fail "the failed test is not named: $(cat "$WORK/serve.log")"

out=$(ocsp_out || true)  # openssl ocsp fails on an error response
echo "$out" | grep -qi "internalerror" || fail "OCSP in the error state: $out"
echo "$out" | grep -q "d1.pem: good" && fail "OCSP still signs in the error state"
stopped=$(crl_number)
[[ -n "$stopped" ]] || fail "the CRL signed before is no longer served"
sleep 3
[[ "$(crl_number)" == "$stopped" ]] || fail "CRLs are still signed in the error state"
said=$(grep -c "no CRL is signed until a restart" "$WORK/serve.log")
((said == 1)) || fail "the error state was reported $said times"
log "error state: OCSP internalError, no new CRL, reported once"
echo "ca serve selftest OK"
