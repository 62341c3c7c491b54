#!/usr/bin/env bash
# Key rollover while `certvault-ca serve` runs (issues 15, 17): after
# `certvault-ca rollover` and SIGHUP the server switches to the new key
# generation without a restart (docs/design/ca.md "Switching generations
# while serving"):
#   - an EST keep-alive connection opened before the rollover stays open and
#     its next requests are answered by the new generation: cacerts returns
#     the new chain, simpleenroll issues from the new issuing key (AKI), a
#     device with a still-valid generation-1 certificate re-enrolls;
#   - CMP p10cr (openssl cmp) issues from the new key; a client certificate
#     of the new generation is trusted; the new generation's CRL is signed
#     by the serve loop and served;
#   - OCSP answers for a certificate of each generation, each signed by its
#     own generation's signer;
#   - no request got 503.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl python3
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
is_softhsm && skip "the TLS server key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
serve_ca_setup "$CA_DIR"
new_csr d1 ec d1.devices.example.com "DNS:d1.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue d1"
cp "$CA_DIR/chain.pem" "$WORK/chain-g1.pem"
ca_bg serve --crl-interval 2 >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }
SERVE_PID=$(pgrep -P "${BG_PIDS[-1]}") || fail "no serve process under the timeout started here"
for n in e0 e1; do
  new_csr "$n" ec "$n.devices.example.com" "DNS:$n.devices.example.com"
  openssl req -in "$WORK/$n.csr" -outform DER | openssl base64 >"$WORK/$n.b64"
done
openssl req -in "$WORK/d1.csr" -outform DER | openssl base64 >"$WORK/d1.b64"

timeout "$T" curl -s --cacert "$CA_DIR/root.pem" -o "$WORK/cacerts-1.b64" \
  "https://127.0.0.1:$HTTPS_PORT/.well-known/est/cacerts" || fail "cacerts before the rollover"
# One keep-alive EST connection with d1's certificate: simpleenroll (e0)
# before the rollover; after it, on the same connection: simpleenroll (e1),
# simplereenroll (d1, generation 1); then cacerts.
cat >"$WORK/keepalive.py" <<'PY'
import http.client, os, ssl, sys, time
work, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=work + "/ca/root.pem")
ctx.load_cert_chain(work + "/d1.pem", work + "/d1.key")
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
def call(method, path, body_file, out):
    body = open(work + "/" + body_file, "rb").read() if body_file else None
    conn.request(method, "/.well-known/est/" + path, body=body, headers={"Content-Type": "application/pkcs10"})
    r = conn.getresponse()
    open(work + "/" + out, "wb").write(r.read())
    print(path, r.status, flush=True)
call("POST", "device/simpleenroll", "e0.b64", "e0.p7.b64")
sock = conn.sock
open(work + "/ready", "w").close()
deadline = time.time() + 120
while not os.path.exists(work + "/go"):
    if time.time() > deadline: sys.exit("no go")
    time.sleep(0.05)
call("POST", "device/simpleenroll", "e1.b64", "e1.p7.b64")
call("POST", "simplereenroll", "d1.b64", "d1-new.p7.b64")
print("same connection", conn.sock is sock, flush=True)
call("GET", "cacerts", None, "cacerts-2.b64")  # answered with Connection: close
PY
timeout "$T" python3 "$WORK/keepalive.py" "$WORK" "$HTTPS_PORT" >"$WORK/keepalive.out" 2>&1 &
KA_PID=$!
BG_PIDS+=("$KA_PID")
deadline=$((SECONDS + 60))
until [[ -e "$WORK/ready" ]]; do
  ((SECONDS < deadline)) || { cat "$WORK/keepalive.out"; fail "the keep-alive client did not connect"; }
  sleep 0.1
done

ca rollover 2>"$WORK/r.out" || { cat "$WORK/r.out" >&2; fail "rollover"; }
kill -HUP "$SERVE_PID" || fail "SIGHUP"
wait_for_line "$WORK/serve.log" "now issuing with key generation 2" 30 || { cat "$WORK/serve.log"; fail "no switch after SIGHUP"; }
log "serve switched to generation 2 after rollover + SIGHUP, without a restart"
touch "$WORK/go"
wait "$KA_PID" || { cat "$WORK/keepalive.out"; fail "the keep-alive client failed"; }
for want in "cacerts 200" "device/simpleenroll 200" "simplereenroll 200" "same connection True"; do
  grep -qx "$want" "$WORK/keepalive.out" || { cat "$WORK/keepalive.out" "$WORK/serve.log"; fail "keep-alive: no '$want'"; }
