#!/usr/bin/env bash
# Quorum-protected CA keys (issue 16, docs/design/quorum.md): `certvault-ca
# init` and `rollover` see that the token has a quorum (CKM_CV_QUORUM) and
# refuse to run without --quorum-op, naming the request; `init --quorum-op
# ID` on a certvault token with a 2-of-3 quorum generates the root and
# issuing keys quorum-protected. One custodian's approval does not
# create them; two do; pkcs11-tool then cannot delete them
# (CKR_ACTION_PROHIBITED) and the CA signs as usual; `rollover --quorum-op`
# protects the new generation's key the same way. Once a protected generation
# has expired, `crl` signs its last CRL and keeps its keys.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool faketime
[[ -n "${CLI:-}" ]] || skip "needs the certvault CLI (CLI)"
is_softhsm && skip "certvault's quorum only"
setup_env
printf '[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n' >"$WORK/conf.toml"
export CERTVAULT_CONF="$WORK/conf.toml"   # low Argon2id cost for every token here
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"

cv() { timeout "$T" "$CLI" "$@"; }
custodians=()
for c in cA cB cC; do
  cv --vault "$WORK/$c" init --label "$c" --so-pin "$SO_PIN" --pin "pin-of-$c" >/dev/null || fail "custodian $c"
  (umask 077; printf 'pin-of-%s\n' "$c" >"$WORK/$c.pin")
  custodians+=(--custodian "$WORK/$c" --custodian-pin-file "$WORK/$c.pin")
done
cv quorum init --token "$TOKEN_LABEL" --k 2 "${custodians[@]}" --so-pin "$SO_PIN" >/dev/null || fail "quorum init"
id=$(cv quorum request --token "$TOKEN_LABEL" --op create-key --so-pin "$SO_PIN") || fail "quorum request"
approve() { cv quorum approve --op "$id" --custodian "$WORK/$1" --pin "pin-of-$1" >/dev/null || fail "approve by $1"; }

log "init without --quorum-op on a quorum token: refused, naming the request; no key made"
expect_failure "ca init without --quorum-op" ca init
expect_contains "$WORK/expect_failure.out" "certvault quorum request --token $TOKEN_LABEL --op create-key" \
  "init without --quorum-op: the message does not name the request"
p11_user --list-objects --type privkey >"$WORK/keys.out" 2>&1 || fail "list-objects"
if grep -q "factory-root" "$WORK/keys.out"; then fail "init made a root key that is not quorum-protected"; fi

log "one approval: init refused, no key made"
approve cB
expect_failure "ca init with 1 of 2 approvals" ca init --quorum-op "$id"
p11_user --list-objects --type privkey >"$WORK/keys.out" 2>&1 || fail "list-objects"
if grep -q "factory-root" "$WORK/keys.out"; then fail "a root key was made without the quorum"; fi

log "two approvals: init makes quorum-protected root and issuing keys"
approve cC
ca init --quorum-op "$id" 2>"$WORK/init.err" || { cat "$WORK/init.err" >&2; fail "ca init --quorum-op"; }
for key in factory-root factory-issuing; do
  expect_failure "pkcs11-tool --delete-object $key" p11_user --delete-object --type privkey --label "$key"
  expect_contains "$WORK/expect_failure.out" "CKR_ACTION_PROHIBITED|\(0x1b\)" "$key: not CKR_ACTION_PROHIBITED"
done
new_csr d1 ec d1 "DNS:d1.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue with a protected key"
openssl verify -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/issuing.pem" "$WORK/d1.pem" >/dev/null \
  || fail "the certificate does not verify"

log "rollover without --quorum-op: refused the same way"
expect_failure "ca rollover without --quorum-op" ca rollover
expect_contains "$WORK/expect_failure.out" "2-of-3 quorum" "rollover without --quorum-op: unclear refusal"

log "rollover --quorum-op: the new issuing key is protected too"
id=$(cv quorum request --token "$TOKEN_LABEL" --op create-key --so-pin "$SO_PIN") || fail "quorum request"
approve cA
approve cB
ca rollover --quorum-op "$id" 2>"$WORK/rollover.err" || { cat "$WORK/rollover.err" >&2; fail "rollover --quorum-op"; }
p11_user --list-objects --type privkey >"$WORK/keys.out" 2>&1 || fail "list-objects"
new_key=$(grep -o "factory-issuing[-_.0-9a-z]*" "$WORK/keys.out" | grep -v "^factory-issuing$" | head -1)
[[ -n "$new_key" ]] || { cat "$WORK/keys.out" >&2; fail "no new issuing key after rollover"; }
expect_failure "pkcs11-tool --delete-object $new_key" p11_user --delete-object --type privkey --label "$new_key"
expect_contains "$WORK/expect_failure.out" "CKR_ACTION_PROHIBITED|\(0x1b\)" "$new_key: not CKR_ACTION_PROHIBITED"

log "retirement: an expired protected generation keeps its keys and crl goes on"
# Past generation 1's notAfter, a full `crl` signs its last CRL; the keys are
# quorum-protected, so they stay (destroyed only under the quorum) and the
# command still succeeds: the CRLs of the live generation must never stop.
G1_DAYS=$(( ( $(date -d "$(openssl x509 -in "$CA_DIR/issuing.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 + 2 ))
timeout "$T" "$FAKE_TIME" "+${G1_DAYS}d" "$CA_BIN" --dir "$CA_DIR" --actor interop-test crl >"$WORK/crl.out" 2>&1 \
  || { cat "$WORK/crl.out" >&2; fail "crl after a protected generation expired"; }
expect_contains "$WORK/crl.out" "generation 1 has expired but keeps its keys: .*quorum-protected" \
  "crl did not name the protected keys"
timeout "$T" "$FAKE_TIME" "+${G1_DAYS}d" pkcs11-tool --module "$MODULE" --token-label "$TOKEN_LABEL" --login \
  --pin "$USER_PIN" --list-objects --type privkey >"$WORK/keys.out" 2>&1 || fail "list-objects"
grep -q "label: *factory-issuing$" "$WORK/keys.out" || fail "the protected issuing key of generation 1 was destroyed"
