#!/usr/bin/env bash
# certvault-ca serve: Lightweight CMP (RFC 9483) over HTTP (RFC 6712), driven
# by the real `openssl cmp` client (issue 13). The CMP answers are signed by
# the TLS server key in the CA's token (through certvault's provider).
#   - ir with a one-time enrollment code (PBM, senderKID = code id), reuse refused;
#   - cr, p10cr with a bootstrap certificate granted the profile; kur with the
#     certificate just issued (subject kept); certConf/pkiConf and implicitConfirm;
#   - rr by the certificate's own key and by a revocation operator; a foreign rr refused;
#   - genm: caCerts (the issuing CA and the root);
#   - refused, nothing stored: an untrusted protection certificate, a profile
#     not granted, a malformed body (HTTP 400), a tampered message (CMP error);
#   - a repeated transactionID (the same request sent again) returns the same
#     certificate and issues nothing.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl xxd
[[ -n "${CLI:-}" && -x "$CLI" ]] || fail "CLI is not set (certvault)"
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
is_softhsm && skip "the CMP signing key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"

boot_ca boot-ca
boot_cert terminal terminal-1 "$WORK/boot-ca"
boot_cert operator revoker "$WORK/boot-ca"
boot_ca rogue-ca
boot_cert rogue terminal-1 "$WORK/rogue-ca"   # same names, untrusted key

cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
enroll_code_profiles = ["device", "attested"]
access_log = "access.log"

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
subject = "/CN=terminal-1"
profiles = ["device", "attested"]

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
subject = "/CN=revoker"
revoke = true

# Issue 14: keys a certvault vault attests only (root: the device vault's identity, written below).
[profiles.attested]
days = 365
key_usage = ["digitalSignature"]
subject_allowed = ["CN"]
san_types = []
key_algorithms = ["ec-p256"]
require_attestation = true
attestation_roots = ["$WORK/dev-identity.pem"]
TOML
ca init 2>/dev/null || fail "init"
ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
ca_bg serve >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }
SERVER="127.0.0.1:$OCSP_PORT"

count_issued() { ca list --limit 100000 2>/dev/null | grep -c "device" || true; }
# cmp ARGS...: openssl cmp against the server, trusting the CA's root for the signed answers.
cmp() {
  timeout "$T" openssl cmp -server "$SERVER" -path .well-known/cmp -trusted "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" "$@" \
    >"$WORK/cmp.log" 2>&1
}
cmp_ok() { cmp "$@" || { cat "$WORK/cmp.log" "$CA_DIR/access.log" "$WORK/serve.log" >&2; fail "openssl cmp $*"; }; }
refusals() { grep -c '"result":"refused"' "$CA_DIR/access.log" || true; }
cmp_refused() {  # WHY ARGS...: the server must refuse it (CMP error), nothing issued
  local why=$1 before seen
  shift
  before=$(count_issued)
  seen=$(refusals)
  cmp "$@" -certout "$WORK/refused.pem" && { cat "$WORK/cmp.log" >&2; fail "accepted: $why"; }
  [[ $(refusals) -gt "$seen" ]] || { cat "$WORK/cmp.log" >&2; fail "not refused by the server: $why"; }
  [[ $(count_issued) == "$before" ]] || fail "a certificate was stored although refused: $why"
}
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/$1.key" 2>/dev/null || fail "key $1"; }
verify() { openssl verify -CAfile "$CA_DIR/chain.pem" "$1" >/dev/null || fail "$1 does not verify"; }

# ir with a one-time enrollment code (PBM): the code id is the senderKID.
ca enroll-code --profile device --cmp >"$WORK/code.txt" 2>/dev/null || fail "enroll-code --cmp"
CODE_ID=$(sed -n 's/^id: //p' "$WORK/code.txt")
CODE_PW=$(sed -n 's/^password: //p' "$WORK/code.txt")
key d1
cmp_ok -path .well-known/cmp/p/device -cmd ir -ref "$CODE_ID" -secret "pass:$CODE_PW" -recipient "/CN=Factory Issuing CA 1/O=Example/C=JP" \
  -newkey "$WORK/d1.key" -subject "/CN=d1.devices.example.com" -sans "d1.devices.example.com" \
  -certout "$WORK/d1.pem" -cacertsout "$WORK/capubs.pem"
verify "$WORK/d1.pem"
[[ $(openssl x509 -in "$WORK/d1.pem" -noout -pubkey) == $(openssl pkey -in "$WORK/d1.key" -pubout) ]] || fail "ir: not the key asked for"
grep -q BEGIN "$WORK/capubs.pem" || fail "ir with MAC: no root in caPubs"
key d1x
cmp_refused "a used enrollment code" -path .well-known/cmp/p/device -cmd ir -ref "$CODE_ID" -secret "pass:$CODE_PW" \
  -recipient "/CN=Factory Issuing CA 1/O=Example/C=JP" -newkey "$WORK/d1x.key" -subject "/CN=d1x.devices.example.com"
log "ir with a one-time enrollment code (PBM); the code does not work twice"

