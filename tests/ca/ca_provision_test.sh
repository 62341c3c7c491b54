#!/usr/bin/env bash
# Central provisioning (issue 14), file flow, with real programs:
#   certvault init --mode vendor -> update-request -> certvault-ca provision
#   -> certvault apply-update --receipt-out -> certvault-ca provision --receipt;
# `openssl cms -verify` checks the request, package and receipt signatures and
# `openssl asn1parse` reads each; a replayed package, a package for another
# vault, a tampered byte and a package for a user-mode vault are refused and
# leave the vault unchanged.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl
setup_env
printf '[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n' >"$WORK/certvault.conf"  # test vaults: cheap KDF
export CERTVAULT_CONF="$WORK/certvault.conf"
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${CLI:-}" && -x "$CLI" ]] || fail "CLI is not set (certvault)"
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
ca init 2>/dev/null || fail "ca init"
cat >>"$CA_DIR/ca.toml" <<TOML

[profiles.provisioned]
days = 365
key_usage = ["digitalSignature"]
extended_key_usage = ["clientAuth"]
subject_allowed = ["CN"]
subject_required = ["CN"]
san_types = []
key_algorithms = ["ec-p256"]
TOML

# The vendor's provisioning authority (its own key; a file here).
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/vendor.key" \
  -subj "/CN=Vendor Provisioning/O=Maker" -days 30 -out "$WORK/vendor.pem" 2>/dev/null || fail "vendor key"

DEV="$WORK/device"
dev() { timeout "$T" "$CLI" --vault "$DEV" --pin "$USER_PIN" "$@"; }
timeout "$T" "$CLI" --vault "$DEV" init --label device --so-pin "$SO_PIN" --pin "$USER_PIN" \
  --mode vendor --vendor-cert "$WORK/vendor.pem" >/dev/null || fail "vendor-mode init"
dev identity show >"$WORK/id.txt" || fail "identity show"
expect_contains "$WORK/id.txt" "mode:    vendor" "init did not pin the authority"
openssl x509 -in "$WORK/id.txt" -noout >/dev/null 2>&1 || fail "no identity certificate"
snapshot() { dev list --login >"$WORK/$1.list" 2>&1 || fail "list"; dev identity show >>"$WORK/$1.list" || fail "show"; }
unchanged() { diff "$WORK/before.list" "$WORK/after.list" >&2 || fail "$1 changed the device vault"; }

dev update-request --label tls --out "$WORK/dev.req" >/dev/null || fail "update-request"
openssl cms -verify -inform DER -in "$WORK/dev.req" -noverify -binary -out "$WORK/req.content" 2>/dev/null \
  || fail "openssl cms -verify does not verify the request"
openssl asn1parse -inform DER -in "$WORK/req.content" >/dev/null || fail "asn1parse: UpdateRequest"
provision() {
  ca provision --request "$1" --profile provisioned --subject "/CN=dev-1" --authority-cert "$WORK/vendor.pem" \
    --authority-key "$WORK/vendor.key" --out "$2"
}
provision "$WORK/dev.req" "$WORK/dev.upd" 2>"$WORK/p.log" || { cat "$WORK/p.log"; fail "provision"; }
openssl cms -verify -inform DER -in "$WORK/dev.upd" -CAfile "$WORK/vendor.pem" -purpose any -binary \
  -out "$WORK/upd.content" 2>/dev/null || fail "openssl cms -verify does not verify the package"
openssl asn1parse -inform DER -in "$WORK/upd.content" >"$WORK/upd.asn1" || fail "asn1parse: AuthEnvelopedData"
expect_contains "$WORK/upd.asn1" "id-smime-ct-authEnvelopedData" "the package does not hold an AuthEnvelopedData"
expect_contains "$WORK/upd.asn1" "aes-256-gcm" "the package is not AES-256-GCM"
log "request and package verified by openssl cms and read by openssl asn1parse"

# Refusals, each with the vault unchanged.
cp "$WORK/dev.upd" "$WORK/bad.upd"
size=$(stat -c %s "$WORK/bad.upd")
printf '\x5a' | dd of="$WORK/bad.upd" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
snapshot before
dev apply-update "$WORK/bad.upd" >"$WORK/a.out" 2>&1 && fail "a tampered package was applied"
snapshot after
unchanged "a tampered package"

