#!/usr/bin/env bash
# Key rollover (issue 17): `certvault-ca rollover` makes a new issuing key
# generation (and with --root a new root, with RFC 4210 §4.4 link
# certificates); certificates of every generation verify against their own
# chain with the openssl CLI, the retired generation keeps signing its own
# CRL (accepted by `openssl verify -crl_check`) and OCSP answers, and the
# usage period of an old key ends its issuance while the next generation
# issues. A wrong PIN or a policy that forbids the key type changes nothing.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool faketime
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
printf 'issuing_key_usage_days = 2\n' >"$WORK/usage.toml"
sed -i "/^\[ca\]/r $WORK/usage.toml" "$CA_DIR/ca.toml"
ca init 2>/dev/null || fail "init"
D="$CA_DIR"

issue() {  # issue NAME: a device certificate for a fresh CSR
  new_csr "$1" ec "$1" "DNS:$1.devices.example.com"
  ca issue --profile device --csr "$WORK/$1.csr" --out "$WORK/$1.pem" 2>"$WORK/$1.err" \
    || { cat "$WORK/$1.err" >&2; fail "issue $1"; }
}
verify_ok() {  # verify_ok WHAT OPENSSL-VERIFY-ARGS...
  local what=$1
  shift
  openssl verify "$@" >"$WORK/v.out" 2>&1 || { cat "$WORK/v.out" >&2; fail "$what: does not verify"; }
}
verify_fails() {  # verify_fails WHAT EXPECTED OPENSSL-VERIFY-ARGS...
  local what=$1 want=$2
  shift 2
  openssl verify "$@" >"$WORK/v.out" 2>&1 && fail "$what: verified"
  expect_contains "$WORK/v.out" "$want" "$what: wrong reason"
}

issue d1
S1=$(serial_of "$WORK/d1.pem")

# Refusals leave the old generation current and make nothing.
printf 'wrong-pin-0000\n' >"$WORK/bad-pin.txt"
chmod 600 "$WORK/bad-pin.txt"
ca --pin-file "$WORK/bad-pin.txt" rollover >"$WORK/r.out" 2>&1 && fail "rollover with a wrong PIN"
[[ ! -e "$D/generations" && ! -e "$D/issuing-g2.pem" ]] || fail "a refused rollover left files"
cat >"$WORK/forbid.toml" <<'TOML'
[algorithms]
allowed_key_types = ["ec-p384"]
TOML
ca --policy "$WORK/forbid.toml" rollover >"$WORK/r.out" 2>&1 && fail "rollover to a key type the policy forbids"
expect_contains "$WORK/r.out" "key_algorithm" "policy refusal: unclear error"
[[ ! -e "$D/generations" && ! -e "$D/issuing-g2.pem" ]] || fail "a refused rollover left files"
ca rollover --issuing --root >"$WORK/r.out" 2>&1 && fail "rollover --issuing --root"
log "rollover refused: wrong PIN, policy, usage; nothing changed"

# A failure before the commit point (the last file before it cannot be
# written) leaves generation 1 current; a rerun starts over and succeeds.
mkdir "$D/chain-g2.pem"
ca rollover >"$WORK/r.out" 2>&1 && fail "rollover with an unwritable chain-g2.pem"
[[ ! -e "$D/generations" ]] || fail "a failed rollover committed"
issue d0
verify_ok "issued by gen 1 after a failed rollover" -CAfile "$D/root.pem" -untrusted "$D/issuing.pem" "$WORK/d0.pem"
rmdir "$D/chain-g2.pem"
log "a rollover failing before its commit point leaves the old generation current"

# Issuing rollover: generation 2 issues, generation 1 is retired.
ca rollover 2>"$WORK/r.out" || { cat "$WORK/r.out" >&2; fail "rollover"; }
grep -qx 'issuing = 2' "$D/generations" || fail "generations not committed"
for f in issuing-g2.pem ocsp-g2.pem chain-g2.pem; do [[ -s "$D/$f" ]] || fail "no $f"; done
cmp -s "$D/chain.pem" "$D/chain-g2.pem" || fail "chain.pem is not the new generation's"
issue d2
S2=$(serial_of "$WORK/d2.pem")
verify_ok "gen 1 leaf" -CAfile "$D/root.pem" -untrusted "$D/issuing.pem" "$WORK/d1.pem"
verify_ok "gen 2 leaf" -CAfile "$D/root.pem" -untrusted "$D/issuing-g2.pem" "$WORK/d2.pem"
verify_fails "gen 2 leaf under the gen 1 key" "error" -partial_chain -trusted "$D/issuing.pem" "$WORK/d2.pem"
openssl x509 -in "$WORK/d2.pem" -noout -ext crlDistributionPoints | grep -q "full-g2.crl" \
  || fail "a gen 2 certificate does not name its generation's CRL"
log "issuing rollover: both generations verify against their own issuing CA"