# cr and p10cr with a bootstrap certificate granted "device"; implicitConfirm on the cr.
SIG=(-cert "$WORK/terminal.pem" -key "$WORK/terminal.key" -extracerts "$WORK/boot-ca.pem"
     -recipient "/CN=Factory Issuing CA 1/O=Example/C=JP")
key d2
cmp_ok -path .well-known/cmp/p/device -cmd cr "${SIG[@]}" -implicit_confirm -newkey "$WORK/d2.key" \
  -subject "/CN=d2.devices.example.com" -sans "d2.devices.example.com" -certout "$WORK/d2.pem"
verify "$WORK/d2.pem"
new_csr d3 ec d3.devices.example.com "DNS:d3.devices.example.com"
cmp_ok -path .well-known/cmp/p/device -cmd p10cr "${SIG[@]}" -csr "$WORK/d3.csr" -certout "$WORK/d3.pem"
verify "$WORK/d3.pem"
[[ $(openssl x509 -in "$WORK/d3.pem" -noout -pubkey) == $(openssl pkey -in "$WORK/d3.key" -pubout) ]] || fail "p10cr: not the CSR's key"
log "cr (implicitConfirm) and p10cr with a bootstrap certificate"

# kur: protected by the certificate being updated (a certificate of this CA); the subject stays.
key d2n
cmp_ok -cmd kur -cert "$WORK/d2.pem" -key "$WORK/d2.key" -newkey "$WORK/d2n.key" -certout "$WORK/d2n.pem"
verify "$WORK/d2n.pem"
[[ $(openssl x509 -in "$WORK/d2n.pem" -noout -subject) == $(openssl x509 -in "$WORK/d2.pem" -noout -subject) ]] \
  || fail "kur changed the subject"
[[ $(serial_of "$WORK/d2n.pem") != $(serial_of "$WORK/d2.pem") ]] || fail "kur: same serial"
key d2m
cmp_refused "kur with a bootstrap certificate (not one of this CA)" -cmd kur "${SIG[@]}" -newkey "$WORK/d2m.key" \
  -subject "/CN=d2.devices.example.com"
cmp_refused "kur asking for another subject" -cmd kur -cert "$WORK/d2n.pem" -key "$WORK/d2n.key" -newkey "$WORK/d2m.key" \
  -subject "/CN=other.devices.example.com"
log "kur with the current certificate keeps the subject; kur by a foreign certificate refused"

# Refusals, nothing stored.
key r1
cmp_refused "an untrusted protection certificate" -path .well-known/cmp/p/device -cmd cr -cert "$WORK/rogue.pem" \
  -key "$WORK/rogue.key" -recipient "/CN=Factory Issuing CA 1/O=Example/C=JP" -newkey "$WORK/r1.key" \
  -subject "/CN=r1.devices.example.com"
grep -q "not trusted" "$CA_DIR/access.log" || fail "access log: no reason for the untrusted certificate"
cmp_refused "a profile not granted" -path .well-known/cmp/p/ec-only -cmd cr "${SIG[@]}" -newkey "$WORK/r1.key" \
  -subject "/CN=r1.devices.example.com"
cmp_refused "a name outside the profile" -path .well-known/cmp/p/device -cmd cr "${SIG[@]}" -newkey "$WORK/r1.key" \
  -subject "/CN=r1.example.org"
before=$(count_issued)
code=$(curl -s -o "$WORK/out" -w '%{http_code}' -H 'Content-Type: application/pkixcmp' --data-binary 'not a PKIMessage' \
  "http://$SERVER/.well-known/cmp/p/device")
[[ "$code" == 400 ]] || fail "malformed body: HTTP $code"
code=$(curl -s -o "$WORK/out" -w '%{http_code}' "http://$SERVER/.well-known/cmp")
[[ "$code" == 405 ]] || fail "GET: HTTP $code"
[[ $(count_issued) == "$before" ]] || fail "a refused request stored a certificate"
log "refused without storing: untrusted signer, profile not granted, bad name, malformed body, GET"

# A repeated transactionID: the saved ir sent again gets the same certificate, nothing new is issued.
key d4
cmp_ok -path .well-known/cmp/p/device -cmd cr "${SIG[@]}" -implicit_confirm -newkey "$WORK/d4.key" \
  -subject "/CN=d4.devices.example.com" -certout "$WORK/d4.pem" -reqout "$WORK/d4-req.der"
before=$(count_issued)
code=$(curl -s -o "$WORK/d4-again.der" -w '%{http_code}' -H 'Content-Type: application/pkixcmp' \
  --data-binary @"$WORK/d4-req.der" "http://$SERVER/.well-known/cmp/p/device")