OTHER="$WORK/other"
timeout "$T" "$CLI" --vault "$OTHER" init --label other --so-pin "$SO_PIN" --pin "$USER_PIN" \
  --mode vendor --vendor-cert "$WORK/vendor.pem" >/dev/null || fail "second vault"
timeout "$T" "$CLI" --vault "$OTHER" --pin "$USER_PIN" update-request --out "$WORK/other.req" >/dev/null \
  || fail "update-request (other)"
provision "$WORK/other.req" "$WORK/other.upd" 2>/dev/null || fail "provision (other)"
dev apply-update "$WORK/other.upd" >"$WORK/a.out" 2>&1 && fail "a package for another vault was applied"
expect_contains "$WORK/a.out" "another vault" "wrong target: no reason"
snapshot after
unchanged "a package for another vault"

USERV="$WORK/user"
timeout "$T" "$CLI" --vault "$USERV" init --label user --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null || fail "user vault"
timeout "$T" "$CLI" --vault "$USERV" --pin "$USER_PIN" update-request --out "$WORK/user.req" >/dev/null \
  || fail "update-request (user mode)"
provision "$WORK/user.req" "$WORK/user.upd" 2>/dev/null || fail "provision (user)"
timeout "$T" "$CLI" --vault "$USERV" --pin "$USER_PIN" apply-update "$WORK/user.upd" >"$WORK/a.out" 2>&1 \
  && fail "a user-mode vault applied a package"
expect_contains "$WORK/a.out" "user mode" "user mode: no reason"
log "tampered, wrong-target and user-mode packages refused; vaults unchanged"

dev apply-update "$WORK/dev.upd" --receipt-out "$WORK/dev.rcpt" >"$WORK/a.out" 2>&1 || { cat "$WORK/a.out"; fail "apply"; }
dev list --login >"$WORK/l.out"
expect_contains "$WORK/l.out" "tls" "the delivered key is not listed"
openssl cms -verify -inform DER -in "$WORK/dev.rcpt" -noverify -binary -out "$WORK/rcpt.content" 2>/dev/null \
  || fail "openssl cms -verify does not verify the receipt"
openssl asn1parse -inform DER -in "$WORK/rcpt.content" >/dev/null || fail "asn1parse: UpdateReceipt"
sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p;/END CERTIFICATE/q' "$WORK/id.txt" >"$WORK/identity.pem"
ca provision --receipt "$WORK/dev.rcpt" --identity-cert "$WORK/identity.pem" >"$WORK/r.out" 2>&1 \
  || { cat "$WORK/r.out"; fail "receipt"; }
expect_contains "$WORK/r.out" "applied update 1: ok" "receipt not accepted"
expect_contains "$WORK/r.out" "$(sha256sum "$WORK/dev.upd" | cut -c1-64)" "receipt names another package"
log "applied; receipt verified by certvault-ca and openssl cms"

# The delivery record (migration 6): closed by the receipt, once; listed by --status.
SERIAL=$(awk '/^serial:/ {print $2; exit}' "$WORK/id.txt")
ca provision --status --target "$SERIAL" >"$WORK/st1.out" 2>&1 || { cat "$WORK/st1.out"; fail "provision --status"; }
[[ $(grep -c "^$SERIAL " "$WORK/st1.out") == 1 && $(wc -l <"$WORK/st1.out") == 2 ]] \
  || { cat "$WORK/st1.out"; fail "--status --target does not list exactly this vault's delivery"; }
expect_contains "$WORK/st1.out" " ok " "the delivery is not closed by its receipt"
ca provision --status >"$WORK/st.out" 2>&1 || { cat "$WORK/st.out"; fail "provision --status"; }
expect_contains "$WORK/st.out" " ok " "the delivery is not closed by its receipt"
expect_contains "$WORK/st.out" "pending" "the other vaults' deliveries are not pending"
ca provision --receipt "$WORK/dev.rcpt" >"$WORK/r3.out" 2>&1 && fail "a second receipt of one package was recorded"
expect_contains "$WORK/r3.out" "has a receipt already" "second receipt: no reason"
ca audit --limit 5 >"$WORK/audit.out" 2>&1 || fail "audit"
expect_contains "$WORK/audit.out" "provision-receipt" "the receipt is not in the audit chain"
ca audit verify >/dev/null 2>&1 || fail "the audit chain does not verify after provisioning"
log "delivery recorded, closed once by its receipt, audited; --status lists it"

