#!/usr/bin/env bash
# Identities, roles and the admin API of certvault-ca serve (issue 15,
# docs/design/roles.md), driven by curl whose client keys stay in a certvault
# vault (the operators' own token) and are used through certvault's OpenSSL
# provider (key-reference files, OPENSSL_CONF):
#   - init --authority-csr makes the first authority; user add issues
#     operator certificates for CSRs signed in the vault;
#   - the admin API answers each identity by the permission matrix: allowed,
#     or 403 with a "denied" audit record; separation of duties (409);
#     nobody grants themselves a role; a per-identity rate limit (429);
#   - an unknown client certificate, a certificate of this CA bound to no
#     identity and a revoked operator certificate do not get in, and each
#     failed sign-in is audited;
#   - offline commands with the CA token PIN are audited as break-glass;
#   - certvault-ca --server runs the verbs remotely with the key in the
#     vault (embedded, and behind certvaultd).
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl
setup_env
printf '[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n' >"$WORK/certvault.conf"  # test vaults: cheap KDF
export CERTVAULT_CONF="$WORK/certvault.conf"
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
[[ -n "${CLI:-}" && -x "$CLI" ]] || fail "CLI is not set (certvault)"
is_softhsm && skip "the TLS server key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
HTTPS_PORT="$(free_port)"
RATE=20
cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
access_log = "access.log"

[server.admin]
allow = ["127.0.0.1"]
rate_per_minute = $RATE

[audit.alert]
command = "echo \\"\$CV_ALERT_KIND \$CV_ALERT_ACTOR\\" >>'$WORK/alerts.log'"
TOML

# The operators' own vault (one token "ops", a key per person), apart from the CA's.
OPS="$WORK/ops"
ops() { timeout "$T" "$CLI" --vault "$OPS" --pin "$USER_PIN" "$@"; }
timeout "$T" "$CLI" --vault "$OPS" init --label ops --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null || fail "ops init"
printf '%s\n' "$USER_PIN" >"$WORK/ops-pin" && chmod 600 "$WORK/ops-pin"
printf 'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\ndefault = default_sect\ncertvault = certvault_sect\n[default_sect]\nactivate = 1\n[certvault_sect]\nmodule = %s\nactivate = 1\npin-file = %s\nvault = %s\n' \
  "$PROVIDER" "$WORK/ops-pin" "$OPS" >"$WORK/ops.cnf"
person() {  # NAME: key NAME in the ops vault, NAME.ref and NAME.csr signed through the provider
  ops keygen --label "$1" --type ec:p256 >/dev/null || fail "keygen $1"
  ops export-keyref --key "$1" --out "$WORK/$1.ref" || fail "export-keyref $1"
  OPENSSL_CONF="$WORK/ops.cnf" timeout "$T" openssl req -new -key "certvault:token=ops;object=$1;type=private" \
    -subj "/CN=$1" -out "$WORK/$1.csr" 2>"$WORK/req.log" || { cat "$WORK/req.log" >&2; fail "CSR of $1"; }
}
for p in boss alice bob carol; do person "$p"; done

