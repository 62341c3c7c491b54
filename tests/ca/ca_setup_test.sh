#!/usr/bin/env bash
# certvault-ca init's guided set-up (issue 12 §6): `init` with flags writes
# the instance directory and a commented ca.toml with the shipped profiles
# (device, server, ocsp) and creates the hierarchy, like `step ca init`.
#   - bad or missing flags: exit 2 with a message naming the flag, nothing
#     created; a refused PIN: exit 1, nothing left behind;
#   - the written ca.toml is 0600, commented, holds the three profiles; the
#     OCSP signer is certified with the internal ocsp profile, which `issue`
#     refuses; device and server certificates verify;
#   - an existing instance is never overwritten (exit 1, files unchanged);
#   - a PIN file inside the instance is named relatively; --profile-dir
#     takes the profiles from a directory (the installed copies);
#     --external-root writes issuing.csr and no root.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
PROFILES_SRC="$(cd "$(dirname "$0")/../../packaging/ca-profiles" && pwd)"
init_token
printf '%s\n' "$USER_PIN" >"$WORK/pin.txt"
chmod 600 "$WORK/pin.txt"
CA_DIR="$WORK/ca"
GOOD=(--name factory --token-module "$MODULE" --token-label "$TOKEN_LABEL" --pin-file "$WORK/pin.txt")

# usage WANT_PATTERN INIT_ARGS...: exit 2, the message, and no directory.
usage() {
  local pattern=$1 rc=0
  shift
  ca init "$@" >"$WORK/usage.out" 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || { cat "$WORK/usage.out" >&2; fail "init $*: exit $rc, want 2"; }
  expect_contains "$WORK/usage.out" "$pattern" "init $*: unclear message"
  [[ ! -e "$CA_DIR" ]] || fail "init $* created $CA_DIR"
  log "usage error: $pattern"
}
M=(--token-module "$MODULE")
L=(--token-label "$TOKEN_LABEL")
P=(--pin-file "$WORK/pin.txt")
usage "--name is required" "${M[@]}" "${L[@]}" "${P[@]}"
usage "--name must be" --name "two words" "${M[@]}" "${L[@]}" "${P[@]}"
usage "--token-label is required" --name factory "${M[@]}" "${P[@]}"
usage "--token-module: no PKCS#11 module" --name factory --token-module "$WORK/none.so" "${L[@]}" "${P[@]}"
usage "or --pin-env VAR for the token PIN" --name factory "${M[@]}" "${L[@]}"
usage "or --pin-env VAR for the token PIN" --name factory "${M[@]}" "${L[@]}" "${P[@]}" --pin-env CA_PIN
usage "--pin-file: no file" --name factory "${M[@]}" "${L[@]}" --pin-file "$WORK/none.txt"
usage "--key-algorithm" "${GOOD[@]}" --key-algorithm dsa-1024
usage "--signature-algorithm" "${GOOD[@]}" --signature-algorithm rsa-pss
usage "--root-subject" "${GOOD[@]}" --root-subject "CN=no slash"
usage "--database must be" "${GOOD[@]}" --database "mysql://ca"
usage "--url must be" "${GOOD[@]}" --url "https://ca.example"
usage "without a path" "${GOOD[@]}" --url "http://ca.example/pki"
usage "--permitted-dns" "${GOOD[@]}" --permitted-dns "bad name.example"
usage "--profile-dir" "${GOOD[@]}" --profile-dir "$WORK/none"
usage "has no ca.toml" --external-root
usage "bogus" "${GOOD[@]}" --bogus

# A PIN the token refuses: the error, and nothing left behind.
printf '999999\n' >"$WORK/wrong.txt"
chmod 600 "$WORK/wrong.txt"
expect_failure "init with a wrong PIN" ca init --name factory "${M[@]}" "${L[@]}" --pin-file "$WORK/wrong.txt"
expect_contains "$WORK/expect_failure.out" "PIN" "wrong PIN: unclear error"
[[ ! -e "$CA_DIR" ]] || fail "a refused init left $CA_DIR behind: $(ls "$CA_DIR")"

# The guided set-up.
ca init "${GOOD[@]}" --url "http://127.0.0.1:8080" --permitted-dns example.net 2>"$WORK/init.err" \
  || { cat "$WORK/init.err"; fail "init from flags failed"; }