[[ "$code" == 200 ]] || fail "replay: HTTP $code"
[[ $(count_issued) == "$before" ]] || fail "a repeated transactionID issued a second certificate"
openssl x509 -in "$WORK/d4.pem" -outform DER | xxd -p | tr -d '\n' >"$WORK/d4.hex"
xxd -p "$WORK/d4-again.der" | tr -d '\n' | grep -qF "$(cat "$WORK/d4.hex")" || fail "replay: not the same certificate"
# A tampered copy (one letter of the requested subject changed, still valid DER): the
# protection no longer verifies: a CMP error message (HTTP 200), nothing issued.
cp "$WORK/d4-req.der" "$WORK/bad.der"
offset=$(grep -obUa "d4.devices" "$WORK/bad.der" | head -1 | cut -d: -f1)
[[ -n "$offset" ]] || fail "subject not found in the saved request"
printf 'x' | dd of="$WORK/bad.der" bs=1 seek="$offset" conv=notrunc 2>/dev/null
seen=$(refusals)
code=$(curl -s -o "$WORK/bad-rsp.der" -w '%{http_code}' -H 'Content-Type: application/pkixcmp' \
  --data-binary @"$WORK/bad.der" "http://$SERVER/.well-known/cmp/p/device")
[[ "$code" == 200 ]] || fail "tampered request: HTTP $code, expected a CMP error message"
openssl asn1parse -inform DER -in "$WORK/bad-rsp.der" >/dev/null || fail "tampered request: the answer is not DER"
[[ $(refusals) -gt "$seen" ]] || fail "tampered request: not refused"
[[ $(count_issued) == "$before" ]] || fail "a tampered request issued a certificate"
log "a repeated transactionID returns the same certificate; a tampered copy gets a CMP error"

# rr: by the certificate's own key, then by a revocation operator; a foreign rr refused.
cmp_ok -cmd rr -cert "$WORK/d3.pem" -key "$WORK/d3.key" -oldcert "$WORK/d3.pem" -revreason 1
ca show "$(serial_of "$WORK/d3.pem" | tr 'A-F' 'a-f')" >"$WORK/show.txt" 2>&1 || true
grep -qi "revoked" "$WORK/show.txt" || { cat "$WORK/show.txt"; fail "rr by its own key: not revoked"; }
grep -qx "reason: 1" "$WORK/show.txt" || { cat "$WORK/show.txt"; fail "rr: the CRLReason was not kept"; }
cmp_refused "rr by another device" -cmd rr -cert "$WORK/d4.pem" -key "$WORK/d4.key" -oldcert "$WORK/d2n.pem"
ca show "$(serial_of "$WORK/d2n.pem" | tr 'A-F' 'a-f')" 2>&1 | grep -qi "revoked" && fail "a foreign rr revoked"
cmp_ok -cmd rr -cert "$WORK/operator.pem" -key "$WORK/operator.key" -extracerts "$WORK/boot-ca.pem" \
  -recipient "/CN=Factory Issuing CA 1/O=Example/C=JP" -oldcert "$WORK/d2n.pem" -revreason 4
ca show "$(serial_of "$WORK/d2n.pem" | tr 'A-F' 'a-f')" 2>&1 | grep -qi "revoked" || fail "rr by the operator: not revoked"
cmp_refused "kur with a revoked certificate" -cmd kur -cert "$WORK/d2n.pem" -key "$WORK/d2n.key" -newkey "$WORK/d2m.key"
log "rr by the certificate's own key and by a revocation operator; a foreign rr refused"

# genm: the CA certificates.
cmp_ok -cmd genm "${SIG[@]}" -infotype caCerts
grep -qi "caCerts" "$WORK/cmp.log" || { cat "$WORK/cmp.log"; fail "genm: no caCerts"; }
log "genm: caCerts"
# genm questions openssl cmp 3.0 cannot ask (RFC 9483 §4.3.2, §4.3.4), with our own client.
genm() {
  timeout "$T" "$CMP_GENM" --port "$OCSP_PORT" --path .well-known/cmp --trusted "$CA_DIR/root.pem" \
    --untrusted "$CA_DIR/chain.pem" --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" "$@" 2>"$WORK/genm.err"
}
if [[ -n "${CMP_GENM:-}" && -x "$CMP_GENM" ]]; then
  [[ $(genm --root) == "rootCaKeyUpdate absent" ]] || { cat "$WORK/genm.err"; fail "genm rootCaCert without a root rollover"; }
  ca crl 2>"$WORK/crl.out" || { cat "$WORK/crl.out"; fail "crl"; }
  CRL_URL="http://127.0.0.1:$OCSP_PORT/crl/full.crl"
  got=$(genm --crl "$CRL_URL" --out "$WORK/genm.crl")
  [[ $got == "crls 1" ]] || { cat "$WORK/genm.err"; fail "genm crlStatusList: $got"; }
  openssl crl -inform DER -in "$WORK/genm.crl" -CAfile "$CA_DIR/chain.pem" -noout 2>&1 | grep -q "verify OK" \
    || fail "genm crls: the CRL does not verify"
  since=$(date -d "$(openssl crl -inform DER -in "$WORK/genm.crl" -noout -lastupdate | cut -d= -f2)" +%s)
  [[ $(genm --crl "$CRL_URL" --since "$since") == "crls absent" ]] || fail "genm crlStatusList with the current thisUpdate"
  [[ $(genm --crl "$CRL_URL" --since "$((since - 1))") == "crls 1" ]] || fail "genm crlStatusList with an older thisUpdate"
  [[ $(genm --crl "http://elsewhere.example/crl") == "crls absent" ]] || fail "genm crlStatusList of another CRL"
  log "genm rootCaCert (no update: absent), crlStatusList (the current CRL when older or unknown, else absent)"
