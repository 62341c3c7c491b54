#!/usr/bin/env bash
# certvault enroll (the device side of issue 13) against certvault-ca serve:
#   - first enrollment with a one-time enrollment code, the key made in the
#     device vault, the server authenticated by --trust (a CA file) or by a
#     pinned --trust-fingerprint; the stored certificate verifies with
#     `openssl verify` and carries the vault key;
#   - refusals leave the device vault unchanged (no key, no certificate):
#     wrong trust anchor, wrong fingerprint, reused enrollment code.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl python3
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
# A manufacturer's bootstrap CA, outside certvault: its certificates may enroll into "device".
boot_ca boot-ca
cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
enroll_code_profiles = ["device", "attested"]
default_profile = "device"
access_log = "access.log"
client_anchors = ["$WORK/boot-ca.pem"]

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
profiles = ["device"]

# Issue 14: only keys a certvault vault attests (generated inside, never
# extractable); the root is the device vault's identity, written below.
[profiles.attested]
days = 365
key_usage = ["digitalSignature"]
extended_key_usage = ["clientAuth"]
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
URL="https://127.0.0.1:$HTTPS_PORT"

DEV="$WORK/device"
dev() { timeout "$T" "$CLI" --vault "$DEV" --pin "$USER_PIN" "$@"; }
timeout "$T" "$CLI" --vault "$DEV" init --label device --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null || fail "device init"
snapshot() { dev list --login >"$WORK/$1.list" 2>&1 || fail "list"; }
unchanged() { diff "$WORK/before.list" "$WORK/after.list" >&2 || fail "$1 changed the device vault"; }
code() { ca enroll-code --profile device >"$WORK/$1" 2>/dev/null || fail "enroll-code"; chmod 600 "$WORK/$1"; }
enroll() {  # NAME ARGS...: enroll key NAME (made if absent) as NAME.devices.example.com
  local name=$1
  shift
  dev enroll --server "$URL" --profile device --key "$name" --subject "/CN=$name.devices.example.com" \
    --san "DNS:$name.devices.example.com" "$@"
}

code code1.txt
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/rogue.key" \
  -subj "/CN=Factory Root CA/O=Example/C=JP" -days 30 -out "$WORK/rogue.pem" 2>/dev/null || fail "rogue CA"
snapshot before
enroll d1 --trust "$WORK/rogue.pem" --enroll-code-file "$WORK/code1.txt" >"$WORK/e.out" 2>&1 \
  && fail "enrolled with a server not certified by the trust anchor"
expect_contains "$WORK/e.out" "TLS" "no TLS reason in the refusal"
enroll d1 --trust-fingerprint "$(printf '%064d' 0)" --enroll-code-file "$WORK/code1.txt" >"$WORK/e.out" 2>&1 \
  && fail "enrolled with a wrong pinned fingerprint"
expect_contains "$WORK/e.out" "fingerprint" "no fingerprint reason in the refusal"
snapshot after
unchanged "a refused trust anchor"
log "wrong trust anchor and wrong fingerprint refused; vault unchanged"

enroll d1 --trust "$CA_DIR/root.pem" --enroll-code-file "$WORK/code1.txt" --json >"$WORK/e.out" 2>&1 \
  || { cat "$WORK/e.out"; fail "enroll with a code"; }
expect_contains "$WORK/e.out" '"key_created":true' "no key_created in the JSON"
dev export-cert --cert "pkcs11:object=d1;type=cert" --out "$WORK/d1.pem" || fail "export-cert d1"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" "$WORK/d1.pem" >/dev/null \
  || fail "the stored certificate does not verify"
dev export-pubkey --key d1 --out "$WORK/d1.pub" || fail "export-pubkey"
[[ $(openssl x509 -in "$WORK/d1.pem" -noout -pubkey) == $(openssl pkey -pubin -in "$WORK/d1.pub") ]] \
  || fail "the stored certificate is not for the vault key"
dev list --login >"$WORK/l.out"
expect_contains "$WORK/l.out" "Factory Issuing CA 1" "the chain was not stored"
log "enrolled with an enrollment code; the certificate verifies and is the vault key's"

snapshot before
enroll d2 --trust "$CA_DIR/root.pem" --enroll-code-file "$WORK/code1.txt" >"$WORK/e.out" 2>&1 \
  && fail "an enrollment code was used twice"
expect_contains "$WORK/e.out" "HTTP 403" "reused code: no 403"
snapshot after
unchanged "a reused code"
log "reused code refused (403); the key made for it was removed again"

