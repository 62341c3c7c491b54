#!/usr/bin/env bash
# certvault-ca serve: SIGHUP reloads [server] and the TLS server certificate
# without dropping connections (issue 13, Operations).
#   - a bootstrap client certificate missing from [[server.authorize]] gets
#     403; the table is changed, SIGHUP: the same client now gets 200, on a
#     keep-alive connection opened before the reload (not dropped);
#   - a new TLS server certificate (server-cert) is served after SIGHUP;
#   - a broken ca.toml after SIGHUP is refused with a logged error and the
#     server keeps serving with the configuration it had.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl python3
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
is_softhsm && skip "the TLS server key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"

boot_ca boot-ca
boot_cert terminal terminal-1 "$WORK/boot-ca"

cp "$CA_DIR/ca.toml" "$WORK/ca.toml.base"
server_table() {  # ISSUER: the [server] table authorizing ISSUER into "device"
  cat "$WORK/ca.toml.base"
  cat <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
default_profile = "device"

[[server.authorize]]
issuer = "$1"
profiles = ["device"]
TOML
}
server_table "/CN=Someone Else" >"$CA_DIR/ca.toml"
ca init 2>/dev/null || fail "init"
ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
ca_bg serve --crl-interval 1 >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }
SERVE_PID=$(pgrep -P "${BG_PIDS[-1]}") || fail "no serve process under the timeout started here"
EST="https://127.0.0.1:$HTTPS_PORT/.well-known/est"

# enroll NAME: simpleenroll of a new CSR with the terminal's certificate; prints the HTTP status.
enroll() {
  new_csr "$1" ec "$1.devices.example.com" "DNS:$1.devices.example.com"
  openssl req -in "$WORK/$1.csr" -outform DER | openssl base64 >"$WORK/$1.b64"
  timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" \
    -H "Content-Type: application/pkcs10" --data-binary @"$WORK/$1.b64" -o "$WORK/out" -w '%{http_code}' \
    "$EST/device/simpleenroll" || true
}
# hangup PATTERN: SIGHUP to the server started above; its next reload line must contain PATTERN.
hangup() {
  local seen
  seen=$(grep -c "configuration reloaded\|reload refused" "$WORK/serve.log" || true)
  kill -HUP "$SERVE_PID" || fail "SIGHUP"
  local deadline=$((SECONDS + 20))
  while (($(grep -c "configuration reloaded\|reload refused" "$WORK/serve.log" || true) == seen)); do
    ((SECONDS < deadline)) || { cat "$WORK/serve.log"; fail "no reload after SIGHUP"; }
    sleep 0.1
  done
  grep "configuration reloaded\|reload refused" "$WORK/serve.log" | tail -1 | grep -q -- "$1" \
    || { cat "$WORK/serve.log"; fail "reload: expected '$1'"; }
}

[[ $(enroll d0) == 403 ]] || fail "a client not in [[server.authorize]] was accepted"
log "before the reload: the bootstrap client is refused (403)"

# A keep-alive connection opened before the reload; the client (python) sends
# "go" on a FIFO once it has had its first answer and waits for "next".
new_csr d1 ec d1.devices.example.com "DNS:d1.devices.example.com"
openssl req -in "$WORK/d1.csr" -outform DER | openssl base64 >"$WORK/d1.b64"
mkfifo "$WORK/to_client" "$WORK/from_client"
python3 - "$HTTPS_PORT" "$CA_DIR/root.pem" "$WORK" <<'PY' >"$WORK/keepalive.log" 2>&1 &
import http.client, ssl, sys
port, root, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=root)
ctx.load_cert_chain(work + "/terminal.pem", work + "/terminal.key")
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
body = open(work + "/d1.b64", "rb").read()
headers = {"Content-Type": "application/pkcs10"}
conn.request("POST", "/.well-known/est/device/simpleenroll", body, headers)
r = conn.getresponse(); r.read()
print("first", r.status, flush=True)
sock = conn.sock
open(work + "/from_client", "w").write("go\n")
open(work + "/to_client").read()
conn.request("POST", "/.well-known/est/device/simpleenroll", body, headers)
r = conn.getresponse(); r.read()
print("second", r.status, "same-connection" if conn.sock is sock else "reconnected", flush=True)
PY
CLIENT_PID=$!
read -r _ <"$WORK/from_client"
server_table "/CN=Bootstrap CA/O=Maker" >"$CA_DIR/ca.toml"
hangup "configuration reloaded"
echo next >"$WORK/to_client"
wait "$CLIENT_PID" || { cat "$WORK/keepalive.log"; fail "keep-alive client"; }
expect_contains "$WORK/keepalive.log" "first 403" "keep-alive: first request not refused"
expect_contains "$WORK/keepalive.log" "second 200 same-connection" "keep-alive: not accepted on the same connection"
[[ $(enroll d2) == 200 ]] || fail "after the reload: the authorized client is refused"
log "SIGHUP: the new authorize table holds, on a connection opened before too"

# A new TLS server certificate (server-cert while serving), SIGHUP: new connections get it.
served_serial() {
  timeout "$T" openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -CAfile "$CA_DIR/root.pem" -verify_return_error \
    </dev/null 2>/dev/null | openssl x509 -noout -serial
}
old_serial=$(served_serial) || fail "s_client before the new certificate"
ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
new_serial=$(openssl x509 -in "$CA_DIR/server.pem" -noout -serial)
[[ "$new_serial" != "$old_serial" ]] || fail "server-cert did not make a new certificate"
hangup "configuration reloaded"
[[ $(served_serial) == "$new_serial" ]] || fail "after SIGHUP: the old server certificate is still served"
[[ $(enroll d2b) == 200 ]] || fail "enroll after the certificate reload"
log "SIGHUP: a new TLS server certificate is served to new connections"

# A certificate that does not load: refused, the served one stays.
sed -i "/^\[server\]/a tls_cert = \"$WORK/missing.pem\"" "$CA_DIR/ca.toml"
hangup "reload refused"
[[ $(served_serial) == "$new_serial" ]] || fail "after a refused certificate reload: not the previous certificate"
log "a tls_cert that does not load is refused; the served certificate stays"
server_table "/CN=Bootstrap CA/O=Maker" >"$CA_DIR/ca.toml"

printf '[server\nhttps_port = "x"\n' >>"$CA_DIR/ca.toml"
hangup "reload refused"
[[ $(enroll d3) == 200 ]] || fail "after a refused reload: the server does not serve as before"
kill -0 "$SERVE_PID" || fail "the server stopped after a broken ca.toml"
log "a broken ca.toml is refused (logged) and the previous configuration stays"

# serve (signing CRLs every second) and the provider inside it have the vault
# open; an offline command writes the same vault and exits. The next reload
# opens the vault once more in the server's process: it must find the WAL
# the server still uses (a vault opened twice in one process used to drop
# that process's SQLite locks, and the offline command then deleted the WAL).
server_table "/CN=Bootstrap CA/O=Maker" >"$CA_DIR/ca.toml"
ca crl >"$WORK/crl.log" 2>&1 || { cat "$WORK/crl.log"; fail "offline crl"; }
hangup "configuration reloaded"
[[ $(enroll d4) == 200 ]] || fail "enroll after an offline write and a reload"
log "an offline write of the CA token while serve runs: the reload still opens the vault"