fi
# certvault revoke (the device side): CMP rr signed by the vault key through certvault's provider.
DEV="$WORK/device"
dev() { timeout "$T" "$CLI" --vault "$DEV" --pin "$USER_PIN" "$@"; }
timeout "$T" "$CLI" --vault "$DEV" init --label device --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null || fail "device init"
for k in d6 d7; do
  dev keygen --label "$k" --type ec:p256 >/dev/null || fail "keygen $k"
  dev csr --key "$k" --subject "/CN=$k.devices.example.com" --out "$WORK/$k.csr" || fail "csr $k"
  cmp_ok -path .well-known/cmp/p/device -cmd p10cr "${SIG[@]}" -csr "$WORK/$k.csr" -certout "$WORK/$k.pem"
  dev import-cert "$WORK/$k.pem" --label "$k" >/dev/null || fail "import-cert $k"
done
# An answer signed outside --trust: the client reports failure (the authentic rr itself was carried out).
dev revoke --server "http://$SERVER" --cert d6 --reason superseded --trust "$WORK/boot-ca.pem" \
  --provider-module "$PROVIDER" >"$WORK/rv.out" 2>&1 && fail "revoke accepted an answer signed outside --trust"
dev revoke --server "http://$SERVER" --cert d7 --reason bogus --trust "$CA_DIR/root.pem" >"$WORK/rv.out" 2>&1 \
  && fail "revoke with an unknown reason"
d7=$(serial_of "$WORK/d7.pem" | tr 'A-F' 'a-f')
ca show "$d7" 2>&1 | grep -qi "revoked" && fail "revoked with a bad --reason"
dev revoke --server "http://$SERVER" --cert d7 --reason keyCompromise --trust "$CA_DIR/root.pem" \
  --provider-module "$PROVIDER" --json >"$WORK/rv.out" 2>&1 || { cat "$WORK/rv.out"; fail "certvault revoke"; }
grep -q '"revoked"' "$WORK/rv.out" || { cat "$WORK/rv.out"; fail "revoke --json"; }
ca show "$d7" >"$WORK/show.txt" 2>&1
grep -qi "revoked" "$WORK/show.txt" || { cat "$WORK/show.txt"; fail "certvault revoke: not revoked"; }
grep -qx "reason: 1" "$WORK/show.txt" || { cat "$WORK/show.txt"; fail "certvault revoke: reason (keyCompromise) not recorded"; }
dev revoke --server "http://$SERVER" --cert d7 --reason keyCompromise --trust "$CA_DIR/root.pem" \
  --provider-module "$PROVIDER" >"$WORK/rv.out" 2>&1 && fail "a revoked certificate revoked again"
grep -qi "refused" "$WORK/rv.out" || { cat "$WORK/rv.out"; fail "second revoke: no refusal message"; }
log "certvault revoke: rr with the vault key (reason kept); a wrong anchor, a bad reason and a second rr refused"
# certvault enroll --protocol cmp: ir with a --cmp code (POPO signed in the vault), p10cr with --auth-cert.
ca enroll-code --profile device --cmp >"$WORK/code2.txt" 2>/dev/null || fail "enroll-code --cmp"
dev enroll --protocol cmp --server "http://$SERVER" --key e1 --profile device --subject "/CN=e1.devices.example.com" \
  --san DNS:e1.devices.example.com --trust "$CA_DIR/root.pem" --enroll-code-file "$WORK/code2.txt" \
  --provider-module "$PROVIDER" >"$WORK/e.out" 2>&1 || { cat "$WORK/e.out"; fail "enroll --protocol cmp with a code"; }
dev export-cert --cert "pkcs11:object=e1;type=cert" --out "$WORK/e1.pem" || fail "export-cert e1"
verify "$WORK/e1.pem"
dev list --login >"$WORK/before.list" 2>&1
dev enroll --protocol cmp --server "http://$SERVER" --key e2 --profile device --subject "/CN=e2.devices.example.com" \
  --trust "$CA_DIR/root.pem" --enroll-code-file "$WORK/code2.txt" --provider-module "$PROVIDER" >"$WORK/e.out" 2>&1 \
  && fail "a used code enrolled again over CMP"
dev list --login >"$WORK/after.list" 2>&1
diff "$WORK/before.list" "$WORK/after.list" >&2 || fail "a refused CMP enrollment changed the device vault"
dev keygen --label boot --type ec:p256 >/dev/null || fail "keygen boot"
dev csr --key boot --subject "/CN=terminal-1" --out "$WORK/boot.csr" || fail "csr boot"
openssl x509 -req -in "$WORK/boot.csr" -CA "$WORK/boot-ca.pem" -CAkey "$WORK/boot-ca.key" -CAcreateserial -days 30 \
  -extfile "$WORK/ext.cnf" -out "$WORK/boot.pem" 2>/dev/null || fail "sign boot"
dev import-cert "$WORK/boot.pem" --label boot >/dev/null || fail "import-cert boot"
dev enroll --protocol cmp --server "http://$SERVER" --key e3 --profile device --subject "/CN=e3.devices.example.com" \
  --trust "$CA_DIR/root.pem" --auth-cert boot --provider-module "$PROVIDER" --json >"$WORK/e.out" 2>&1 \
  || { cat "$WORK/e.out"; fail "enroll --protocol cmp --auth-cert"; }