code code2.txt
dev keygen --label d3 --type ec:p256 >/dev/null || fail "keygen d3"
FP=$(openssl x509 -in "$CA_DIR/root.pem" -noout -fingerprint -sha256 | cut -d= -f2)
enroll d3 --trust-fingerprint "$FP" --enroll-code-file "$WORK/code2.txt" >"$WORK/e.out" 2>&1 \
  || { cat "$WORK/e.out"; fail "enroll with a pinned fingerprint"; }
dev export-cert --cert "pkcs11:object=d3;type=cert" --out "$WORK/d3.pem" || fail "export-cert d3"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" "$WORK/d3.pem" >/dev/null \
  || fail "d3 does not verify"
dev list --login >"$WORK/l.out"
[[ $(grep -c "Factory Issuing CA 1" "$WORK/l.out") == 1 ]] || { cat "$WORK/l.out"; fail "the chain was stored twice"; }
log "enrolled an existing key with a pinned root fingerprint; chain stored once"

# renew: simplereenroll authenticated by the current certificate, its key
# used for TLS through certvault's provider; the new certificate replaces
# the old object (one certificate labelled d1 afterwards, same key).
snapshot before
dev renew --server "$URL" --cert d1 --trust "$WORK/rogue.pem" --provider-module "$PROVIDER" >"$WORK/e.out" 2>&1 \
  && fail "renewed with a server not certified by the trust anchor"
snapshot after
unchanged "a refused renewal"
OLD_SERIAL=$(openssl x509 -in "$WORK/d1.pem" -noout -serial)
dev renew --server "$URL" --cert d1 --trust "$CA_DIR/root.pem" --provider-module "$PROVIDER" --json >"$WORK/e.out" 2>&1 \
  || { cat "$WORK/e.out"; fail "renew"; }
dev list --login >"$WORK/l.out"
[[ $(grep -c "object=d1;type=cert" "$WORK/l.out") == 1 ]] || { cat "$WORK/l.out"; fail "not exactly one d1 certificate"; }
grep -q "renewing" "$WORK/l.out" && fail "a temporary certificate was left"
dev export-cert --cert "pkcs11:object=d1;type=cert" --out "$WORK/d1b.pem" || fail "export-cert d1 after renew"
[[ $(openssl x509 -in "$WORK/d1b.pem" -noout -serial) != "$OLD_SERIAL" ]] || fail "renew kept the old certificate"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" "$WORK/d1b.pem" >/dev/null \
  || fail "the renewed certificate does not verify"
[[ $(openssl x509 -in "$WORK/d1b.pem" -noout -pubkey) == $(openssl pkey -pubin -in "$WORK/d1.pub") ]] \
  || fail "the renewed certificate is not for the same vault key"
[[ $(openssl x509 -in "$WORK/d1b.pem" -noout -subject) == $(openssl x509 -in "$WORK/d1.pem" -noout -subject) ]] \
  || fail "renew changed the subject"
expect_contains "$CA_DIR/access.log" "simplereenroll" "no simplereenroll in the server's access log"
log "renewed over simplereenroll with the vault key as TLS client key; the old certificate replaced"

# enroll --auth-cert: a bootstrap certificate whose key is in the device
# vault authenticates the TLS client (through certvault's provider).
dev keygen --label boot --type ec:p256 >/dev/null || fail "keygen boot"
dev csr --key boot --subject "/CN=terminal-1" --out "$WORK/boot.csr" || fail "csr boot"
printf 'extendedKeyUsage=clientAuth\n' >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/boot.csr" -CA "$WORK/boot-ca.pem" -CAkey "$WORK/boot-ca.key" -CAcreateserial -days 30 \
  -extfile "$WORK/ext.cnf" -out "$WORK/boot.pem" 2>/dev/null || fail "sign boot"
dev import-cert "$WORK/boot.pem" --label boot >/dev/null || fail "import-cert boot"
enroll d4 --trust "$CA_DIR/root.pem" --auth-cert boot --provider-module "$PROVIDER" >"$WORK/e.out" 2>&1 \
  || { cat "$WORK/e.out"; fail "enroll with --auth-cert"; }
dev export-cert --cert "pkcs11:object=d4;type=cert" --out "$WORK/d4.pem" || fail "export-cert d4"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" "$WORK/d4.pem" >/dev/null \
  || fail "d4 does not verify"
expect_contains "$CA_DIR/access.log" "terminal-1" "the server did not see the bootstrap certificate"
log "enrolled with a vault-held bootstrap certificate as TLS client identity"

# ca-certs: EST cacerts, the server and every returned certificate checked against the pinned anchor.
cacerts() { timeout "$T" "$CLI" ca-certs --server "$URL" "$@"; }
cacerts --trust "$CA_DIR/root.pem" --out "$WORK/cacerts.pem" >"$WORK/c.out" 2>&1 || { cat "$WORK/c.out"; fail "ca-certs"; }
[[ $(grep -c "BEGIN CERTIFICATE" "$WORK/cacerts.pem") == 2 ]] || fail "ca-certs: expected issuing + root"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$WORK/cacerts.pem" "$CA_DIR/server.pem" >/dev/null \
  || fail "ca-certs: the written chain does not verify the server certificate"