dev attest --key tls --out "$WORK/att.pem" || fail "attest"
openssl x509 -in "$WORK/att.pem" -noout -text >"$WORK/att.txt" || fail "the attestation is not a certificate"
expect_contains "$WORK/att.txt" "2.25.35505282237931440571555100275514417151.4.1" "no attestation extension"
log "attestation certificate for the delivered key"

# Version 2 packages (same checks as the key package): renew the delivered
# key's certificate (same key), then delete the key; each receipt closes its
# delivery. A renewal for a key the CA never delivered is refused.
KEYID=$(sed -n 's/.*key id \([0-9a-f]*\).*/\1/p' "$WORK/r.out")
[[ -n "$KEYID" ]] || fail "no key id in the receipt output"
op_flow() {  # op_flow NAME ARGS...: request, package, apply, receipt
  local name=$1; shift
  dev update-request --out "$WORK/$name.req" >/dev/null || fail "update-request ($name)"
  ca provision --request "$WORK/$name.req" "$@" --authority-cert "$WORK/vendor.pem" \
    --authority-key "$WORK/vendor.key" --out "$WORK/$name.upd" 2>"$WORK/p.log" || { cat "$WORK/p.log"; fail "provision $name"; }
  dev apply-update "$WORK/$name.upd" --receipt-out "$WORK/$name.rcpt" >"$WORK/a.out" 2>&1 \
    || { cat "$WORK/a.out"; fail "apply $name"; }
  ca provision --receipt "$WORK/$name.rcpt" >"$WORK/r2.out" 2>&1 || { cat "$WORK/r2.out"; fail "receipt $name"; }
}
dev update-request --out "$WORK/x.req" >/dev/null || fail "update-request"
ca provision --request "$WORK/x.req" --renew 00ff --profile provisioned --authority-cert "$WORK/vendor.pem" \
  --authority-key "$WORK/vendor.key" --out "$WORK/x.upd" >"$WORK/x.out" 2>&1 && fail "renewed a key the CA never delivered"
expect_contains "$WORK/x.out" "has a receipt" "unknown renewal: no reason"
dev export-cert --cert tls --id "$KEYID" --out "$WORK/cert1.pem" >/dev/null || fail "export-cert"
op_flow renew --renew "$KEYID" --profile provisioned
dev export-cert --cert tls --id "$KEYID" --out "$WORK/cert2.pem" >/dev/null || fail "export-cert (renewed)"
cmp -s "$WORK/cert1.pem" "$WORK/cert2.pem" && fail "the renewal did not replace the certificate"
[[ $(openssl x509 -in "$WORK/cert1.pem" -noout -pubkey) == $(openssl x509 -in "$WORK/cert2.pem" -noout -pubkey) ]] \
  || fail "the renewed certificate is for another key"
dev list --login >"$WORK/l0.out"
grep -Eq "private.*label=tls +id=$KEYID" "$WORK/l0.out" || { cat "$WORK/l0.out"; fail "the renewed key is not listed"; }
op_flow delete --delete-key "$KEYID"
dev list --login >"$WORK/l.out"
grep -Eq "(private|cert).*label=tls +id=$KEYID" "$WORK/l.out" && { cat "$WORK/l.out"; fail "the deleted key is still listed"; }
grep -q "label=tls" "$WORK/l.out" || fail "the issuing CA certificate of the chain was deleted too"
ca provision --status --target "$SERIAL" >"$WORK/st2.out" 2>&1 || fail "provision --status"
for kind in key renew delete; do
  grep -qE "^$SERIAL +[0-9]+ $kind +ok " "$WORK/st2.out" || { cat "$WORK/st2.out"; fail "no confirmed $kind delivery"; }
done
log "renewal (same key) and deletion packages applied and confirmed"

# Profiles with require_attestation: a CSR is issued only with a valid
# attestation of its own key (certvault csr --attest) under attestation_roots
# (here: the device vault's self-signed identity; a manufacturer CA in the field).
timeout "$T" "$CLI" --vault "$OTHER" --pin "$USER_PIN" identity show >"$WORK/other-id.txt" || fail "identity show (other)"
sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p;/END CERTIFICATE/q' "$WORK/other-id.txt" >"$WORK/other-identity.pem"
cat >>"$CA_DIR/ca.toml" <<TOML