ca init --authority-csr "$WORK/boss.csr" --authority-name boss 2>"$WORK/init.log" || { cat "$WORK/init.log"; fail "init"; }
[[ -f "$CA_DIR/authority.pem" ]] || fail "init wrote no authority.pem"
openssl verify -CAfile "$CA_DIR/chain.pem" "$CA_DIR/authority.pem" >/dev/null || fail "authority.pem does not verify"
openssl x509 -in "$CA_DIR/authority.pem" -noout -ext extendedKeyUsage | grep -q "TLS Web Client" || fail "no clientAuth"
cp "$CA_DIR/authority.pem" "$WORK/boss.pem"
ca user add --name alice --role operator --csr "$WORK/alice.csr" --out "$WORK/alice.pem" 2>/dev/null || fail "user add alice"
ca user add --name bob --role auditor --csr "$WORK/bob.csr" --out "$WORK/bob.pem" 2>/dev/null || fail "user add bob"
ca user add --name carol --role admin --csr "$WORK/carol.csr" >"$WORK/carol.pem" 2>/dev/null || fail "user add carol"
ca user add --name dave --role operator --csr "$WORK/alice.csr" >/dev/null 2>&1 && fail "a CSR of an issued key bound twice?"
ca user add --name eve --role root --csr "$WORK/bob.csr" >/dev/null 2>&1 && fail "unknown role accepted"
ca user list >"$WORK/users.txt" || fail "user list"
grep -q "^alice	operator	" "$WORK/users.txt" || { cat "$WORK/users.txt"; fail "alice not listed as operator"; }
grep -q "^boss	authority	" "$WORK/users.txt" || fail "boss not listed as authority"
ca role grant bob admin 2>"$WORK/sod.log" && fail "break-glass granted auditor+admin"
grep -q "separation of duties" "$WORK/sod.log" || fail "no separation-of-duties message"
ca audit --limit 1000 >"$WORK/audit0.txt"
grep -Eq " break-glass [^ ]+ user add alice" "$WORK/audit0.txt" || { cat "$WORK/audit0.txt"; fail "no break-glass record"; }

ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
ca audit --limit 5 | grep -Eq " break-glass [^ ]+ server-cert" || fail "server-cert not break-glass"
ca_bg serve >"$WORK/serve.log" 2>&1
SERVE_BG=${BG_PIDS[-1]}
wait_for_line "$WORK/serve.log" "https listening on" 20 || { cat "$WORK/serve.log"; fail "serve did not start"; }
API="https://127.0.0.1:$HTTPS_PORT/admin/v1"