expect_contains "$WORK/init.err" "profiles: device server ocsp" "init does not name the profiles it wrote"
for f in ca.toml ca.db root.pem issuing.pem ocsp.pem chain.pem; do [[ -s "$CA_DIR/$f" ]] || fail "init did not write $f"; done
[[ $(stat -c %a "$CA_DIR/ca.toml") == 600 && $(stat -c %a "$CA_DIR") == 700 ]] || fail "ca.toml or the instance is not private"
for t in '^\[profiles.device\]' '^\[profiles.server\]' '^\[profiles.ocsp\]' '^internal = true' '^# ' \
  'crl_url = "http://127.0.0.1:8080/crl/full.crl"' 'ocsp_url = "http://127.0.0.1:8080/ocsp"' \
  'permitted_names = \["DNS:example.net"\]' "pin_file = \"$WORK/pin.txt\"" 'url = "sqlite:ca.db"'; do
  grep -q -- "$t" "$CA_DIR/ca.toml" || fail "ca.toml lacks $t"
done
ca profiles >"$WORK/profiles.txt"
for p in device server ocsp; do expect_contains "$WORK/profiles.txt" "^$p:" "profiles does not list $p"; done
expect_contains "$WORK/profiles.txt" "^ocsp: internal" "profiles does not mark ocsp internal"
openssl x509 -in "$CA_DIR/ocsp.pem" -noout -ext extendedKeyUsage,keyUsage | grep -q "OCSP Signing" || fail "OCSP signer EKU"
new_csr d1 ec dev-1 "DNS:dev-1.example.net"
refused_ocsp() { ca issue --profile ocsp --csr "$WORK/d1.csr" --out "$WORK/x.pem"; }
expect_failure "issue --profile ocsp" refused_ocsp
expect_contains "$WORK/expect_failure.out" "internal" "issue --profile ocsp: unclear error"
new_csr w1 ec www.example.net "DNS:www.example.net"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue device"
ca issue --profile server --csr "$WORK/w1.csr" --out "$WORK/w1.pem" 2>/dev/null || fail "issue server"
for c in d1 w1; do openssl verify -CAfile "$CA_DIR/chain.pem" "$WORK/$c.pem" >/dev/null || fail "$c does not verify"; done
log "guided set-up: ca.toml, hierarchy, device and server certificates"

# Never over an existing instance, with or without flags.
sha() { sha256sum "$CA_DIR/ca.toml" "$CA_DIR/ca.db" "$CA_DIR/root.pem" | sha256sum; }
before=$(sha)
expect_failure "init over an instance" ca init "${GOOD[@]}"
expect_contains "$WORK/expect_failure.out" "never overwrites" "init over an instance: unclear error"
expect_failure "init again without flags" ca init
[[ "$(sha)" == "$before" ]] || fail "a refused init changed the instance"
log "an existing instance is never overwritten"

# A PIN file inside the instance is named relatively; --profile-dir.
mkdir -m 700 "$WORK/ca2"
cp -p "$WORK/pin.txt" "$WORK/ca2/pin.txt"
mkdir "$WORK/profiles"
cp "$PROFILES_SRC/device.toml" "$WORK/profiles/"
CA_DIR="$WORK/ca2" ca init --name second --token-module "$MODULE" --token-label "$TOKEN_LABEL" \
  --pin-file "$WORK/ca2/pin.txt" --profile-dir "$WORK/profiles" --key-algorithm ec-p384 2>/dev/null \
  || fail "init with --profile-dir"
grep -q '^pin_file = "pin.txt"' "$WORK/ca2/ca.toml" || fail "the PIN file inside the instance is not relative"
[[ "$(CA_DIR="$WORK/ca2" ca profiles | cut -d: -f1)" == device ]] || fail "--profile-dir was not used"
openssl x509 -in "$WORK/ca2/root.pem" -noout -text | grep -q "NIST CURVE: P-384" || fail "--key-algorithm ignored"
# With --external-root: no root key, the issuing CA's CSR for the external root.
CA_DIR="$WORK/ca3" ca init --name ext --token-module "$MODULE" --token-label "$TOKEN_LABEL" --pin-file "$WORK/pin.txt" \
  --external-root 2>/dev/null || fail "init --external-root from flags"
[[ -s "$WORK/ca3/issuing.csr" && ! -e "$WORK/ca3/root.pem" ]] || fail "--external-root: $(ls "$WORK/ca3")"
grep -q '^root_subject = ""' "$WORK/ca3/ca.toml" || fail "--external-root: ca.toml names a root subject"
openssl req -in "$WORK/ca3/issuing.csr" -noout -verify -subject 2>&1 | grep -q "CN = ext Issuing CA" \
  || fail "issuing.csr does not verify or names the wrong subject"
log PASS
