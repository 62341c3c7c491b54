#!/usr/bin/env bash
# certvault-ca serve: SIGHUP reloads [server] and the TLS server certificate
# without dropping connections (issue 13, Operations).
#   - a bootstrap client certificate missing from [[server.authorize]] gets
#     403; the table is changed, SIGHUP: the same client now gets 200, on a
#     keep-alive connection opened before the reload (not dropped);
#   - a new TLS server certificate (server-cert) is served after SIGHUP;
#   - a broken ca.toml after SIGHUP is refused with a logged error and the
#     server keeps serving with the configuration it had;
#   - a changed profile (validity, extendedKeyUsage) applies after SIGHUP,
#     on a keep-alive connection too; a broken profile is refused (audited)
#     and the profiles in force stay; one that contradicts the policy is a
#     policy violation.
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
# The server's policy (the environment: offline commands run without it)
# allows all of ca.toml until the last step tightens it.
cat >"$WORK/policy.toml" <<'TOML'
[algorithms]
allowed_key_types = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]
min_rsa_bits = 2048
[crypto_periods]
max_root_key_days = 36500
max_issuing_key_usage_days = 36500
max_issuing_cert_days = 36500
[certificates]
max_leaf_validity_days = 36500
TOML
CERTVAULT_CA_POLICY="$WORK/policy.toml" ca_bg serve --crl-interval 1 >"$WORK/serve.log" 2>&1
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

# Profiles (issue 15): the device profile's validity (365 -> 30 days) and
# its extendedKeyUsage (clientAuth+serverAuth -> clientAuth) change in
# ca.toml; SIGHUP. One keep-alive connection enrolls before and after the
# reload: the first certificate has the old profile, the second the new one.
server_table "/CN=Bootstrap CA/O=Maker" >"$CA_DIR/ca.toml"
hangup "configuration reloaded"
new_csr p1 ec p1.devices.example.com "DNS:p1.devices.example.com"
openssl req -in "$WORK/p1.csr" -outform DER | openssl base64 >"$WORK/p1.b64"
python3 - "$HTTPS_PORT" "$CA_DIR/root.pem" "$WORK" <<'PY' >"$WORK/keepalive2.log" 2>&1 &
import http.client, ssl, sys
port, root, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=root)
ctx.load_cert_chain(work + "/terminal.pem", work + "/terminal.key")
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
body = open(work + "/p1.b64", "rb").read()
headers = {"Content-Type": "application/pkcs10"}
for n in (1, 2):
    if n == 2:
        open(work + "/from_client", "w").write("go\n")
        open(work + "/to_client").read()
        sock = conn.sock
    conn.request("POST", "/.well-known/est/device/simpleenroll", body, headers)
    r = conn.getresponse()
    open(work + "/p1-%d.b64" % n, "wb").write(r.read())
    print(n, r.status, "same-connection" if n == 1 or conn.sock is sock else "reconnected", flush=True)
PY
CLIENT_PID=$!
read -r _ <"$WORK/from_client"
sed -i -e '0,/^days = 365$/s//days = 30/' -e 's/^extended_key_usage = \["clientAuth", "serverAuth"\]$/extended_key_usage = ["clientAuth"]/' \
  "$WORK/ca.toml.base"
server_table "/CN=Bootstrap CA/O=Maker" >"$CA_DIR/ca.toml"
hangup "configuration reloaded"
echo next >"$WORK/to_client"
wait "$CLIENT_PID" || { cat "$WORK/keepalive2.log"; fail "keep-alive client (profiles)"; }
expect_contains "$WORK/keepalive2.log" "1 200" "keep-alive: the enrollment before the reload failed"
expect_contains "$WORK/keepalive2.log" "2 200 same-connection" "keep-alive: the enrollment after the reload failed"
# profile_of N: "DAYS EKU" of the certificate of answer N.
profile_of() {
  base64 -d "$WORK/p1-$1.b64" | openssl pkcs7 -inform DER -print_certs >"$WORK/p1-$1.pem" \
    || fail "answer $1 is not a PKCS#7"
  local from to
  from=$(date -d "$(openssl x509 -in "$WORK/p1-$1.pem" -noout -startdate | cut -d= -f2)" +%s)
  to=$(date -d "$(openssl x509 -in "$WORK/p1-$1.pem" -noout -enddate | cut -d= -f2)" +%s)
  echo "$(( (to - from) / 86400 )) $(openssl x509 -in "$WORK/p1-$1.pem" -noout -ext extendedKeyUsage | tail -1 | tr -d ' ')"
}
[[ $(profile_of 1) == "365 TLSWebClientAuthentication,TLSWebServerAuthentication" ]] || fail "before: $(profile_of 1)"
[[ $(profile_of 2) == "30 TLSWebClientAuthentication" ]] || fail "after the reload, not the new profile: $(profile_of 2)"
log "SIGHUP: a changed profile (validity, EKU) is applied, on a keep-alive connection opened before"

# A profile that does not load: refused, the profiles in force stay.
sed -i 's/^extended_key_usage = \["clientAuth"\]$/extended_key_usage = ["noSuchPurpose"]/' "$WORK/ca.toml.base"
server_table "/CN=Bootstrap CA/O=Maker" >"$CA_DIR/ca.toml"
hangup "reload refused"
[[ $(enroll p2) == 200 ]] || fail "after a refused profile reload: enrollment fails"
base64 -d "$WORK/out" | openssl pkcs7 -inform DER -print_certs >"$WORK/p2.pem" || fail "p2: not a PKCS#7"
openssl x509 -in "$WORK/p2.pem" -noout -ext extendedKeyUsage | grep -q "TLS Web Client Authentication$" \
  || fail "after a refused profile reload: not the profile in force"
sed -i 's/^extended_key_usage = \["noSuchPurpose"\]$/extended_key_usage = ["clientAuth"]/' "$WORK/ca.toml.base"
server_table "/CN=Bootstrap CA/O=Maker" >"$CA_DIR/ca.toml"
timeout "$T" "$CA_BIN" --dir "$CA_DIR" audit --limit 60 >"$WORK/audit.out" 2>&1 || { cat "$WORK/audit.out"; fail "audit"; }
expect_contains "$WORK/audit.out" "config-reload factory-issuing ca.toml .*profiles" "a reload is not audited"
expect_contains "$WORK/audit.out" "config-reload-failed factory-issuing ca.toml .*noSuchPurpose" \
  "a refused reload is not audited with its reason"
log "a broken profile is refused (logged, audited); the profiles in force stay"

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

# A ca.toml that contradicts the policy at a reload: refused, the old
# configuration stays, and it is a policy violation in the audit chain.
sed -i 's/^max_leaf_validity_days = 36500$/max_leaf_validity_days = 10/' "$WORK/policy.toml"
hangup "reload refused"
[[ $(enroll d5) == 200 ]] || fail "after a reload refused by the policy: enrollment fails"
timeout "$T" "$CA_BIN" --dir "$CA_DIR" audit --limit 10 >"$WORK/audit2.out" 2>&1 || { cat "$WORK/audit2.out"; fail "audit"; }
expect_contains "$WORK/audit2.out" "policy-violation factory-issuing ca.toml .*rule: \[certificates\] max_leaf_validity_days = 10" \
  "a reload refused by the policy is not a policy violation"
log "a reload that contradicts the policy: refused, audited as a policy violation"