[profiles.attested]
days = 365
key_usage = ["digitalSignature"]
subject_allowed = ["CN"]
san_types = []
key_algorithms = ["ec-p256"]
require_attestation = true
attestation_roots = ["$WORK/identity.pem"]

[profiles.attested-other]
days = 365
key_usage = ["digitalSignature"]
subject_allowed = ["CN"]
san_types = []
key_algorithms = ["ec-p256"]
require_attestation = true
attestation_roots = ["$WORK/other-identity.pem"]
TOML
dev keygen --label att --type ec:p256 >/dev/null || fail "keygen"
dev csr --key att --subject /CN=att-1 --attest --out "$WORK/att.csr" || fail "csr --attest"
openssl req -in "$WORK/att.csr" -noout -verify 2>/dev/null || fail "openssl does not verify the attested CSR"
ca issue --profile attested --csr "$WORK/att.csr" --out "$WORK/att-cert.pem" >"$WORK/i.out" 2>&1 \
  || { cat "$WORK/i.out"; fail "an attested CSR was refused"; }
dev csr --key att --subject /CN=att-1 --out "$WORK/plain.csr" || fail "csr"
ca issue --profile attested --csr "$WORK/plain.csr" --out "$WORK/x.pem" >"$WORK/i.out" 2>&1 \
  && fail "a CSR without attestation was issued under require_attestation"
expect_contains "$WORK/i.out" "requires a key attestation" "no attestation: no reason"
ca issue --profile attested-other --csr "$WORK/att.csr" --out "$WORK/x.pem" >"$WORK/i.out" 2>&1 \
  && fail "an attestation from an unknown root was accepted"
expect_contains "$WORK/i.out" "does not chain to an attestation root" "unknown root: no reason"
log "require_attestation: attested CSR issued; none or an unknown root refused"

# --batch: several vaults' requests, one issuance run, one package each.
mkdir -p "$WORK/batch" "$WORK/batch-out"
for n in 1 2 3; do
  timeout "$T" "$CLI" --vault "$WORK/b$n" init --label b$n --so-pin "$SO_PIN" --pin "$USER_PIN" \
    --mode vendor --vendor-cert "$WORK/vendor.pem" >/dev/null || fail "batch vault $n"
  timeout "$T" "$CLI" --vault "$WORK/b$n" --pin "$USER_PIN" update-request --out "$WORK/batch/dev-$n.req" >/dev/null \
    || fail "batch request $n"
done
ca provision --batch "$WORK/batch" --out-dir "$WORK/batch-out" --profile provisioned --subject "/CN={name}" \
  --authority-cert "$WORK/vendor.pem" --authority-key "$WORK/vendor.key" 2>"$WORK/b.log" || { cat "$WORK/b.log"; fail "batch"; }
for n in 1 2 3; do
  timeout "$T" "$CLI" --vault "$WORK/b$n" --pin "$USER_PIN" apply-update "$WORK/batch-out/dev-$n.upd" >/dev/null \
    || fail "batch package $n does not apply"
done
timeout "$T" "$CLI" --vault "$WORK/b1" --pin "$USER_PIN" apply-update "$WORK/batch-out/dev-2.upd" >/dev/null 2>&1 \
  && fail "vault 1 applied vault 2's package"
log "batch of 3: each package applies to its own vault only"

# Authority rotation (vault b1): a package signed by the pinned authority moves
# the pin; the new authority is refused before it and accepted after, the old
# one the other way round; the package binds to b1 like every package.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/vendor2.key" \
  -subj "/CN=Vendor Provisioning 2/O=Maker" -days 30 -out "$WORK/vendor2.pem" 2>/dev/null || fail "vendor2 key"
b1() { timeout "$T" "$CLI" --vault "$WORK/b1" --pin "$USER_PIN" "$@"; }
b1 update-request --out "$WORK/rot.req" >/dev/null || fail "update-request (rotation)"
ca provision --request "$WORK/rot.req" --rotate-authority "$WORK/vendor2.pem" --authority-cert "$WORK/vendor2.pem" \
  --authority-key "$WORK/vendor2.key" --out "$WORK/rot-self.upd" 2>/dev/null || fail "provision --rotate-authority (vendor2)"
