#!/usr/bin/env bash
# certvault demo: a vault in a temporary directory; a token; an EC key made
# inside it; a CSR and a self-signed certificate signed inside the vault; the
# certificate stored on the token; a listing; and OpenSSL verifying both.
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

WORK="$(mktemp -d "${TMPDIR:-/tmp}/certvault-demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export CERTVAULT_HOME="$WORK/vault"
# Demo PINs come from the environment; never put real PINs in scripts.
export CERTVAULT_SO_PIN="demo-so-pin-1234"
export CERTVAULT_PIN="demo-user-pin-1234"

step() { printf '\n\033[1m$ certvault %s\033[0m\n' "$*"; "$CERTVAULT" "$@"; }

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
echo
echo "demo: OK (the private key never left the vault)"
