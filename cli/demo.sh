#!/usr/bin/env bash
# certvault demo: a vault in a temporary directory; a token; an EC key made
# inside it; a CSR and a self-signed certificate signed inside the vault; the
# certificate stored on the token; a listing; OpenSSL verifying both; an
# unmodified openssl s_server serving TLS 1.3 with the vault key through the
# provider; and the private CA, its keys in a second token, issuing the CSR,
# revoking it and publishing a CRL that OpenSSL checks.
#
# usage: cli/demo.sh [path/to/certvault]   (default: ./build/cli/certvault)
set -euo pipefail

CERTVAULT="${1:-}"
if [[ -z "$CERTVAULT" ]]; then
  for candidate in ./build/cli/certvault ./build/bin/certvault; do
    if [[ -x "$candidate" ]]; then CERTVAULT="$candidate"; break; fi
  done
fi
if [[ -z "$CERTVAULT" || ! -x "$CERTVAULT" ]]; then
  echo "demo: certvault binary not found; build it (cmake --build build) or pass its path" >&2
  exit 1
fi

# The provider, the PKCS#11 module and the CA from the same build (or the
# environment); the parts whose binary is missing are left out.
BUILD="$(cd "$(dirname "$CERTVAULT")/.." && pwd)"
PROVIDER="${PROVIDER:-$BUILD/src/provider/certvault.so}"
MODULE="${MODULE:-$BUILD/src/pkcs11/libcertvault-pkcs11.so}"
CA="${CA:-$BUILD/ca/certvault-ca}"
[[ -f "$PROVIDER" ]] || PROVIDER=""
[[ -f "$MODULE" ]] || MODULE=""
[[ -x "$CA" ]] || CA=""

WORK="$(mktemp -d "${TMPDIR:-/tmp}/certvault-demo.XXXXXX")"
trap '[[ -n "${CERTVAULT_DEMO_KEEP:-}" ]] || rm -rf "$WORK"' EXIT
export CERTVAULT_HOME="$WORK/vault"
# Demo PINs come from the environment; never put real PINs in scripts.
export CERTVAULT_SO_PIN="demo-so-pin-1234"
export CERTVAULT_PIN="demo-user-pin-1234"

step() { printf '\n\033[1m$ certvault %s\033[0m\n' "$*"; "$CERTVAULT" "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step init --label demo
step tokens
step keygen --token demo --label web --type ec:p256
step csr --token demo --key web --subject "/CN=www.example.com/O=certvault demo" \
  --san DNS:www.example.com --san IP:192.0.2.10 --out "$WORK/web.csr"
step selfsign --token demo --key web --subject "/CN=www.example.com/O=certvault demo" \
  --san DNS:www.example.com --days 30 --out "$WORK/cert.pem" --store
step list --token demo
step export-pubkey --token demo --key web --out "$WORK/web.pub.pem"

printf '\n\033[1m$ openssl req -verify -noout -in web.csr\033[0m\n'
openssl req -verify -noout -in "$WORK/web.csr"
printf '\n\033[1m$ openssl verify -CAfile cert.pem cert.pem\033[0m\n'
openssl verify -CAfile "$WORK/cert.pem" "$WORK/cert.pem"
printf '\n\033[1m$ openssl x509 -noout -subject -ext subjectAltName -in cert.pem\033[0m\n'
openssl x509 -noout -subject -ext subjectAltName -in "$WORK/cert.pem"
# The certificate's key is the vault's key.
cmp <(openssl x509 -pubkey -noout -in "$WORK/cert.pem") "$WORK/web.pub.pem"

# --- The OpenSSL provider: an unmodified openssl serves TLS 1.3 with the vault key ---
if [[ -n "$PROVIDER" ]]; then
  cat >"$WORK/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
certvault = certvault_sect
[default_sect]
activate = 1
[certvault_sect]
module = $PROVIDER
vault = $CERTVAULT_HOME
pin-env = CERTVAULT_PIN
activate = 1
CNF
  # nginx or mosquitto take a key-reference file (export-keyref); the openssl
  # command line takes the key's URI.
  step export-keyref --token demo --key web --out "$WORK/web.ref"
  key_uri="certvault:token=demo;object=web;type=private"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  say "OPENSSL_CONF=openssl.cnf openssl s_server -key '$key_uri' -cert cert.pem -accept 127.0.0.1:$port &"
  OPENSSL_CONF="$WORK/openssl.cnf" timeout 30 openssl s_server -key "$key_uri" -cert "$WORK/cert.pem" \
    -accept "127.0.0.1:$port" -naccept 1 -www </dev/null >"$WORK/s_server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q ACCEPT "$WORK/s_server.log" 2>/dev/null && break; sleep 0.05; done
  say "openssl s_client -connect 127.0.0.1:$port -CAfile cert.pem -verify_return_error   (no provider)"
  printf 'GET / HTTP/1.0\r\n\r\n' | OPENSSL_CONF=/dev/null timeout 30 openssl s_client -connect "127.0.0.1:$port" \
    -servername www.example.com -CAfile "$WORK/cert.pem" -verify_return_error -brief 2>&1 | grep -E "^(Protocol version|Ciphersuite|Verification)"
  wait "$server" || true
fi

# --- The private CA: its keys in a second token of the same vault ---
if [[ -n "$CA" && -n "$MODULE" ]]; then
  step init --label ca
  ca() { printf '\n\033[1m$ certvault-ca %s\033[0m\n' "$*"; "$CA" --dir "$WORK/ca" --actor demo "$@"; }
  # The guided set-up: ca.toml (with the shipped profiles device, server and
  # ocsp) written from flags, then root, issuing CA and OCSP signer in the token.
  ca init --name demo --root-subject "/CN=Demo Root CA/O=certvault demo" \
    --issuing-subject "/CN=Demo Issuing CA/O=certvault demo" --key-algorithm ec-p256 \
    --token-module "$MODULE" --token-label ca --pin-env CERTVAULT_PIN --database sqlite:ca.db \
    --url http://ca.example.com --permitted-dns example.com
  ca profiles
  ca issue --profile server --csr "$WORK/web.csr" --out "$WORK/web-issued.pem"
  ca list
  say "openssl verify -CAfile ca/chain.pem web-issued.pem"
  openssl verify -CAfile "$WORK/ca/chain.pem" "$WORK/web-issued.pem"
  serial=$(openssl x509 -in "$WORK/web-issued.pem" -noout -serial | cut -d= -f2)
  ca revoke "$serial" --reason keyCompromise
  ca crl --pem --out "$WORK/full.crl"
  say "openssl verify -crl_check -CAfile ca/chain.pem -CRLfile full.crl web-issued.pem   (revoked: must fail)"
  if openssl verify -crl_check -CAfile "$WORK/ca/chain.pem" -CRLfile "$WORK/full.crl" "$WORK/web-issued.pem" 2>&1; then
    echo "demo: a revoked certificate verified" >&2
    exit 1
  fi
fi

echo
echo "demo: OK (no private key left the vault)"