dev export-cert --cert "pkcs11:object=e3;type=cert" --out "$WORK/e3.pem" || fail "export-cert e3"
verify "$WORK/e3.pem"
log "certvault enroll --protocol cmp: ir with a code (reuse refused, vault unchanged), p10cr with --auth-cert"
# enroll --attest over CMP p10cr: the PKCS#10 carries the key attestation (issue 14).
dev identity show >"$WORK/dev-id.txt" || fail "identity show"
sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p;/END CERTIFICATE/q' "$WORK/dev-id.txt" >"$WORK/dev-identity.pem"
dev enroll --protocol cmp --server "http://$SERVER" --key a1 --profile attested --subject /CN=a1 \
  --trust "$CA_DIR/root.pem" --auth-cert boot --provider-module "$PROVIDER" >"$WORK/ea.out" 2>&1 \
  && fail "CMP p10cr without an attestation issued under require_attestation"
expect_contains "$WORK/ea.out" "key attestation" "CMP without attestation: no reason"
dev enroll --protocol cmp --server "http://$SERVER" --key a2 --profile attested --subject /CN=a2 \
  --trust "$CA_DIR/root.pem" --auth-cert boot --provider-module "$PROVIDER" --attest >"$WORK/e.out" 2>&1 \
  || { cat "$WORK/e.out"; fail "enroll --protocol cmp --attest (p10cr)"; }
log "CMP p10cr: enroll --attest issued under require_attestation; without the attestation refused"
# CMP over TLS (https://, the server authenticated against --trust) with mutual TLS by the vault key:
# p10cr with --auth-cert, kur (renew --protocol cmp), kur with a new key (renew --rekey), rr.
TLS_URL="https://127.0.0.1:$HTTPS_PORT"
# Mutual TLS, seen by another TLS server (Python's ssl, a server certificate under boot-ca, client
# certificates required): the CMP client presents --auth-cert, whose key signs the handshake in the vault.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/fake.key" -subj "/CN=fake" \
  -out "$WORK/fake.csr" 2>/dev/null || fail "req fake"
printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/fake.cnf"
openssl x509 -req -in "$WORK/fake.csr" -CA "$WORK/boot-ca.pem" -CAkey "$WORK/boot-ca.key" -CAcreateserial -days 30 \
  -extfile "$WORK/fake.cnf" -out "$WORK/fake.pem" 2>/dev/null || fail "sign fake"
FAKE_PORT="$(free_port)"
timeout "$T" python3 - "$FAKE_PORT" "$WORK" >"$WORK/tls_peer.out" 2>&1 <<'PY' &
import socket, ssl, sys
port, work = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(work + "/fake.pem", work + "/fake.key")
ctx.load_verify_locations(work + "/boot-ca.pem")
ctx.verify_mode = ssl.CERT_REQUIRED
with socket.create_server(("127.0.0.1", port)) as srv:
    print("listening", flush=True)
    conn, _ = srv.accept()
    with ctx.wrap_socket(conn, server_side=True) as tls:
        print("peer", dict(x[0] for x in tls.getpeercert()["subject"]), flush=True)
        tls.recv(65536)
        tls.sendall(b"HTTP/1.0 503 not a CMP server\r\nContent-Length: 0\r\n\r\n")
PY
FAKE_PID=$!
wait_for_line "$WORK/tls_peer.out" "listening" 20 || { cat "$WORK/tls_peer.out"; fail "the TLS peer did not start"; }
dev enroll --protocol cmp --server "https://127.0.0.1:$FAKE_PORT" --key t0 --profile device --subject /CN=t0 \
  --trust "$WORK/boot-ca.pem" --auth-cert boot --provider-module "$PROVIDER" >"$WORK/t.out" 2>&1 \
  && fail "a TLS server that is no CMP server enrolled"
wait "$FAKE_PID" 2>/dev/null
grep -q "peer {'commonName': 'terminal-1'}" "$WORK/tls_peer.out" \
  || { cat "$WORK/tls_peer.out" "$WORK/t.out"; fail "no client certificate in the CMP TLS handshake"; }
dev list --login >"$WORK/before.list" 2>&1
dev enroll --protocol cmp --server "$TLS_URL" --key t1 --profile device --subject "/CN=t1.devices.example.com" \
  --trust "$WORK/boot-ca.pem" --auth-cert boot --provider-module "$PROVIDER" >"$WORK/t.out" 2>&1 \
  && fail "CMP over TLS with a server outside --trust"
expect_contains "$WORK/t.out" "TLS" "CMP over TLS, wrong anchor: no TLS reason"
dev list --login >"$WORK/after.list" 2>&1
diff "$WORK/before.list" "$WORK/after.list" >&2 || fail "a refused CMP-over-TLS enrollment changed the device vault"
dev enroll --protocol cmp --server "$TLS_URL" --key t1 --profile device --subject "/CN=t1.devices.example.com" \
  --san DNS:t1.devices.example.com --trust "$CA_DIR/root.pem" --auth-cert boot --provider-module "$PROVIDER" \
  >"$WORK/t.out" 2>&1 || { cat "$WORK/t.out"; fail "enroll --protocol cmp over https"; }
