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
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
is_softhsm && skip "the CMP signing key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/boot-ca.key" \
  -subj "/CN=Bootstrap CA/O=Maker" -days 30 -out "$WORK/boot-ca.pem" 2>/dev/null || fail "bootstrap CA"
boot_cert() {  # NAME CN CA_PREFIX
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$1.key" -subj "/CN=$2" \
    -out "$WORK/$1.csr" 2>/dev/null || fail "req $1"
  printf 'keyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' >"$WORK/ext.cnf"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 30 \
    -extfile "$WORK/ext.cnf" -out "$WORK/$1.pem" 2>/dev/null || fail "sign $1"
}
boot_cert terminal terminal-1 "$WORK/boot-ca"
boot_cert operator revoker "$WORK/boot-ca"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/rogue-ca.key" \
  -subj "/CN=Bootstrap CA/O=Maker" -days 30 -out "$WORK/rogue-ca.pem" 2>/dev/null || fail "rogue CA"
boot_cert rogue terminal-1 "$WORK/rogue-ca"   # same names, untrusted key

cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
enroll_code_profiles = ["device"]
access_log = "access.log"

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
subject = "/CN=terminal-1"
profiles = ["device"]

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
subject = "/CN=revoker"
revoke = true
TOML
ca init 2>/dev/null || fail "init"
ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
ca_bg serve >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }
SERVER="127.0.0.1:$OCSP_PORT"

count_issued() { ca list --limit 100000 2>/dev/null | grep -c "device" || true; }
# cmp ARGS...: openssl cmp against the server, trusting the CA's root for the signed answers.
cmp() {
  timeout "$T" openssl cmp -server "$SERVER" -trusted "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" "$@" \
    >"$WORK/cmp.log" 2>&1
}
cmp_ok() { cmp "$@" || { cat "$WORK/cmp.log" "$CA_DIR/access.log" "$WORK/serve.log" >&2; fail "openssl cmp $*"; }; }
cmp_refused() {  # WHY ARGS...: must fail with a CMP error, nothing issued
  local why=$1 before
  shift
  before=$(count_issued)
  cmp "$@" && { cat "$WORK/cmp.log" >&2; fail "accepted: $why"; }
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