b1 apply-update "$WORK/rot-self.upd" >"$WORK/a.out" 2>&1 && fail "a rotation signed by the new authority was applied"
ca provision --request "$WORK/rot.req" --rotate-authority "$WORK/vendor2.pem" --authority-cert "$WORK/vendor.pem" \
  --authority-key "$WORK/vendor.key" --out "$WORK/rot.upd" 2>"$WORK/p.log" || { cat "$WORK/p.log"; fail "provision --rotate-authority"; }
openssl cms -verify -inform DER -in "$WORK/rot.upd" -CAfile "$WORK/vendor.pem" -purpose any -binary \
  -out /dev/null 2>/dev/null || fail "openssl cms -verify does not verify the rotation package"
timeout "$T" "$CLI" --vault "$WORK/b2" --pin "$USER_PIN" apply-update "$WORK/rot.upd" >/dev/null 2>&1 \
  && fail "vault 2 applied vault 1's rotation package"
b1 apply-update "$WORK/rot.upd" --receipt-out "$WORK/rot.rcpt" >"$WORK/a.out" 2>&1 || { cat "$WORK/a.out"; fail "apply rotation"; }
b1 identity show >"$WORK/b1-id.txt" || fail "identity show (b1)"
expect_contains "$WORK/b1-id.txt" "authority: /CN=Vendor Provisioning 2" "the pin did not move"
b1 apply-update "$WORK/rot.upd" >/dev/null 2>&1 && fail "a rotation package was applied twice"
b1 update-request --label after --out "$WORK/after.req" >/dev/null || fail "update-request (after rotation)"
ca provision --request "$WORK/after.req" --profile provisioned --subject "/CN=b1-after" --authority-cert "$WORK/vendor.pem" \
  --authority-key "$WORK/vendor.key" --out "$WORK/old.upd" 2>/dev/null || fail "provision (old authority)"
b1 apply-update "$WORK/old.upd" >"$WORK/a.out" 2>&1 && fail "the old authority was accepted after the rotation"
ca provision --request "$WORK/after.req" --profile provisioned --subject "/CN=b1-after" --authority-cert "$WORK/vendor2.pem" \
  --authority-key "$WORK/vendor2.key" --out "$WORK/new.upd" 2>/dev/null || fail "provision (new authority)"
b1 apply-update "$WORK/new.upd" >"$WORK/a.out" 2>&1 || { cat "$WORK/a.out"; fail "the new authority was refused"; }
log "authority rotation: signed by the pinned authority, target-bound, old authority refused afterwards"
# UpdateContent version 3 (--wrap-key): the key wrapped to the transport key
# inside the encrypted content; the vault unwraps and stores it (vault b2).
b2() { timeout "$T" "$CLI" --vault "$WORK/b2" --pin "$USER_PIN" "$@"; }
b2 update-request --label wrapped --out "$WORK/w.req" >/dev/null || fail "update-request (wrapped)"
ca provision --request "$WORK/w.req" --profile provisioned --subject "/CN=b2-wrapped" --authority-cert "$WORK/vendor.pem" \
  --authority-key "$WORK/vendor.key" --wrap-key --out "$WORK/w.upd" 2>"$WORK/p.log" || { cat "$WORK/p.log"; fail "provision --wrap-key"; }
b2 apply-update "$WORK/w.upd" >"$WORK/a.out" 2>&1 || { cat "$WORK/a.out"; fail "apply a wrapped-key package"; }
b2 list --login >"$WORK/l.out" 2>&1
grep -Eq "private.*label=wrapped" "$WORK/l.out" || { cat "$WORK/l.out"; fail "the wrapped key is not in the vault"; }
log "a version 3 package (wrapped key) applies"

snapshot before
dev apply-update "$WORK/dev.upd" >"$WORK/a.out" 2>&1 && fail "a replayed package was applied"
snapshot after
unchanged "a replayed package"
log "replay refused; vault unchanged"