cacerts --trust-fingerprint "$FP" --json >"$WORK/c.json" 2>&1 || { cat "$WORK/c.json"; fail "ca-certs --json"; }
python3 - "$WORK/c.json" "$(echo "$FP" | tr -d : | tr 'A-F' 'a-f')" <<'PY' || fail "ca-certs --json: wrong content"
import json, sys
doc = json.load(open(sys.argv[1]))
assert len(doc["certificates"]) == 2, doc
assert sys.argv[2] in [c["sha256"] for c in doc["certificates"]], doc
assert all(c["subject"].startswith("/") for c in doc["certificates"]), doc
PY
rm -f "$WORK/rogue-out.pem"
cacerts --trust "$WORK/rogue.pem" --out "$WORK/rogue-out.pem" >"$WORK/c.out" 2>&1 && fail "ca-certs: rogue anchor accepted"
[[ ! -e "$WORK/rogue-out.pem" ]] || fail "ca-certs wrote a file after a refusal"
cacerts --trust-fingerprint "$(printf '%064d' 0)" >"$WORK/c.out" 2>&1 && fail "ca-certs: wrong fingerprint accepted"
cacerts --trust "$CA_DIR/root.pem" --trust-fingerprint "$FP" >"$WORK/c.out" 2>&1 && fail "ca-certs: two anchors accepted"
log "ca-certs: cacerts checked against --trust / --trust-fingerprint; refusals write nothing"

# enroll --attest (issue 14): the EST CSR carries the key's attestation; a
# profile with require_attestation issues only with it.
dev identity show >"$WORK/dev-id.txt" || fail "identity show"
sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p;/END CERTIFICATE/q' "$WORK/dev-id.txt" >"$WORK/dev-identity.pem"
ca enroll-code --profile attested >"$WORK/code3.txt" 2>/dev/null && chmod 600 "$WORK/code3.txt" || fail "enroll-code"
dev enroll --server "$URL" --profile attested --key a1 --subject /CN=a1 --trust "$CA_DIR/root.pem" \
  --enroll-code-file "$WORK/code3.txt" >"$WORK/e.out" 2>&1 && fail "enrolled without an attestation under require_attestation"
expect_contains "$WORK/e.out" "requires a key attestation" "no attestation: no reason"
ca enroll-code --profile attested >"$WORK/code4.txt" 2>/dev/null && chmod 600 "$WORK/code4.txt" || fail "enroll-code"
dev enroll --server "$URL" --profile attested --key a2 --subject /CN=a2 --trust "$CA_DIR/root.pem" \
  --enroll-code-file "$WORK/code4.txt" --attest >"$WORK/e.out" 2>&1 || { cat "$WORK/e.out"; fail "enroll --attest"; }
log "EST enroll --attest issued under require_attestation; without the attestation refused"

# enroll --server-keygen (issue 14, RFC 7030 §4.4): the CA makes the key and
# answers with an update package for the vault's transport key, signed by the
# provisioning authority; the vault applies it (the key is never in the clear
# outside the CA and vault processes). The authority is read per request from
# the instance's provisioning/ directory.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/vendor.key" \
  -subj "/CN=Vendor Provisioning/O=Maker" -days 30 -out "$WORK/vendor.pem" 2>/dev/null || fail "vendor key"
VDEV="$WORK/vdev"
vdev() { timeout "$T" "$CLI" --vault "$VDEV" --pin "$USER_PIN" "$@"; }
timeout "$T" "$CLI" --vault "$VDEV" init --label vdev --so-pin "$SO_PIN" --pin "$USER_PIN" \
  --mode vendor --vendor-cert "$WORK/vendor.pem" >/dev/null || fail "vendor-mode init"
keygen() {  # VAULTFN NAME CODEFILE ARGS...
  local fn=$1 name=$2 codef=$3
  shift 3
  code "$codef"
  $fn enroll --server-keygen --server "$URL" --profile device --key "$name" --subject "/CN=$name.devices.example.com" \
    --san "DNS:$name.devices.example.com" --trust "$CA_DIR/root.pem" --enroll-code-file "$WORK/$codef" "$@"
}
snapshot before
keygen dev sk0 kg0.txt >"$WORK/k.out" 2>&1 && fail "server keygen into a user-mode vault"
expect_contains "$WORK/k.out" "vendor mode" "user mode: no reason"
snapshot after
unchanged "server keygen refused for user mode"
keygen vdev sk1 kg1.txt >"$WORK/k.out" 2>&1 && fail "serverkeygen answered without an authority"
expect_contains "$WORK/k.out" "HTTP 501" "no authority: not 501"
mkdir -p "$CA_DIR/provisioning"
cp "$WORK/vendor.pem" "$CA_DIR/provisioning/authority.pem"
cp "$WORK/vendor.key" "$CA_DIR/provisioning/authority.key"
keygen vdev sk2 kg2.txt --package-out "$WORK/sk2.upd" --receipt-out "$WORK/sk2.rcpt" >"$WORK/k.out" 2>&1 \
  || { cat "$WORK/k.out"; fail "enroll --server-keygen"; }