dev export-cert --cert "pkcs11:object=t1;type=cert" --out "$WORK/t1.pem" || fail "export-cert t1"
verify "$WORK/t1.pem"
t1_serial=$(serial_of "$WORK/t1.pem")
dev renew --protocol cmp --server "$TLS_URL" --cert t1 --trust "$CA_DIR/root.pem" --provider-module "$PROVIDER" \
  >"$WORK/t.out" 2>&1 || { cat "$WORK/t.out" "$CA_DIR/access.log"; fail "renew --protocol cmp (kur) over https"; }
dev export-cert --cert "pkcs11:object=t1;type=cert" --out "$WORK/t1b.pem" || fail "export-cert t1 renewed"
verify "$WORK/t1b.pem"
[[ $(serial_of "$WORK/t1b.pem") != "$t1_serial" ]] || fail "kur: the same serial"
[[ $(openssl x509 -in "$WORK/t1b.pem" -noout -pubkey) == $(openssl x509 -in "$WORK/t1.pem" -noout -pubkey) ]] \
  || fail "renew without --rekey changed the key"
grep '"op":"cmp-kur"' "$CA_DIR/access.log" | grep -q '"result":"issued"' || fail "renew --protocol cmp: no kur issued"
log "CMP over TLS: the client certificate in the handshake (a Python TLS server), p10cr with mutual TLS, a server outside --trust refused (vault unchanged), kur keeping the key"
# renew --rekey over CMP: the kur is signed by the old certificate's key, the new certificate carries a new key
# made in the vault, same subject; the old certificate and key are kept as t1.replaced-<serial>.
old_serial=$(serial_of "$WORK/t1b.pem")
dev list --login >"$WORK/before.list" 2>&1
dev renew --protocol cmp --rekey --server "$TLS_URL/.well-known/cmp/p/attested" --cert t1 --trust "$CA_DIR/root.pem" \
  --provider-module "$PROVIDER" >"$WORK/t.out" 2>&1 && fail "renew --rekey into another profile"
grep -qi "refused" "$WORK/t.out" || { cat "$WORK/t.out"; fail "refused rekey: no reason"; }
dev list --login >"$WORK/after.list" 2>&1
diff "$WORK/before.list" "$WORK/after.list" >&2 || fail "a refused rekey changed the device vault (its new key must go)"
dev renew --protocol cmp --rekey --server "$TLS_URL" --cert t1 --trust "$CA_DIR/root.pem" --provider-module "$PROVIDER" \
  --json >"$WORK/t.out" 2>&1 || { cat "$WORK/t.out" "$CA_DIR/access.log"; fail "renew --rekey --protocol cmp"; }
grep -q '"key_created":true' "$WORK/t.out" || { cat "$WORK/t.out"; fail "renew --rekey --json"; }
dev export-cert --cert "pkcs11:object=t1;type=cert" --out "$WORK/t1c.pem" || fail "export-cert t1 rekeyed"
verify "$WORK/t1c.pem"
[[ $(openssl x509 -in "$WORK/t1c.pem" -noout -subject) == $(openssl x509 -in "$WORK/t1b.pem" -noout -subject) ]] \
  || fail "rekey: the subject changed"
[[ $(openssl x509 -in "$WORK/t1c.pem" -noout -pubkey) != $(openssl x509 -in "$WORK/t1b.pem" -noout -pubkey) ]] \
  || fail "rekey: the same key"
dev export-pubkey --key t1 --out "$WORK/t1c.pub" || fail "export-pubkey t1 (the new key)"
[[ $(openssl pkey -pubin -in "$WORK/t1c.pub") == $(openssl x509 -in "$WORK/t1c.pem" -noout -pubkey) ]] \
  || fail "rekey: the certificate labelled t1 does not carry the key labelled t1"
tail -n 1 "$CA_DIR/access.log" | grep '"op":"cmp-kur"' | grep -qi "serial=$old_serial" \
  || { tail -n 2 "$CA_DIR/access.log"; fail "rekey: the kur was not signed by the old certificate"; }
dev export-cert --cert "pkcs11:object=t1.replaced-$old_serial;type=cert" --out "$WORK/t1old.pem" \
  || { dev list --login; fail "rekey: the old certificate is not kept as t1.replaced-$old_serial"; }
dev list --login | grep -c "label=t1.replaced-$old_serial " | grep -qx 3 || { dev list --login; fail "rekey: old key pair not kept"; }
dev list --login | grep -q "rekeying" && fail "rekey: a pending object left"
# rr over TLS with the old key (kept in the vault): the old certificate revoked.
dev revoke --server "$TLS_URL" --cert "t1.replaced-$old_serial" --reason superseded --trust "$CA_DIR/root.pem" \
  --provider-module "$PROVIDER" >"$WORK/t.out" 2>&1 || { cat "$WORK/t.out"; fail "revoke over https"; }