# The provisioning authority's key in another PKCS#11 module (SoftHSM2): made
# there by pkcs11-tool, its self-signed certificate by openssl req through
# the libp11 engine; certvault-ca --authority-module signs the package
# through its built-in cv-p11 provider. A vault pinned to that authority
# applies it, openssl cms -verify checks it, and the file-keyed vendor's
# vault refuses it (another signer).
HSM=/usr/lib/softhsm/libsofthsm2.so
ENGINES_DIR="$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')"
if [[ -r "$HSM" && -f "$ENGINES_DIR/pkcs11.so" ]] && command -v softhsm2-util pkcs11-tool >/dev/null; then
  softhsm2-util --init-token --free --label vendor-hsm --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null || fail "init"
  timeout "$T" pkcs11-tool --module "$HSM" --login --pin "$USER_PIN" --token-label vendor-hsm --keypairgen \
    --key-type EC:prime256v1 --id 41 --label authority --usage-sign >/dev/null || fail "authority key in SoftHSM2"
  printf 'openssl_conf = oi\n[oi]\nengines = es\n[es]\npkcs11 = ps\n[ps]\nengine_id = pkcs11\ndynamic_path = %s\nMODULE_PATH = %s\ninit = 0\n' \
    "$ENGINES_DIR/pkcs11.so" "$HSM" >"$WORK/engine.cnf"
  OPENSSL_CONF="$WORK/engine.cnf" timeout "$T" openssl req -x509 -new -engine pkcs11 -keyform engine -days 30 \
    -key "pkcs11:token=vendor-hsm;object=authority;type=private;pin-value=$USER_PIN" -sha256 \
    -subj "/CN=Vendor HSM Provisioning/O=Maker" -addext "basicConstraints=critical,CA:TRUE" \
    -out "$WORK/hsm-vendor.pem" 2>"$WORK/req.log" || { cat "$WORK/req.log" >&2; fail "authority certificate"; }
  printf '%s\n' "$USER_PIN" >"$WORK/hsm-pin" && chmod 600 "$WORK/hsm-pin"
  hsm_provision() {  # REQUEST OUT PINFILE
    ca provision --request "$1" --profile provisioned --subject "/CN=dev-hsm" --authority-cert "$WORK/hsm-vendor.pem" \
      --authority-key 'pkcs11:token=vendor-hsm;object=authority' --authority-module "$HSM" --authority-pin-file "$3" \
      --out "$2"
  }
  hv() { timeout "$T" "$CLI" --vault "$WORK/hv" --pin "$USER_PIN" "$@"; }
  timeout "$T" "$CLI" --vault "$WORK/hv" init --label hv --so-pin "$SO_PIN" --pin "$USER_PIN" \
    --mode vendor --vendor-cert "$WORK/hsm-vendor.pem" >/dev/null || fail "vendor-mode init (HSM authority)"
  hv update-request --label tls --out "$WORK/hv.req" >/dev/null || fail "update-request (HSM authority)"
  printf 'wrong-pin\n' >"$WORK/bad-pin" && chmod 600 "$WORK/bad-pin"
  hsm_provision "$WORK/hv.req" "$WORK/hv-bad.upd" "$WORK/bad-pin" 2>"$WORK/p.log" && fail "provisioned with a wrong PIN"
  grep -q "PIN rejected" "$WORK/p.log" || { cat "$WORK/p.log"; fail "wrong authority PIN: no reason"; }
  [[ ! -e "$WORK/hv-bad.upd" ]] || fail "a package was written with a wrong PIN"
  hsm_provision "$WORK/hv.req" "$WORK/hv.upd" "$WORK/hsm-pin" 2>"$WORK/p.log" || { cat "$WORK/p.log"; fail "provision (HSM)"; }
  openssl cms -verify -inform DER -in "$WORK/hv.upd" -CAfile "$WORK/hsm-vendor.pem" -purpose any -binary \
    -out /dev/null 2>/dev/null || fail "openssl cms -verify does not verify the package signed in SoftHSM2"
  hv apply-update "$WORK/hv.upd" --receipt-out "$WORK/hv.rcpt" >"$WORK/a.out" 2>&1 \
    || { cat "$WORK/a.out"; fail "the vault refused the package signed in SoftHSM2"; }
  ca provision --receipt "$WORK/hv.rcpt" >"$WORK/r.out" 2>&1 || { cat "$WORK/r.out"; fail "receipt (HSM)"; }
  dev update-request --out "$WORK/other.req" >/dev/null || fail "update-request"
  hsm_provision "$WORK/other.req" "$WORK/other.upd" "$WORK/hsm-pin" 2>"$WORK/p.log" || { cat "$WORK/p.log"; fail "provision"; }
  snapshot before
  dev apply-update "$WORK/other.upd" >"$WORK/a.out" 2>&1 && fail "a vault applied a package of another authority"
  snapshot after
  unchanged "a package of another authority"
  log "authority key in SoftHSM2 (--authority-module): package applied, verified by openssl cms; other vendor refuses it"
fi
log "PASS"