# The retired generation keeps its CRL: revoke its certificate, sign CRLs.
ca revoke "$S1" --reason keyCompromise 2>/dev/null || fail "revoke a retired generation's certificate"
ca crl 2>"$WORK/crl.out" || { cat "$WORK/crl.out" >&2; fail "crl"; }
expect_contains "$WORK/crl.out" "retired generation 1" "crl did not sign the retired generation's CRL"
[[ -s "$D/crl/full.crl" && -s "$D/crl/full-g2.crl" ]] || fail "missing CRL files"
openssl crl -inform DER -in "$D/crl/full.crl" -CAfile <(cat "$D/issuing.pem" "$D/root.pem") -noout 2>&1 \
  | grep -q "verify OK" || fail "the retired generation's CRL is not signed by its key"
CRLS=(-CRLfile "$D/crl/full.crl" -CRLfile "$D/crl/full-g2.crl")
verify_fails "revoked gen 1 leaf" "revoked" -crl_check -CAfile "$D/root.pem" -untrusted "$D/issuing.pem" \
  "${CRLS[@]}" "$WORK/d1.pem"
verify_ok "gen 2 leaf with CRLs" -crl_check -CAfile "$D/root.pem" -untrusted "$D/issuing-g2.pem" "${CRLS[@]}" \
  "$WORK/d2.pem"
log "retired generation: its CRL is signed by its key and revokes its certificate"

# list/show reach every generation: the retired one's certificates stay the
# CA's record (its revocation included), each line naming its generation.
ca list >"$WORK/list.out" 2>&1 || { cat "$WORK/list.out" >&2; fail "list"; }
grep -qi "^$S1 revoked .* g1 " "$WORK/list.out" || { cat "$WORK/list.out"; fail "list misses gen 1's certificate"; }
grep -qi "^$S2 valid .* g2 " "$WORK/list.out" || { cat "$WORK/list.out"; fail "list misses gen 2's certificate"; }
[[ $(head -1 "$WORK/list.out" | cut -d' ' -f5) == g2 ]] || fail "list does not start with the current generation"
ca list --generation 1 >"$WORK/list1.out" 2>&1 || fail "list --generation 1"
grep -q " g2 " "$WORK/list1.out" && fail "list --generation 1 shows gen 2"
grep -qi "^$S1 " "$WORK/list1.out" || fail "list --generation 1 misses gen 1"
[[ $(ca list --limit 1 | wc -l) -eq 1 ]] || fail "--limit counts across generations"
ca list --generation 3 >"$WORK/r.out" 2>&1 && fail "list --generation 3 (no such generation)"
ca show "$S1" >"$WORK/show.out" 2>&1 || { cat "$WORK/show.out" >&2; fail "show a gen 1 serial"; }
expect_contains "$WORK/show.out" "generation: 1 \\(retired\\)" "show: gen 1 not named"
expect_contains "$WORK/show.out" "status: revoked" "show: gen 1 revocation"
ca show --pem "$S1" | openssl x509 -noout -serial | grep -qi "$S1" || fail "show --pem of a gen 1 serial"
ca show "$S2" 2>&1 | grep -qx "generation: 2 (current)" || fail "show: gen 2 not current"
ca show --generation 2 "$S1" >"$WORK/r.out" 2>&1 && fail "show --generation 2 found gen 1's serial"
log "list/show: both generations, each certificate with its generation"

# OCSP: one responder answers for both generations, each with its own signer.
ca_bg ocsp serve --port "$OCSP_PORT" >"$WORK/ocsp.log" 2>&1
wait_for_line "$WORK/ocsp.log" "listening on" 30 || { cat "$WORK/ocsp.log"; fail "OCSP responder did not start"; }
ocsp_check() {  # ocsp_check CERT ISSUER CHAIN WANT
  timeout "$T" openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$2" -cert "$1" -CAfile "$3" \
    >"$WORK/ocsp.out" 2>&1 || { cat "$WORK/ocsp.out" >&2; fail "openssl ocsp $1"; }
  expect_contains "$WORK/ocsp.out" "Response verify OK" "OCSP for $1 does not verify"
  expect_contains "$WORK/ocsp.out" "$(basename "$1"): $4" "OCSP for $1 does not say $4"
}
cat "$D/issuing.pem" "$D/root.pem" >"$WORK/chain-g1.pem"
ocsp_check "$WORK/d1.pem" "$D/issuing.pem" "$WORK/chain-g1.pem" revoked
ocsp_check "$WORK/d2.pem" "$D/issuing-g2.pem" "$D/chain-g2.pem" good
openssl ocsp -url "http://127.0.0.1:$OCSP_PORT/" -issuer "$D/issuing.pem" -cert "$WORK/d1.pem" \
  -CAfile "$WORK/chain-g1.pem" -resp_text 2>/dev/null | grep -q "Factory Issuing CA 1 OCSP Responder" \
  || fail "no responder name"
