#!/usr/bin/env bash
# An issuing CA under an external root: `init --external-root` generates only
# the issuing key (in the token) and a CSR; an external root made with the
# openssl CLI signs it; `install-issuing` checks and installs the certificate
# and creates the OCSP signer; issued certificates verify up to that root. A
# certificate for another key, or signed by another root, is refused.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
ca init --external-root || fail "init --external-root failed"
[[ -s "$CA_DIR/issuing.csr" && ! -e "$CA_DIR/root.pem" ]] || fail "external-root init wrote the wrong files"
openssl req -in "$CA_DIR/issuing.csr" -noout -verify >/dev/null 2>&1 || fail "issuing CSR does not verify"

ext_root() {  # NAME: a self-signed external root made by the openssl CLI
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$1.key" -subj "/CN=$1" \
    -days 30 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$WORK/$1.pem" 2>/dev/null || fail "making root $1 failed"
}
ext_root external
ext_root other
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' >"$WORK/ca.ext"
openssl x509 -req -in "$CA_DIR/issuing.csr" -CA "$WORK/external.pem" -CAkey "$WORK/external.key" -CAcreateserial \
  -days 20 -extfile "$WORK/ca.ext" -out "$WORK/issuing.pem" 2>/dev/null || fail "the external root could not sign"

log "install: wrong root, wrong key, then the right one"
expect_failure "issuing certificate checked against another root" ca install-issuing --cert "$WORK/issuing.pem" --root "$WORK/other.pem"
expect_contains "$WORK/expect_failure.out" "not signed by the given root" "wrong root: unclear error"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/x.key" -subj "/CN=x" -out "$WORK/x.csr" 2>/dev/null
openssl x509 -req -in "$WORK/x.csr" -CA "$WORK/external.pem" -CAkey "$WORK/external.key" -CAcreateserial \
  -days 20 -extfile "$WORK/ca.ext" -out "$WORK/x.pem" 2>/dev/null
expect_failure "certificate for another key" ca install-issuing --cert "$WORK/x.pem" --root "$WORK/external.pem"
expect_contains "$WORK/expect_failure.out" "not for the issuing key" "wrong key: unclear error"
ca install-issuing --cert "$WORK/issuing.pem" --root "$WORK/external.pem" || fail "install-issuing failed"

new_csr d1 ec d1 "DNS:d1.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" || fail "issuing under the external root failed"
timeout "$T" openssl verify -CAfile "$WORK/external.pem" -untrusted "$CA_DIR/issuing.pem" "$WORK/d1.pem" >/dev/null \
  || fail "certificate does not verify up to the external root"
timeout "$T" openssl verify -CAfile "$WORK/external.pem" -untrusted "$CA_DIR/issuing.pem" "$CA_DIR/ocsp.pem" >/dev/null \
  || fail "OCSP signer does not verify up to the external root"
log "external root flow complete"
