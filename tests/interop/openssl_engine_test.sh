#!/usr/bin/env bash
# Interop: OpenSSL 3.0 CLI through the libp11 engine (libengine-pkcs11-openssl,
# engine id "pkcs11", MODULE_PATH set in a private openssl.cnf). Covers:
# `openssl req -x509` signing with token keys (EC P-256 and RSA-2048) given as
# pkcs11: URIs, `openssl verify`, then a TLS 1.3 handshake between
# `openssl s_server` (private key in the token) and `openssl s_client` on
# 127.0.0.1 with a random free port, both bounded by timeouts.
source "$(dirname "$0")/lib.sh"
need_tool openssl pkcs11-tool
ENGINES_DIR="$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')"
need_file "$ENGINES_DIR/pkcs11.so" "the libp11 engine (libengine-pkcs11-openssl) is not installed"
setup_env
init_token

cat >"$WORK/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINES_DIR/pkcs11.so
MODULE_PATH = $MODULE
init = 0
[req]
distinguished_name = dn
[dn]
CNF
export OPENSSL_CONF="$WORK/openssl.cnf"
openssl engine -t pkcs11 >"$WORK/engine.txt" 2>&1 || { cat "$WORK/engine.txt" >&2; fail "the pkcs11 engine does not load"; }

p11_user --keypairgen --key-type EC:prime256v1 --id 21 --label tls-ec --usage-sign >/dev/null || fail "EC keygen"
p11_user --keypairgen --key-type rsa:2048 --id 22 --label tls-rsa --usage-sign >/dev/null || fail "RSA keygen"
key_uri() { echo "pkcs11:token=$TOKEN_LABEL;object=$1;type=private;pin-value=$USER_PIN"; }

log "openssl req -x509 with token keys, then openssl verify"
for obj in tls-ec tls-rsa; do
  timeout "$T" openssl req -x509 -new -engine pkcs11 -keyform engine -key "$(key_uri $obj)" \
    -sha256 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" -days 1 \
    -out "$WORK/$obj.crt" >"$WORK/req.log" 2>&1 || { cat "$WORK/req.log" >&2; fail "openssl req -x509 with $obj"; }
  timeout "$T" openssl verify -CAfile "$WORK/$obj.crt" "$WORK/$obj.crt" >/dev/null \
    || fail "openssl verify rejects the certificate signed by $obj"
  # The certificate must carry the token's public key, not some other key.
  p11 --token-label "$TOKEN_LABEL" --read-object --type pubkey --label "$obj" -o "$WORK/$obj.pub.der" \
    || fail "read public key $obj"
  openssl x509 -in "$WORK/$obj.crt" -noout -pubkey | openssl pkey -pubin -outform DER -out "$WORK/$obj.crtpub.der"
  cmp -s "$WORK/$obj.pub.der" "$WORK/$obj.crtpub.der" || fail "certificate key differs from token key $obj"
done

# tls_handshake OBJ SIGTYPE: s_server holds the token key; s_client must complete a
# verified TLS 1.3 handshake and exchange one line of application data.
tls_handshake() {
  local obj=$1 sigtype=$2 port
  port="$(free_port)"
  timeout 60 openssl s_server -engine pkcs11 -keyform engine -key "$(key_uri "$obj")" \
    -cert "$WORK/$obj.crt" -accept "127.0.0.1:$port" -tls1_3 -naccept 1 -rev \
    >"$WORK/server.$obj.log" 2>&1 &
  BG_PIDS+=($!)
  local server_pid=$!
  wait_for_line "$WORK/server.$obj.log" "^ACCEPT" 30 || { cat "$WORK/server.$obj.log" >&2; fail "s_server ($obj) did not listen on $port"; }
  # s_client's exit status reflects how the server closed, so judge its output;
  # only a timeout (124) or a signal is a failure by itself.
  local rc=0
  printf "interop-ping\nCLOSE\n" | timeout 30 openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
    -CAfile "$WORK/$obj.crt" -verify_return_error -verify_ip 127.0.0.1 -ign_eof \
    >"$WORK/client.$obj.log" 2>&1 || rc=$?
  if ((rc >= 124)); then
    cat "$WORK/client.$obj.log" "$WORK/server.$obj.log" >&2
    fail "s_client ($obj) timed out or crashed (exit $rc)"
  fi
  expect_contains "$WORK/client.$obj.log" "Protocol *: TLSv1.3|New, TLSv1.3" "not TLS 1.3 ($obj)"
  expect_contains "$WORK/client.$obj.log" "Verify return code: 0 \(ok\)" "server certificate not verified ($obj)"
  expect_contains "$WORK/client.$obj.log" "gnip-poretni" "no application data echoed ($obj)"
  expect_contains "$WORK/client.$obj.log" "Peer signature type: $sigtype" "server did not sign with $sigtype"
  wait "$server_pid" 2>/dev/null || true
}
log "TLS 1.3 handshake, s_server key in the token (ECDSA)"
tls_handshake tls-ec ECDSA
log "TLS 1.3 handshake, s_server key in the token (RSA-PSS)"
tls_handshake tls-rsa RSA-PSS