kill "${BG_PIDS[-1]}" && wait "${BG_PIDS[-1]}" 2>/dev/null
log "OCSP: the retired and the current generation answered, each verified"

# Root rollover: new root, link certificates, issuing generation 3.
ca rollover --root 2>"$WORK/r.out" || { cat "$WORK/r.out" >&2; fail "rollover --root"; }
grep -qx 'root = 2' "$D/generations" && grep -qx 'issuing = 3' "$D/generations" || fail "root roll not committed"
issue d3
OWN="$D/root-g2-old-with-new.pem" NWO="$D/root-g2-new-with-old.pem"
verify_ok "gen 3 leaf, new root" -CAfile "$D/root-g2.pem" -untrusted "$D/issuing-g3.pem" "$WORK/d3.pem"
verify_ok "gen 3 leaf, old root + new-with-old" -CAfile "$D/root.pem" \
  -untrusted <(cat "$D/issuing-g3.pem" "$NWO") "$WORK/d3.pem"
verify_ok "gen 2 leaf, new root + old-with-new" -CAfile "$D/root-g2.pem" \
  -untrusted <(cat "$D/issuing-g2.pem" "$OWN") "$WORK/d2.pem"
verify_fails "gen 3 leaf, old root without the link" "unable to get" -CAfile "$D/root.pem" \
  -untrusted "$D/issuing-g3.pem" "$WORK/d3.pem"
verify_ok "old-with-new" -CAfile "$D/root-g2.pem" "$OWN"
verify_ok "new-with-old" -CAfile "$D/root.pem" "$NWO"
ca crl --ca root 2>"$WORK/arl.out" || { cat "$WORK/arl.out" >&2; fail "crl --ca root"; }
[[ -s "$D/crl/root.crl" && -s "$D/crl/root-g2.crl" ]] || fail "both roots sign their ARL"
log "root rollover: both link certificates bridge the generations"

# Usage period: three days on, generation 3's key (2 days) stops issuing;
# a rollover then brings generation 4, which issues.
later() { timeout "$T" "$FAKE_TIME" '+3d' "$@"; }
new_csr d4 ec d4 "DNS:d4.devices.example.com"
later "$CA_BIN" --dir "$D" --actor interop-test issue --profile device --csr "$WORK/d4.csr" --out "$WORK/d4.pem" \
  >"$WORK/issue.out" 2>&1 && fail "issued after the usage period"
expect_contains "$WORK/issue.out" "usage period ended" "issue after the period: unclear error"
later "$CA_BIN" --dir "$D" --actor interop-test rollover 2>/dev/null || fail "rollover after the usage period"
later "$CA_BIN" --dir "$D" --actor interop-test issue --profile device --csr "$WORK/d4.csr" --out "$WORK/d4.pem" \
  2>/dev/null || fail "the new generation does not issue"
later openssl verify -CAfile "$D/root-g2.pem" -untrusted "$D/issuing-g4.pem" "$WORK/d4.pem" >/dev/null \
  || fail "gen 4 leaf does not verify"
log "usage period: the old key refused, the next generation issued"

# Retirement: once generations 1-3's certificates have expired (gen 4, made
# three days later, still lasts), `crl` signs each one's last CRL and then
# destroys its keys, once; the current generation keeps its key and signs.
G1_DAYS=$(( ( $(date -d "$(openssl x509 -in "$D/issuing.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 + 2 ))
gone() { timeout "$T" "$FAKE_TIME" "+${G1_DAYS}d" "$@"; }
gone "$CA_BIN" --dir "$D" --actor interop-test crl >"$WORK/crl.out" 2>&1 || { cat "$WORK/crl.out" >&2; fail "crl after gen 1-3 expired"; }
for g in 1 2 3; do expect_contains "$WORK/crl.out" "retired generation $g: its certificate has expired" "gen $g not retired"; done
# (the vault now trusts the later time, so its clients run there too)
gone pkcs11-tool --module "$MODULE" --token-label "$TOKEN_LABEL" --login --pin "$USER_PIN" --list-objects \
  --type privkey >"$WORK/objs.out" 2>&1 || { cat "$WORK/objs.out" >&2; fail "list token objects"; }
grep -q "label: *factory-issuing$" "$WORK/objs.out" && fail "gen 1's issuing key survived its retirement"
grep -q "label: *factory-ocsp-g2$" "$WORK/objs.out" && fail "gen 2's OCSP key survived its retirement"
grep -q "label: *factory-issuing-g4$" "$WORK/objs.out" || fail "the current generation lost its key"
gone "$CA_BIN" --dir "$D" --actor interop-test crl >"$WORK/crl2.out" 2>&1 || fail "crl after the retirement"
grep -q "retired" "$WORK/crl2.out" && fail "a retired generation signed again"
gone "$CA_BIN" --dir "$D" audit --limit 20 | grep -q " retire " || fail "retirement not audited"
log "retirement: expired generations signed their last CRL, then their keys were destroyed"