# as NAME CODE METHOD ROUTE [CURL ARGS]: one admin request with NAME's vault key; the body is in $WORK/out.
as() {
  local name=$1 want=$2 method=$3 route=$4
  shift 4
  local got
  got=$(OPENSSL_CONF="$WORK/ops.cnf" timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$WORK/$name.pem" \
    --key "$WORK/$name.ref" -X "$method" -o "$WORK/out" -w '%{http_code}' "$API/$route" "$@") || true
  [[ "$got" == "$want" ]] || { cat "$WORK/out" >&2 || true; fail "$name $method $route: HTTP $got, expected $want"; }
}
# The client address allow-list, changed by SIGHUP: 127.0.0.1 is refused, then allowed again.
SERVE_PID=$(pgrep -P "$SERVE_BG") || fail "no serve process under the timeout started here"
hangup() {  # the next "configuration reloaded" line after a SIGHUP
  local seen
  seen=$(grep -c "configuration reloaded\|reload refused" "$WORK/serve.log" || true)
  kill -HUP "$SERVE_PID" || fail "SIGHUP"
  local deadline=$((SECONDS + 20))
  while (($(grep -c "configuration reloaded\|reload refused" "$WORK/serve.log" || true) == seen)); do
    ((SECONDS < deadline)) || { cat "$WORK/serve.log"; fail "no reload after SIGHUP"; }
    sleep 0.1
  done
  tail -1 "$WORK/serve.log" | grep -q "configuration reloaded" || { cat "$WORK/serve.log"; fail "reload refused"; }
}
sed -i 's/^allow = \["127.0.0.1"\]/allow = ["10.9.9.9", "192.0.2.0\/24"]/' "$CA_DIR/ca.toml"
hangup
as alice 403 GET whoami
grep -q "not in \[server.admin\] allow" "$WORK/out" || fail "allow-list refusal: $(cat "$WORK/out")"
ca audit --limit 5 | grep -q "alice (operator) denied .*not in \[server.admin\] allow" || fail "allow-list refusal not audited"
sed -i 's/^allow = \["10.9.9.9", "192.0.2.0\/24"\]/allow = ["127.0.0.1"]/' "$CA_DIR/ca.toml"
hangup
log "admin API: client address allow-list (after SIGHUP)"

as alice 200 GET whoami
[[ "$(cat "$WORK/out")" == "alice	operator" ]] || fail "whoami: $(cat "$WORK/out")"
new_csr dev1 ec dev1.devices.example.com "DNS:dev1.devices.example.com"
as alice 200 POST issue/device --data-binary "@$WORK/dev1.csr"
openssl x509 -in "$WORK/out" -noout -subject | grep -q dev1 || fail "issue through the admin API"
cp "$WORK/out" "$WORK/dev1.pem"
as alice 200 GET certs
grep -q "dev1.devices.example.com" "$WORK/out" || fail "certs lists no dev1"
as alice 403 GET audit
as alice 403 POST users/bob/grant/operator
as alice 202 POST crl
as bob 200 GET audit/500
grep -q "alice (operator)	denied	audit" "$WORK/out" || { cat "$WORK/out"; fail "the denied audit read is not recorded"; }
grep -q "alice (operator)	issue	" "$WORK/out" || fail "the issuance is not recorded with its operator"
as bob 403 POST issue/device --data-binary "@$WORK/dev1.csr"
as carol 403 POST revoke --data-binary "$(serial_of "$WORK/dev1.pem")"
as boss 403 POST issue/device --data-binary "@$WORK/dev1.csr"
# Role changes: only the authority, never on oneself, never a conflicting pair.
as boss 409 POST users/bob/grant/admin
as boss 409 POST users/alice/grant/auditor
as boss 403 POST users/boss/grant/operator
as carol 403 POST users/carol/grant/crypto-officer
as boss 200 POST users/carol/grant/crypto-officer
as boss 200 GET users
grep -q "^carol	admin,crypto-officer	" "$WORK/out" || { cat "$WORK/out"; fail "carol's roles"; }
as boss 404 POST users/nobody/grant/operator

# Who does not get in: a certificate of another CA, one of this CA bound to
# no identity (dev1's), a revoked operator certificate.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/rogue.key" \
  -subj "/CN=alice" -days 2 -out "$WORK/rogue.pem" -addext extendedKeyUsage=clientAuth 2>/dev/null || fail "rogue"
plain_as() {  # KEY CERT CODE: a request with a PEM key (not in the vault)
  local got
  got=$(timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$2" --key "$1" -o "$WORK/out" -w '%{http_code}' \
    "$API/whoami") || true
  [[ "$got" == "$3" ]] || fail "$2: HTTP $got, expected $3"
}
plain_as "$WORK/rogue.key" "$WORK/rogue.pem" 401
plain_as "$WORK/dev1.key" "$WORK/dev1.pem" 401
got=$(timeout "$T" curl -s --cacert "$CA_DIR/root.pem" -o /dev/null -w '%{http_code}' "$API/whoami") || true
[[ "$got" == 401 ]] || fail "no client certificate: HTTP $got"
got=$(timeout "$T" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OCSP_PORT/admin/v1/whoami") || true
[[ "$got" == 403 ]] || fail "admin API over plain HTTP: HTTP $got"
as alice 200 POST revoke/9 --data-binary "$(serial_of "$WORK/bob.pem")"
as bob 403 GET audit
ca user remove bob 2>/dev/null || fail "user remove of an identity whose certificate is revoked"
ca user list | grep -q "^bob" && fail "bob still listed"
ca audit --limit 1000 >"$WORK/audit1.txt"
[[ $(grep -c " sign-in-failed " "$WORK/audit1.txt") -ge 4 ]] || { cat "$WORK/audit1.txt"; fail "failed sign-ins not audited"; }
grep -q "revoked" "$WORK/audit1.txt" || fail "the revoked sign-in is not audited"
[[ $(grep -c " denied " "$WORK/audit1.txt") -ge 8 ]] || fail "denied requests not all audited"

log "admin API: matrix, separation of duties, sign-in refusals"

# The remote CLI: the same verbs through the admin API, the key used through
# the provider in certvault-ca's own library context (alice's certificate
# imported into the token under the key's label; boss's given as a file).
ops import-cert --label alice "$WORK/alice.pem" >/dev/null || fail "import alice.pem"
remote() {  # NAME ARGS...: certvault-ca --server ... as NAME (no instance directory)
  local name=$1
  shift
  (cd "$WORK" && timeout "$T" "$CA_BIN" --server "https://127.0.0.1:$HTTPS_PORT" --trust "$CA_DIR/root.pem"     --identity "pkcs11:token=ops;object=$name" --pin-file "$WORK/ops-pin" --vault "$OPS"     --provider-module "$PROVIDER" "$@")
}
[[ "$(remote alice whoami)" == "alice	operator" ]] || fail "remote whoami"
new_csr dev2 ec dev2.devices.example.com "DNS:dev2.devices.example.com"
remote alice issue --profile device --csr "$WORK/dev2.csr" --out "$WORK/dev2.pem" || fail "remote issue"
openssl verify -CAfile "$CA_DIR/chain.pem" "$WORK/dev2.pem" >/dev/null || fail "remotely issued certificate"
remote alice revoke --reason keyCompromise "$(serial_of "$WORK/dev2.pem")" >/dev/null || fail "remote revoke"
remote alice list --limit 10 | grep "dev2" | grep -q "	R$" || fail "remote list: dev2 not revoked"
remote alice crl >/dev/null || fail "remote crl"
remote alice audit 2>"$WORK/remote.err" && fail "remote audit as an operator"
grep -q "HTTP 403" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no 403 for the operator's audit read"; }
ops import-cert --label boss "$WORK/boss.pem" >/dev/null || fail "import boss.pem"
remote boss role grant alice crypto-officer >/dev/null || fail "remote role grant"
remote boss user list | grep -q "^alice	crypto-officer,operator	" || fail "remote user list"
remote boss role revoke alice crypto-officer >/dev/null || fail "remote role revoke"
log "remote CLI with the key in an embedded certvault vault"

# The same key through certvaultd (daemon mode): the client process never opens the vault.
if [[ -n "${CERTVAULTD:-}" && -x "$CERTVAULTD" ]]; then
  printf '[daemon]\n' >"$WORK/opsd.conf"
  "$CERTVAULTD" --config "$WORK/opsd.conf" --vault "$OPS" --socket "$WORK/opsd.sock" >"$WORK/opsd.log" 2>&1 &
  BG_PIDS+=($!)
  wait_for_line "$WORK/opsd.log" "serving" 10 || { cat "$WORK/opsd.log"; fail "certvaultd did not start"; }
  got=$(cd "$WORK" && timeout "$T" "$CA_BIN" --server "https://127.0.0.1:$HTTPS_PORT" --trust "$CA_DIR/root.pem" \
    --identity "pkcs11:token=ops;object=alice" --pin-file "$WORK/ops-pin" --socket "$WORK/opsd.sock" \
    --provider-module "$PROVIDER" whoami) || fail "remote whoami through certvaultd"
  [[ "$got" == "alice	operator" ]] || fail "whoami through certvaultd: $got"
  log "remote CLI with the key behind certvaultd"
fi

# An operator whose key is in another PKCS#11 module (SoftHSM2): made by
# pkcs11-tool, its CSR by a real client (openssl req through the libp11
# engine), added with user add --csr; certvault-ca --module then signs in
# with it through its built-in cv-p11 provider (ca/p11/p11_pkey.h).
HSM=/usr/lib/softhsm/libsofthsm2.so
ENGINES_DIR="$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')"
if [[ -r "$HSM" && -f "$ENGINES_DIR/pkcs11.so" ]] && command -v softhsm2-util pkcs11-tool >/dev/null; then
  hsm_tool() { timeout "$T" pkcs11-tool --module "$HSM" --login --pin "$USER_PIN" "$@"; }
  for t in hsm-ops hsm-other; do
    softhsm2-util --init-token --free --label "$t" --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null || fail "init $t"
    hsm_tool --token-label "$t" --keypairgen --key-type EC:prime256v1 --id 31 --label hank --usage-sign >/dev/null \
      || fail "keygen in $t"
  done
  printf 'openssl_conf = oi\n[oi]\nengines = es\n[es]\npkcs11 = ps\n[ps]\nengine_id = pkcs11\ndynamic_path = %s\nMODULE_PATH = %s\ninit = 0\n' \
    "$ENGINES_DIR/pkcs11.so" "$HSM" >"$WORK/engine.cnf"
  OPENSSL_CONF="$WORK/engine.cnf" timeout "$T" openssl req -new -engine pkcs11 -keyform engine -subj "/CN=hank" \
    -key "pkcs11:token=hsm-ops;object=hank;type=private;pin-value=$USER_PIN" -out "$WORK/hank.csr" 2>"$WORK/req.log" \
    || { cat "$WORK/req.log" >&2; fail "CSR of hank through the libp11 engine"; }
  remote boss user add --name hank --role operator --csr "$WORK/hank.csr" --out "$WORK/hank.pem" || fail "add hank"
  hsm_remote() {  # URI PINFILE ARGS...: certvault-ca --server ... --module SoftHSM2
    local uri=$1 pin=$2
    shift 2
    (cd "$WORK" && timeout "$T" "$CA_BIN" --server "https://127.0.0.1:$HTTPS_PORT" --trust "$CA_DIR/root.pem" \
      --identity "$uri" --module "$HSM" --pin-file "$pin" "$@")
  }
  HANK='pkcs11:token=hsm-ops;object=hank'
  [[ "$(hsm_remote "$HANK" "$WORK/ops-pin" --identity-cert "$WORK/hank.pem" whoami)" == "hank	operator" ]] \
    || fail "whoami with the key in SoftHSM2"
  openssl x509 -in "$WORK/hank.pem" -outform DER -out "$WORK/hank.der"
  hsm_tool --token-label hsm-ops --write-object "$WORK/hank.der" --type cert --id 31 --label hank >/dev/null \
    || fail "import hank.pem into SoftHSM2"
  new_csr dev4 ec dev4.devices.example.com "DNS:dev4.devices.example.com"
  hsm_remote "$HANK" "$WORK/ops-pin" issue --profile device --csr "$WORK/dev4.csr" --out "$WORK/dev4.pem" \
    || fail "remote issue with the key in SoftHSM2 (certificate from the token)"
  openssl verify -CAfile "$CA_DIR/chain.pem" "$WORK/dev4.pem" >/dev/null || fail "dev4.pem"
  hsm_remote "$HANK" "$WORK/ops-pin" audit 2>"$WORK/remote.err" && fail "remote audit by the SoftHSM2 operator"
  grep -q "HTTP 403" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no 403 for hank's audit read"; }
  printf 'not-the-pin\n' >"$WORK/wrong-pin" && chmod 600 "$WORK/wrong-pin"
  hsm_remote "$HANK" "$WORK/wrong-pin" whoami 2>"$WORK/remote.err" && fail "signed in with a wrong PIN"
  grep -q "PIN rejected" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no PIN error"; }
  chmod 644 "$WORK/wrong-pin"
  hsm_remote "$HANK" "$WORK/wrong-pin" whoami 2>"$WORK/remote.err" && fail "a PIN file readable by others"
  grep -q "chmod 600" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no PIN file mode error"; }
  hsm_remote 'pkcs11:token=hsm-other;object=hank' "$WORK/ops-pin" --identity-cert "$WORK/hank.pem" whoami \
    2>"$WORK/remote.err" && fail "signed in with the key of another token"
  grep -q "not the identity key's" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no key mismatch error"; }
  hsm_remote 'pkcs11:token=hsm-ops;object=nobody' "$WORK/ops-pin" whoami 2>"$WORK/remote.err" && fail "no such key"
  grep -q "no private key 'nobody'" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no missing-key error"; }
  log "remote CLI with the key in SoftHSM2 (--module); wrong PIN, other token, missing key refused"
fi

# The rate limit: at most $RATE requests per identity per minute (carol has made 4 so far; every other identity stays below it).
limited=0
for _ in $(seq 1 $((RATE * 3))); do
  got=$(OPENSSL_CONF="$WORK/ops.cnf" timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$WORK/carol.pem" \
    --key "$WORK/carol.ref" -o /dev/null -w '%{http_code}' "$API/whoami") || true
  if [[ "$got" == 429 ]]; then limited=1; break; fi
  [[ "$got" == 200 ]] || fail "whoami before the limit: HTTP $got"
done
[[ $limited == 1 ]] || fail "no 429 after $((RATE * 3)) requests"
as alice 200 GET whoami   # the limit is per identity
log "admin API: rate limit per identity"
ca user remove carol 2>/dev/null || fail "user remove carol"
ca show "$(serial_of "$WORK/carol.pem")" 2>/dev/null | grep -qi "revoked" || fail "carol's certificate not revoked"
log "user remove revokes the certificate"

# What needs the CA instance, through the admin API (served by the serve
# loop, which owns the token): user add, key rollover, ca.toml, the audit.
# gus is a fresh operator: alice has used up this minute's requests.
for p in dan erin fay gus; do person "$p"; done
new_csr dev3 ec dev3.devices.example.com "DNS:dev3.devices.example.com"
remote boss user add --name dan --role admin --csr "$WORK/dan.csr" --out "$WORK/dan.pem" || fail "remote user add dan"
openssl verify -CAfile "$CA_DIR/chain.pem" "$WORK/dan.pem" >/dev/null || fail "dan's operator certificate"
openssl x509 -in "$WORK/dan.pem" -noout -subject | grep -q "CN *= *dan" || fail "dan's certificate names dan"
remote boss user add --name erin --role crypto-officer --csr "$WORK/erin.csr" >"$WORK/erin.pem" || fail "add erin"
remote boss user add --name fay --role auditor --csr "$WORK/fay.csr" --out "$WORK/fay.pem" || fail "add fay"
remote boss user add --name gus --role operator --csr "$WORK/gus.csr" --out "$WORK/gus.pem" || fail "add gus"
remote boss user add --name dan2 --role operator --csr "$WORK/dan.csr" 2>"$WORK/remote.err" && fail "a key bound twice"
grep -q "HTTP 409" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no 409 for a key bound twice"; }
remote boss user list | grep -q "^fay	auditor	" || fail "fay not listed as auditor"
for p in dan erin fay gus; do ops import-cert --label "$p" "$WORK/$p.pem" >/dev/null || fail "import $p.pem"; done
[[ "$(remote dan whoami)" == "dan	admin" ]] || fail "dan signs in"
remote gus user add --name hal --role operator --csr "$WORK/dev3.csr" 2>"$WORK/remote.err" && fail "an operator added a user"
grep -q "HTTP 403" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no 403 for user add by an operator"; }
log "admin API: user add by the authority only, with an operator certificate for the CSR"

# The audit trail: for the auditor (and the authority), not for operators.
remote fay audit verify >"$WORK/verify.out" || { cat "$WORK/verify.out"; fail "remote audit verify"; }
grep -q "^audit chain ok" "$WORK/verify.out" || fail "audit verify: $(cat "$WORK/verify.out")"
remote fay audit export >"$WORK/export.jsonl" || fail "remote audit export"
grep -q '"action":"user-add","ca":"[^"]*","target":"dan"' "$WORK/export.jsonl" || fail "export has no user-add of dan"
grep -q '"actor":"boss (authority)".*"action":"user-add"' "$WORK/export.jsonl" || fail "user-add names no authority"
remote gus audit verify 2>"$WORK/remote.err" && fail "an operator verified the audit"
grep -q "HTTP 403" "$WORK/remote.err" || fail "no 403 for the operator's audit verify"
remote gus audit export 2>/dev/null && fail "an operator exported the audit"
as fay 403 POST issue/device --data-binary "@$WORK/dev1.csr"
as fay 403 POST revoke --data-binary "$(serial_of "$WORK/dev1.pem")"
log "admin API: audit verify/export for the auditor; an operator cannot read it, the auditor cannot issue"

# Key rollover: the crypto-officer only; then this server issues nothing with the retired key.
remote dan rollover 2>"$WORK/remote.err" && fail "an admin rolled the CA key over"
grep -q "HTTP 403" "$WORK/remote.err" || fail "no 403 for rollover by an admin"
remote gus rollover 2>/dev/null && fail "an operator rolled the CA key over"
remote erin rollover >"$WORK/rollover.out" || { cat "$WORK/rollover.out"; fail "remote rollover"; }
grep -qx 'issuing = 2' "$CA_DIR/generations" || fail "rollover not committed"
openssl verify -CAfile "$CA_DIR/root.pem" "$CA_DIR/issuing-g2.pem" >/dev/null || fail "issuing-g2.pem"
# Without a restart: the server already issues with generation 2, and the
# identities whose certificates generation 1 issued still sign in.
as gus 200 POST issue/device --data-binary "@$WORK/dev3.csr"
cp "$WORK/out" "$WORK/dev3.pem"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/issuing-g2.pem" "$WORK/dev3.pem" >/dev/null \
  || fail "not issued by generation 2 after the rollover"
[[ "$(remote gus whoami)" == "gus	operator" ]] || fail "a generation-1 operator certificate after the rollover"
# certs and revoke reach both generations: dev3 (generation 2) and a generation-1 certificate.
dev3=$(serial_of "$WORK/dev3.pem" | tr 'A-F' 'a-f')
as gus 200 GET certs/1000
grep -qi "^$dev3	" "$WORK/out" || { cat "$WORK/out"; fail "certs does not list the generation-2 certificate"; }
old1=$(grep -v "^$dev3	" "$WORK/out" | grep "	V$" | grep -v "operator" | head -1 | cut -f1)
[[ -n "$old1" ]] || { cat "$WORK/out"; fail "certs does not list generation 1's certificates"; }
as gus 200 POST revoke --data-binary "$dev3 $old1"
grep -q "revoked 2 " "$WORK/out" || { cat "$WORK/out"; fail "revoke of one certificate of each generation"; }
log "admin API: CA key rollover by the crypto-officer; the server issues with generation 2 at once"

# ca.toml: the admin only; checked as it would load, [server] in force at once.
remote gus config show 2>/dev/null && fail "an operator read ca.toml"
remote dan config show >"$WORK/ca-shown.toml" || fail "remote config show"
cmp -s "$WORK/ca-shown.toml" "$CA_DIR/ca.toml" || fail "config show differs from ca.toml"
cp "$CA_DIR/ca.toml" "$WORK/ca-before.toml"
printf '[ca\nname = ' >"$WORK/bad.toml"
remote dan config apply "$WORK/bad.toml" 2>"$WORK/remote.err" && fail "a malformed ca.toml applied"
grep -q "HTTP 400" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no 400 for a malformed ca.toml"; }
sed 's/^name = .*/name = "other"/' "$WORK/ca-before.toml" >"$WORK/renamed.toml"
remote dan config apply "$WORK/renamed.toml" 2>"$WORK/remote.err" && fail "[ca] name changed"
grep -q "HTTP 409" "$WORK/remote.err" || { cat "$WORK/remote.err"; fail "no 409 for a changed [ca] name"; }
cmp -s "$WORK/ca-before.toml" "$CA_DIR/ca.toml" || fail "a refused ca.toml changed the file"
sed "s/^rate_per_minute = .*/rate_per_minute = 3/" "$WORK/ca-before.toml" >"$WORK/new.toml"
sed -n '/^\[profiles.device\]/,/^\[/p' "$WORK/ca-before.toml" | sed '$d' | sed 's/^\[profiles.device\]/[profiles.lab]/' \
  >>"$WORK/new.toml"
remote erin config apply "$WORK/new.toml" 2>/dev/null && fail "a crypto-officer changed ca.toml"
chmod 600 "$CA_DIR/ca.toml"
remote dan config apply "$WORK/new.toml" >/dev/null || fail "remote config apply"
cmp -s "$WORK/new.toml" "$CA_DIR/ca.toml" || fail "ca.toml is not what was applied"
[[ "$(stat -c %a "$CA_DIR/ca.toml")" == 600 ]] || fail "ca.toml lost its mode 600"
ca profiles | grep -q "^lab" || { ca profiles; fail "the new profile is not in ca.toml"; }
limited=0
for _ in $(seq 1 10); do
  got=$(OPENSSL_CONF="$WORK/ops.cnf" timeout "$T" curl -s --cacert "$CA_DIR/root.pem" --cert "$WORK/fay.pem" \
    --key "$WORK/fay.ref" -o /dev/null -w '%{http_code}' "$API/whoami") || true
  if [[ "$got" == 429 ]]; then limited=1; break; fi
done
[[ $limited == 1 ]] || { grep -n rate_per_minute "$CA_DIR/ca.toml"; fail "the applied rate_per_minute = 3 is not in force (last HTTP $got)"; }
ca audit --limit 1000 >"$WORK/audit2.txt"
# Each: actor, action, (the CA column,) target, as `ca audit` prints them.
for want in 'dan \(admin\) config-change [^ ]+ ca\.toml' 'dan \(admin\) config-change-failed [^ ]+ ca\.toml' \
  'erin \(crypto-officer\) denied [^ ]+ ca\.toml' 'erin \(crypto-officer\) rollover [^ ]+ generations' \
  'dan \(admin\) denied [^ ]+ issuing key' 'gus \(operator\) denied [^ ]+ ca\.toml' \
  'fay \(auditor\) audit-verify [^ ]+ audit' 'fay \(auditor\) audit-export [^ ]+ audit' \
  'gus \(operator\) denied [^ ]+ audit' 'boss \(authority\) user-add [^ ]+ fay' \
  'gus \(operator\) denied [^ ]+ hal' 'fay \(auditor\) denied [^ ]+ profile device'; do
  grep -Eq " $want" "$WORK/audit2.txt" || { cat "$WORK/audit2.txt"; fail "not audited: $want"; }
done
grep -q "^config-change dan (admin)$" "$WORK/alerts.log" || { cat "$WORK/alerts.log"; fail "no config-change alert"; }
grep -q "^user-change boss (authority)$" "$WORK/alerts.log" || fail "no user-change alert for user add through the API"
log "admin API: ca.toml by the admin, checked, written, [server] reloaded; every step audited and alerted"


# After a restart the server issues with the new generation, and the
# identities whose certificates the retired one issued still sign in.
kill "$SERVE_PID" && wait "$SERVE_BG" 2>/dev/null
ca_bg serve >"$WORK/serve2.log" 2>&1
wait_for_line "$WORK/serve2.log" "https listening on" 20 || { cat "$WORK/serve2.log"; fail "serve did not restart"; }
[[ "$(remote gus whoami)" == "gus	operator" ]] || fail "a generation-1 operator certificate after the rollover"
remote gus issue --profile device --csr "$WORK/dev3.csr" --out "$WORK/dev3.pem" || fail "issue after the restart"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/issuing-g2.pem" "$WORK/dev3.pem" >/dev/null \
  || fail "not issued by generation 2"
log "after a restart: generation 2 issues, generation-1 operators sign in"