ca show "$(echo "$old_serial" | tr 'A-F' 'a-f')" 2>&1 | grep -qi "revoked" || fail "revoke over https: not revoked"
log "renew --rekey over CMP: kur signed by the old key, new key and certificate (same subject), old pair kept; a refused rekey leaves the vault as it was; rr over TLS"
# renew --rekey over EST: simplereenroll with the new key's CSR, mutual TLS with the old key.
dev renew --rekey --server "$TLS_URL/.well-known/est/device" --cert t1 --trust "$CA_DIR/root.pem" \
  --provider-module "$PROVIDER" >"$WORK/t.out" 2>&1 || { cat "$WORK/t.out"; fail "renew --rekey over EST"; }
dev export-cert --cert "pkcs11:object=t1;type=cert" --out "$WORK/t1d.pem" || fail "export-cert t1 EST-rekeyed"
verify "$WORK/t1d.pem"
[[ $(openssl x509 -in "$WORK/t1d.pem" -noout -pubkey) != $(openssl x509 -in "$WORK/t1c.pem" -noout -pubkey) ]] \
  || fail "EST rekey: the same key"
[[ $(openssl x509 -in "$WORK/t1d.pem" -noout -subject) == $(openssl x509 -in "$WORK/t1c.pem" -noout -subject) ]] \
  || fail "EST rekey: the subject changed"
log "renew --rekey over EST: simplereenroll with the new key's CSR"
# The same verbs with the device vault behind certvaultd (daemon mode: the CLI and the provider it loads both
# reach the vault through the socket, CERTVAULT_SOCKET).
if [[ -n "${CERTVAULTD:-}" && -x "$CERTVAULTD" ]]; then
  printf '[daemon]\n' >"$WORK/devd.conf"
  "$CERTVAULTD" --config "$WORK/devd.conf" --vault "$DEV" --socket "$WORK/devd.sock" >"$WORK/devd.log" 2>&1 &
  DEVD_PID=$!
  BG_PIDS+=("$DEVD_PID")
  wait_for_line "$WORK/devd.log" "serving" 10 || { cat "$WORK/devd.log"; fail "certvaultd did not start"; }
  ddev() { CERTVAULT_SOCKET="$WORK/devd.sock" dev "$@"; }
  before=$(openssl x509 -in "$WORK/t1d.pem" -noout -serial | cut -d= -f2)
  ddev renew --protocol cmp --rekey --server "$TLS_URL" --cert t1 --trust "$CA_DIR/root.pem" --provider-module "$PROVIDER" \
    >"$WORK/t.out" 2>&1 || { cat "$WORK/t.out" "$WORK/devd.log"; fail "renew --rekey --protocol cmp through certvaultd"; }
  ddev export-cert --cert "pkcs11:object=t1;type=cert" --out "$WORK/t1e.pem" || fail "export-cert t1 (daemon)"
  verify "$WORK/t1e.pem"
  [[ $(openssl x509 -in "$WORK/t1e.pem" -noout -pubkey) != $(openssl x509 -in "$WORK/t1d.pem" -noout -pubkey) ]] \
    || fail "daemon rekey: the same key"
  ddev revoke --server "$TLS_URL" --cert "t1.replaced-$before" --reason superseded --trust "$CA_DIR/root.pem" \
    --provider-module "$PROVIDER" >"$WORK/t.out" 2>&1 || { cat "$WORK/t.out"; fail "revoke over https through certvaultd"; }
  ddev enroll --protocol cmp --server "$TLS_URL" --key t2 --profile device --subject "/CN=t2.devices.example.com" \
    --trust "$CA_DIR/root.pem" --auth-cert boot --provider-module "$PROVIDER" >"$WORK/t.out" 2>&1 \
    || { cat "$WORK/t.out"; fail "enroll --protocol cmp over https through certvaultd"; }
  kill "$DEVD_PID" && wait "$DEVD_PID" 2>/dev/null
  dev export-cert --cert "pkcs11:object=t2;type=cert" --out "$WORK/t2.pem" || fail "export-cert t2"
  verify "$WORK/t2.pem"
  log "through certvaultd: renew --rekey and revoke and enroll over CMP with mutual TLS"
fi
# ir/cr/kur (CRMF): the attestation travels as the CertTemplate extension
# cvKeyAttestationChain, covered by the POPO signature (issue 14).
ca enroll-code --profile attested --cmp >"$WORK/code-a3.txt" 2>/dev/null || fail "enroll-code attested"
ca enroll-code --profile attested --cmp >"$WORK/code-a4.txt" 2>/dev/null || fail "enroll-code attested"
dev enroll --protocol cmp --server "http://$SERVER" --key a3 --profile attested --subject /CN=a3 \
  --trust "$CA_DIR/root.pem" --enroll-code-file "$WORK/code-a3.txt" --provider-module "$PROVIDER" >"$WORK/ea.out" 2>&1 \
  && fail "CMP ir without an attestation issued under require_attestation"
expect_contains "$WORK/ea.out" "key attestation" "CMP ir without attestation: no reason"
dev enroll --protocol cmp --server "http://$SERVER" --key a4 --profile attested --subject /CN=a4 \
  --trust "$CA_DIR/root.pem" --enroll-code-file "$WORK/code-a4.txt" --provider-module "$PROVIDER" --attest \
  >"$WORK/e.out" 2>&1 || { cat "$WORK/e.out"; fail "enroll --protocol cmp --attest (ir)"; }