done
p7() { base64 -d "$WORK/$1" | openssl pkcs7 -inform DER -print_certs >"$WORK/$2" || fail "$1: not a PKCS#7"; }
p7 cacerts-1.b64 cacerts-1.pem
p7 cacerts-2.b64 cacerts-2.pem
p7 e1.p7.b64 e1.pem
p7 d1-new.p7.b64 d1-new.pem
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
grep -q "$(openssl x509 -in "$CA_DIR/issuing-g2.pem" | sed -n 2p)" "$WORK/cacerts-2.pem" \
  || fail "cacerts after the switch does not hold issuing-g2.pem"
grep -q "$(openssl x509 -in "$CA_DIR/issuing-g2.pem" | sed -n 2p)" "$WORK/cacerts-1.pem" \
  && fail "cacerts before the rollover held generation 2?"
log "EST cacerts on the same connection returns the new chain"
ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' '; }
aki() { openssl x509 -in "$1" -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' ' | sed 's/^keyid://'; }
for c in e1 d1-new; do
  [[ "$(aki "$WORK/$c.pem")" == "$(ski "$CA_DIR/issuing-g2.pem")" ]] || fail "$c is not issued by the generation-2 key"
  openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/issuing-g2.pem" "$WORK/$c.pem" >/dev/null 2>&1 \
    || fail "$c does not verify against generation 2"
done
log "simpleenroll and a generation-1 device's simplereenroll issue from the generation-2 key"

# CMP p10cr (openssl cmp) with d1's generation-1 certificate: issued by generation 2.
new_csr c1 ec c1.devices.example.com "DNS:c1.devices.example.com"
cat "$CA_DIR/issuing.pem" "$CA_DIR/chain-g2.pem" >"$WORK/untrusted.pem"
timeout "$T" openssl cmp -server "127.0.0.1:$OCSP_PORT" -path .well-known/cmp/p/device -cmd p10cr \
  -trusted "$CA_DIR/root.pem" -untrusted "$WORK/untrusted.pem" -cert "$WORK/d1.pem" -key "$WORK/d1.key" \
  -recipient "/CN=Factory Issuing CA 1/O=Example/C=JP" -csr "$WORK/c1.csr" -certout "$WORK/c1.pem" >"$WORK/cmp.log" 2>&1 \
  || { cat "$WORK/cmp.log" "$WORK/serve.log"; fail "CMP p10cr after the switch"; }
[[ "$(aki "$WORK/c1.pem")" == "$(ski "$CA_DIR/issuing-g2.pem")" ]] || fail "CMP p10cr: not issued by the generation-2 key"
log "CMP p10cr issues from the generation-2 key"

# A client certificate of the new generation is trusted at the handshake (the TLS anchors were reloaded).
openssl req -in "$WORK/e1.csr" -outform DER | openssl base64 >"$WORK/e1r.b64"
code=$(timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$WORK/e1.pem" --key "$WORK/e1.key" \
  -H "Content-Type: application/pkcs10" --data-binary @"$WORK/e1r.b64" -o "$WORK/out" -w '%{http_code}' \
  "https://127.0.0.1:$HTTPS_PORT/.well-known/est/simplereenroll" || true)
[[ $code == 200 ]] || { cat "$WORK/out"; fail "a generation-2 client certificate cannot re-enroll ($code)"; }
log "a generation-2 client certificate is trusted without a restart"

# The scheduled CRLs follow the new instance: generation 2's CRL is signed and served.
deadline=$((SECONDS + 30))
until timeout "$T" curl -sf "http://127.0.0.1:$OCSP_PORT/crl/full-g2.crl" -o "$WORK/full-g2.crl"; do
  ((SECONDS < deadline)) || { cat "$WORK/serve.log"; fail "no generation-2 CRL served"; }
  sleep 0.2
done
openssl crl -inform DER -in "$WORK/full-g2.crl" -CAfile "$CA_DIR/chain-g2.pem" -noout 2>&1 | grep -q "verify OK" \
  || fail "full-g2.crl is not signed by generation 2"
log "generation 2's CRL is signed by the serve loop and served"

ocsp_check() {  # ocsp_check CERT ISSUER CHAIN
  timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$2" -cert "$1" -CAfile "$3" \
    >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out" >&2; fail "openssl ocsp $1"; }
  expect_contains "$WORK/ocsp.out" "Response verify OK" "OCSP for $1 does not verify"
  expect_contains "$WORK/ocsp.out" "$(basename "$1"): good" "OCSP for $1 is not good"
}
ocsp_check "$WORK/d1.pem" "$CA_DIR/issuing.pem" "$WORK/chain-g1.pem"
ocsp_check "$WORK/e1.pem" "$CA_DIR/issuing-g2.pem" "$CA_DIR/chain-g2.pem"
log "OCSP answers for a certificate of each generation"
grep -q '"status":503' "$WORK/serve.log" && { grep '"status":503' "$WORK/serve.log"; fail "a request got 503"; }
log "no request got 503"