SK2_ID=$(sed -n 's/.*key id \([0-9a-f]*\).*/\1/p' "$WORK/k.out")
[[ -n "$SK2_ID" ]] || { cat "$WORK/k.out"; fail "no key id in the output"; }
vdev export-cert --cert sk2 --id "$SK2_ID" --out "$WORK/sk2.pem" || fail "export-cert sk2"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" "$WORK/sk2.pem" >/dev/null || fail "the server-generated key's certificate does not verify"
vdev list --login >"$WORK/l.out" 2>&1
grep -Eq "private.*label=sk2" "$WORK/l.out" || { cat "$WORK/l.out"; fail "no private key sk2 in the vault"; }
# The artefact: openssl cms verifies the authority's signature and reads the AuthEnvelopedData.
openssl cms -verify -inform DER -in "$WORK/sk2.upd" -CAfile "$WORK/vendor.pem" -purpose any -binary \
  -out "$WORK/sk2.content" 2>/dev/null || fail "openssl cms -verify does not verify the serverkeygen package"
openssl asn1parse -inform DER -in "$WORK/sk2.content" >"$WORK/sk2.asn1" || fail "asn1parse"
expect_contains "$WORK/sk2.asn1" "id-smime-ct-authEnvelopedData" "the key is not in an AuthEnvelopedData"
ca provision --receipt "$WORK/sk2.rcpt" >"$WORK/r.out" 2>&1 || { cat "$WORK/r.out"; fail "receipt of the online delivery"; }
# Another vault (wrong target) and a flipped byte are refused, the vault unchanged.
VDEV2="$WORK/vdev2"
timeout "$T" "$CLI" --vault "$VDEV2" init --label vdev2 --so-pin "$SO_PIN" --pin "$USER_PIN" \
  --mode vendor --vendor-cert "$WORK/vendor.pem" >/dev/null || fail "second vendor-mode init"
timeout "$T" "$CLI" --vault "$VDEV2" --pin "$USER_PIN" apply-update "$WORK/sk2.upd" >"$WORK/a.out" 2>&1 \
  && fail "another vault applied the serverkeygen package"
expect_contains "$WORK/a.out" "another vault" "wrong target: no reason"
python3 - "$WORK/sk2.upd" "$WORK/sk2-bad.upd" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[2], "wb").write(b)
PY
vdev list --login >"$WORK/before.list" 2>&1
vdev apply-update "$WORK/sk2-bad.upd" >/dev/null 2>&1 && fail "a tampered serverkeygen package was applied"
vdev list --login >"$WORK/after.list" 2>&1
unchanged "a tampered serverkeygen package"
# The same with a vault-held bootstrap certificate as TLS client identity (granted "device").
vdev keygen --label boot --type ec:p256 >/dev/null || fail "keygen boot (vdev)"
vdev csr --key boot --subject "/CN=terminal-2" --out "$WORK/vboot.csr" || fail "csr boot (vdev)"
openssl x509 -req -in "$WORK/vboot.csr" -CA "$WORK/boot-ca.pem" -CAkey "$WORK/boot-ca.key" -CAcreateserial -days 30 \
  -extfile "$WORK/ext.cnf" -out "$WORK/vboot.pem" 2>/dev/null || fail "sign boot (vdev)"
vdev import-cert "$WORK/vboot.pem" --label boot >/dev/null || fail "import-cert boot (vdev)"
vdev enroll --server-keygen --server "$URL" --profile device --key sk3 --subject "/CN=sk3.devices.example.com" \
  --trust "$CA_DIR/root.pem" --auth-cert boot --provider-module "$PROVIDER" >"$WORK/k.out" 2>&1 \
  || { cat "$WORK/k.out"; fail "enroll --server-keygen --auth-cert"; }
vdev list --login >"$WORK/l.out" 2>&1
grep -Eq "private.*label=sk3" "$WORK/l.out" || { cat "$WORK/l.out"; fail "no private key sk3 in the vault"; }
log "enroll --server-keygen: package applied in the vault, read by openssl cms; user mode, no authority, wrong target, tampered refused"