dev export-cert --cert "pkcs11:object=a4;type=cert" --out "$WORK/a4.pem" || fail "export-cert a4"
openssl x509 -in "$WORK/a4.pem" -noout -text | grep -q "35505282237931440571555100275514417151" \
  && fail "the attestation extension was copied into the certificate"
# The same attestation in a cr for another key (openssl cmp -reqexts): refused.
dev attest --key a4 --out "$WORK/att-a4.pem" >/dev/null || fail "attest a4"
ATT_HEX=$(python3 - "$WORK/att-a4.pem" "$WORK/dev-identity.pem" <<'PY'
import base64, re, sys
def der(path):
    return base64.b64decode("".join(re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END", open(path).read(), re.S)[0].split()))
body = der(sys.argv[1]) + der(sys.argv[2])
n = len(body)
length = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
print((b"\x30" + length + body).hex().upper())
PY
) || fail "attestation chain DER"
printf '[reqexts]\n2.25.35505282237931440571555100275514417151.4.2 = DER:%s\n' "$ATT_HEX" >"$WORK/att.cnf"
key a5
cmp_refused "an attestation of another key" -config "$WORK/att.cnf" -reqexts reqexts -path .well-known/cmp/p/attested \
  -cmd cr "${SIG[@]}" -newkey "$WORK/a5.key" -subject "/CN=a5"
grep -q "does not certify\|attestation" "$WORK/cmp.log" || { cat "$WORK/cmp.log"; fail "cr with a foreign attestation: no reason"; }
log "CMP ir: enroll --attest carries the attestation in the CRMF template; none or another key's refused"
# server-cert (the old TLS key is destroyed in the token) and SIGHUP: CMP answers are signed by the new key.
SERVE_PID=$(pgrep -P "${BG_PIDS[0]}") || fail "no serve process under the timeout started here"
ca server-cert --san IP:127.0.0.1 2>/dev/null || fail "second server-cert"
seen=$(grep -c "configuration reloaded\|reload refused" "$WORK/serve.log" || true)
kill -HUP "$SERVE_PID" || fail "SIGHUP"
deadline=$((SECONDS + 20))
while (($(grep -c "configuration reloaded\|reload refused" "$WORK/serve.log" || true) == seen)); do
  ((SECONDS < deadline)) || { cat "$WORK/serve.log"; fail "no reload after SIGHUP"; }
  sleep 0.1
done
cmp_ok -cmd genm "${SIG[@]}" -infotype caCerts -extracertsout "$WORK/rsp-extra.pem"
openssl x509 -in "$CA_DIR/server.pem" -noout -serial >"$WORK/new-serial.txt"
grep -q BEGIN "$WORK/rsp-extra.pem" || fail "genp without extraCerts"
found=0
while read -r c; do [[ "$c" == "$(cat "$WORK/new-serial.txt")" ]] && found=1; done < <(
  awk '/BEGIN/{n++} {print > "'"$WORK"'/x" n ".pem"}' "$WORK/rsp-extra.pem"
  for f in "$WORK"/x*.pem; do openssl x509 -in "$f" -noout -serial; done)
((found)) || fail "after SIGHUP the CMP answer is not signed with the new server certificate"
log "after server-cert and SIGHUP, CMP answers come with the new signing certificate"
grep -q '"op":"cmp-ir"' "$CA_DIR/access.log" || fail "access log: no cmp-ir line"
curl -s "http://$SERVER/metrics" >"$WORK/metrics.txt"
grep -q 'certvault_ca_issued_total{op="cmp-p10cr"}' "$WORK/metrics.txt" || { cat "$WORK/metrics.txt"; fail "metrics: no CMP issuance"; }
grep -q 'certvault_ca_refused_total{op="cmp-cr"}' "$WORK/metrics.txt" || { cat "$WORK/metrics.txt"; fail "metrics: no CMP refusal"; }
grep -q "$CODE_PW" "$CA_DIR/access.log" && fail "access log: an enrollment code password"
# genm rootCaCert after a root rollover: the new root and both link certificates (RFC 4210 §4.4).
if [[ -n "${CMP_GENM:-}" && -x "$CMP_GENM" ]]; then
  ca rollover --root 2>"$WORK/roll.out" || { cat "$WORK/roll.out"; fail "rollover --root"; }
  [[ $(genm --root --out "$WORK/new-root.der") == "rootCaKeyUpdate newWithOld=1 oldWithNew=1" ]] \
    || { cat "$WORK/genm.err"; fail "genm rootCaCert after a root rollover"; }
  command cmp -s "$WORK/new-root.der" <(openssl x509 -in "$CA_DIR/root-g2.pem" -outform DER) || fail "newWithNew is not root-g2"
  [[ $(genm --root --have "$CA_DIR/root-g2.pem") == "rootCaKeyUpdate absent" ]] || fail "genm rootCaCert with the new root"
  log "genm rootCaCert after rollover --root: newWithNew is the new root, with both link certificates"
fi
log "OK"
