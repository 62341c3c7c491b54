#!/usr/bin/env bash
# The CKMS guidance's toy model end to end (issue 13): a factory terminal,
# authenticated by its manufacturer certificate over mutual TLS 1.3,
# enrolls 1,000 device CSRs over one keep-alive EST connection
# (certvault-est-load), then revokes 10 of them with CMP rr (openssl cmp);
# the CRL served over HTTP by `serve --crl-interval 1` and the OCSP answers
# reflect the revocations. The time until the CRL listed all 10 is logged,
# never asserted (the test must not depend on the machine's speed).
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
[[ -n "${EST_LOAD:-}" && -x "$EST_LOAD" ]] || skip "EST_LOAD (certvault-est-load, a bench/ program) not built"
is_softhsm && skip "the TLS server key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"
boot_ca boot-ca
boot_cert terminal factory-terminal-1 "$WORK/boot-ca"
cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
access_log = "access.log"

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
subject = "/CN=factory-terminal-1"
profiles = ["device"]
revoke = true
TOML
ca init 2>/dev/null || fail "init"
ca server-cert --san IP:127.0.0.1 2>/dev/null || fail "server-cert"
ca_bg serve --crl-interval 1 >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }

# 1,000 CSRs over one connection.
timeout "$T" "$EST_LOAD" --port "$HTTPS_PORT" --cacert "$CA_DIR/root.pem" --cert "$WORK/terminal.pem" \
  --key "$WORK/terminal.key" --path /.well-known/est/device/simpleenroll --requests 1000 --connections 1 \
  >"$WORK/load.out" 2>&1 || { cat "$WORK/load.out"; fail "the EST load client failed"; }
expect_contains "$WORK/load.out" "requests=1000 failures=0" "not every enrollment succeeded"
ca list --limit 100000 2>/dev/null | grep "device" | awk '{print $1}' >"$WORK/serials.txt"
[[ $(sort -u "$WORK/serials.txt" | wc -l) == 1000 ]] || fail "expected 1000 distinct certificates, got $(wc -l <"$WORK/serials.txt")"
log "1,000 enrollments over one connection: $(sed -n 's/.*\(rate=[0-9.]*\/s p50_ms=[0-9.]* p99_ms=[0-9.]*\).*/\1/p' "$WORK/load.out")"

# The terminal revokes 10 of them (CMP rr, signed by its own key).
head -10 "$WORK/serials.txt" >"$WORK/revoked.txt"
i=0
while read -r serial; do
  i=$((i + 1))
  ca show "$serial" --pem >"$WORK/r$i.pem" 2>/dev/null || fail "show --pem $serial"
  timeout "$T" openssl cmp -server "127.0.0.1:$OCSP_PORT" -path .well-known/cmp -trusted "$CA_DIR/root.pem" \
    -untrusted "$CA_DIR/chain.pem" -cert "$WORK/terminal.pem" -key "$WORK/terminal.key" -cmd rr \
    -oldcert "$WORK/r$i.pem" -revreason 1 >"$WORK/rr.log" 2>&1 || { cat "$WORK/rr.log"; fail "rr of $serial"; }
done <"$WORK/revoked.txt"
revoked_at=$(date +%s.%N)
log "10 revocations by CMP rr"

# OCSP answers reflect them at once; the CRL within one CRL interval.
for n in 1 10; do
  timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$CA_DIR/issuing.pem" -cert "$WORK/r$n.pem" \
    -CAfile "$CA_DIR/chain.pem" >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out"; fail "openssl ocsp"; }
  expect_contains "$WORK/ocsp.out" ": revoked" "OCSP does not show revocation $n"
done
listed=0
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  timeout "$T" curl -sf "http://127.0.0.1:$OCSP_PORT/crl/full.crl" -o "$WORK/full.crl" || true
  if [[ -s "$WORK/full.crl" ]]; then
    openssl crl -inform DER -in "$WORK/full.crl" -noout -text >"$WORK/crl.txt" 2>/dev/null || true
    listed=0
    while read -r serial; do
      grep -qi "Serial Number: *0*${serial#0}\$" "$WORK/crl.txt" && listed=$((listed + 1))
    done <"$WORK/revoked.txt"
    ((listed == 10)) && break
  fi
  sleep 0.1
done
((listed == 10)) || fail "the served CRL lists $listed of the 10 revocations"
openssl crl -inform DER -in "$WORK/full.crl" -CAfile "$CA_DIR/chain.pem" -noout 2>&1 | grep -q "verify OK" \
  || fail "the served CRL does not verify"
log "the served CRL listed all 10 after $(awk -v a="$revoked_at" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}') s; OCSP at once"
