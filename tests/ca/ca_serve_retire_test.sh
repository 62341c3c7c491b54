#!/usr/bin/env bash
# Retirement from the server (issue 17): `ocsp serve --crl-interval` retires
# a key generation whose certificate has expired as `certvault-ca crl` does
# (ca_rollover_test.sh): its last CRL is signed, its keys are destroyed,
# "retire" is audited, once; the current generation keeps its key and the
# server goes on signing CRLs and answering OCSP, while the retired
# generation's CertIDs get unauthorized (it expires while serve runs: its
# responder was registered). Fake time (libfaketime)
# puts the server past generation 1's notAfter.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool faketime
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
ca init 2>/dev/null || fail "init"
D="$CA_DIR"
new_csr d1 ec d1 "DNS:d1.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue d1"
# Generation 2 is made ten days on, so it outlasts generation 1 by as much.
timeout "$T" "$FAKE_TIME" '+10d' "$CA_BIN" --dir "$D" --actor interop-test rollover 2>"$WORK/r.out" \
  || { cat "$WORK/r.out" >&2; fail "rollover"; }
# Two days past generation 1's notAfter.
G1_DAYS=$(( ( $(date -d "$(openssl x509 -in "$D/issuing.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 + 2 ))
AT="+${G1_DAYS}d"
gone() { timeout "$T" "$FAKE_TIME" "$AT" "$@"; }
# The server starts a day before generation 1's notAfter (its responder
# answers for d1), then its clock moves past it: libfaketime rereads the
# spec from a file (FAKETIME_TIMESTAMP_FILE), so generation 1 expires while
# serve runs.
LIBFAKETIME=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
BEFORE="+$(( G1_DAYS - 3 ))d"
echo "$BEFORE" >"$WORK/clock"
timeout "$T" env FAKETIME_TIMESTAMP_FILE="$WORK/clock" FAKETIME_NO_CACHE=1 LD_PRELOAD="$LIBFAKETIME" \
  "$CA_BIN" --dir "$D" --actor interop-test ocsp serve --port "$OCSP_PORT" --crl-interval 1 >"$WORK/serve.log" 2>&1 &
SERVE=$!
BG_PIDS+=("$SERVE")
for _ in $(seq 1 600); do  # until the server answers (it prints nothing when it listens)
  timeout "$T" "$FAKE_TIME" "$BEFORE" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$D/issuing.pem" \
    -cert "$WORK/d1.pem" -no_nonce -no_cert_verify -CAfile "$D/chain.pem" >"$WORK/ocsp0.out" 2>&1 && break
  sleep 0.1
done
expect_contains "$WORK/ocsp0.out" "d1.pem: good" "generation 1 does not answer before it expires"
echo "$AT" >"$WORK/clock"
wait_for_line "$WORK/serve.log" "retired issuing generation 1" 60 || { cat "$WORK/serve.log"; fail "serve did not retire gen 1"; }
# Two more CRL runs (one a second): the retirement is not repeated.
sleep 2.5
grep -c "retired issuing generation 1" "$WORK/serve.log" | grep -qx 1 || { cat "$WORK/serve.log"; fail "retired twice"; }
grep -q "scheduled CRL:" "$WORK/serve.log" && { cat "$WORK/serve.log"; fail "a scheduled CRL failed"; }

# The current generation answers OCSP for its own certificates (signature
# checked; not the signer's chain: the delegated OCSP signer's own
# certificate is short-lived and has expired at this fake date).
new_csr d2 ec d2 "DNS:d2.devices.example.com"
gone "$CA_BIN" --dir "$D" --actor interop-test issue --profile device --csr "$WORK/d2.csr" --out "$WORK/d2.pem" \
  2>"$WORK/issue.err" || { cat "$WORK/issue.err" >&2; fail "issue with generation 2"; }
gone openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$D/issuing-g2.pem" -cert "$WORK/d2.pem" \
  -CAfile "$D/chain-g2.pem" -no_cert_verify -no_nonce >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out" >&2; fail "openssl ocsp"; }
expect_contains "$WORK/ocsp.out" "Response verify OK" "OCSP after the retirement does not verify"
expect_contains "$WORK/ocsp.out" "d2.pem: good" "OCSP after the retirement: not good"
# Generation 1 can no longer speak for its certificates (its keys are
# destroyed): its OCSP answer is unauthorized (RFC 6960 §2.3), not internalError.
gone openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$D/issuing.pem" -cert "$WORK/d1.pem" -no_nonce \
  >"$WORK/ocsp1.out" 2>&1 && { cat "$WORK/ocsp1.out" >&2; fail "a retired generation still answers OCSP"; }
expect_contains "$WORK/ocsp1.out" "Responder Error: unauthorized \\(6\\)" "a retired generation's OCSP answer is not unauthorized"
kill "$SERVE"
wait "$SERVE" || true

gone pkcs11-tool --module "$MODULE" --token-label "$TOKEN_LABEL" --login --pin "$USER_PIN" --list-objects \
  --type privkey >"$WORK/objs.out" 2>&1 || { cat "$WORK/objs.out" >&2; fail "list token objects"; }
grep -q "label: *factory-issuing$" "$WORK/objs.out" && fail "gen 1's issuing key survived its retirement"
grep -q "label: *factory-ocsp$" "$WORK/objs.out" && fail "gen 1's OCSP key survived its retirement"
grep -q "label: *factory-issuing-g2$" "$WORK/objs.out" || fail "the current generation lost its key"
gone "$CA_BIN" --dir "$D" audit --limit 40 >"$WORK/audit.out" || fail "audit"
[[ $(grep -c " retire " "$WORK/audit.out") == 1 ]] || { cat "$WORK/audit.out"; fail "retirement not audited once"; }
# generation 1's last CRL is stored: `crl` finds nothing left to retire.
gone "$CA_BIN" --dir "$D" --actor interop-test crl >"$WORK/crl.out" 2>&1 || { cat "$WORK/crl.out" >&2; fail "crl"; }
grep -q "retired generation" "$WORK/crl.out" && fail "crl retired again what serve retired"
log "serve --crl-interval: the expired generation signed its last CRL, its keys were destroyed, audited once"
