#!/usr/bin/env bash
# The certvault OpenSSL provider with the openssl CLI: certificates and CSRs
# signed with vault keys (req -x509, x509 -req -CAkey), pkeyutl -sign,
# storeutl, cms -sign, pkeyutl -decrypt/-derive, a CKA_ALWAYS_AUTHENTICATE key, and TLS 1.3 / 1.2 s_server/s_client for P-256,
# RSA-2048 (PSS in TLS 1.3) and Ed25519, mutual TLS with both keys in the
# vault. Every result is verified by plain openssl without the provider.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/provider_lib.sh"
provider_setup
cd "$WORK"

keygen ec ec:p256
keygen rsa rsa:2048
keygen ed ed25519
keygen client ec:p384
keygen p521 ec:p521
keygen ed448 ed448

# --- req -x509 / storeutl ---
for k in ec rsa ed client p521 ed448; do selfsigned "$k"; done
plain x509 -in p521.crt -noout -text | grep -q "ecdsa-with-SHA256" || fail "P-521 certificate"
plain x509 -in ed448.crt -noout -text | grep -q "ED448" || fail "Ed448 certificate"
plain x509 -in ec.crt -noout -text | grep -q "ecdsa-with-SHA256" || fail "EC certificate signature algorithm"
plain x509 -in rsa.crt -noout -text | grep -q "sha256WithRSAEncryption" || fail "RSA certificate signature algorithm"
plain x509 -in ed.crt -noout -text | grep -q "ED25519" || fail "Ed25519 certificate signature algorithm"
pv storeutl -noout -text "certvault:token=$TOKEN_LABEL;object=ec" >store.txt 2>&1 || { cat store.txt >&2; fail "storeutl"; }
expect_contains store.txt "Total found: 2" "storeutl lists the private and the public key"
expect_contains store.txt "ASN1 OID: prime256v1" "EC public key exported with its named curve"
pv storeutl -noout -text "certvault:object=ec;type=public" >pub.txt 2>&1 || fail "storeutl of the public key"
expect_contains pub.txt "Total found: 1" "public key alone"
timeout "$T" "$CLI" import-cert ec.crt --pin "$USER_PIN" >/dev/null || fail "import-cert"
pv storeutl -certs -noout "certvault:object=ec;type=cert" >certs.txt 2>&1 || { cat certs.txt >&2; fail "storeutl -certs"; }
expect_contains certs.txt "Total found: 1" "the stored certificate is listed"
pv storeutl -out stored.pem "certvault:object=ec;type=cert" >/dev/null 2>&1 || fail "storeutl -out"
cmp -s <(plain x509 -in ec.crt -outform DER) <(plain x509 -in stored.pem -outform DER) || fail "stored certificate differs"
# pkcs11: URIs, claimed when configured; the prompt (passphrase callback) as the PIN source.
write_openssl_cnf claim.cnf "claim-pkcs11-uris = yes" "$BACKEND_LINE"
OPENSSL_CONF=claim.cnf timeout "$T" openssl req -new -x509 -key "pkcs11:token=$TOKEN_LABEL;object=ec;type=private" \
  -passin "pass:$USER_PIN" -subj /CN=claimed -out claimed.crt 2>claim.log || { cat claim.log >&2; fail "pkcs11: URI claimed, PIN from the prompt"; }
plain verify -CAfile claimed.crt claimed.crt >/dev/null || fail "certificate via pkcs11: URI"
# The command line form, without any configuration: -provider flags, PIN from the prompt, vault from CERTVAULT_HOME.
plain req -new -x509 -provider-path "$(dirname "$PROVIDER")" -provider certvault -provider default \
  -key "$(key_uri ec)" -passin "pass:$USER_PIN" -subj /CN=flags -out flags.crt 2>flags.log \
  || { cat flags.log >&2; fail "openssl req -provider certvault -provider default"; }
plain verify -CAfile flags.crt flags.crt >/dev/null || fail "certificate made with -provider flags"
expect_failure "pkcs11: URI not claimed by default" pv req -new -x509 -key "pkcs11:object=ec;type=private" -subj /CN=x -out x.crt
# Only the public half leaves the vault.
pv pkey -in "$(key_uri ec)" -pubout -out ec-from-private.pub || fail "public key of a private vault key"
cmp -s <(plain pkey -pubin -in ec-from-private.pub -outform DER) <(plain x509 -in ec.crt -pubkey -noout | plain pkey -pubin -outform DER) \
  || fail "exported public key differs from the certificate's"
expect_failure "exporting a vault private key" pv pkey -in "$(key_uri ec)" -out exported.pem
if grep -q "PRIVATE KEY" exported.pem 2>/dev/null; then fail "a private key was exported"; fi
log "req -x509 with P-256, P-384, P-521, RSA, Ed25519, Ed448 vault keys; storeutl keys and certificates; pkcs11: claim"

# --- RSA-PSS certificate, CSR signed and issued by a vault CA key ---
pv req -new -x509 -key "$(key_uri rsa)" -subj /CN=pss -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
  -out pss.crt 2>req.log || { cat req.log >&2; fail "req -x509 RSA-PSS"; }
plain verify -CAfile pss.crt pss.crt >/dev/null || fail "RSA-PSS certificate does not verify"
plain x509 -in pss.crt -noout -text | grep -q "rsassaPss" || fail "RSA-PSS signature algorithm"
plain req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -subj /CN=leaf -out leaf.csr 2>/dev/null
pv req -new -key "$(key_uri ed)" -subj /CN=csr-in-vault -out vault.csr || fail "CSR signed with a vault key"
plain req -in vault.csr -verify -noout 2>&1 | grep -q "verify OK" || fail "vault-signed CSR does not verify"
pv x509 -req -in leaf.csr -CA ec.crt -CAkey "$(key_uri ec)" -CAcreateserial -days 1 -out leaf.crt 2>x509.log \
  || { cat x509.log >&2; fail "x509 -req -CAkey with the vault key"; }
plain verify -CAfile ec.crt leaf.crt >/dev/null || fail "certificate issued with the vault CA key does not verify"
log "RSA-PSS certificate, CSR, x509 -req -CAkey"

# --- CKA_ALWAYS_AUTHENTICATE: the provider logs in with CKU_CONTEXT_SPECIFIC after each *Init ---
if command -v pkcs11-tool >/dev/null 2>&1; then
  p11_user --keypairgen --key-type EC:prime256v1 --label always-auth --usage-sign --always-auth >/dev/null \
    || fail "pkcs11-tool keygen with --always-auth"
  selfsigned always-auth
  pv x509 -req -in leaf.csr -CA always-auth.crt -CAkey "$(key_uri always-auth)" -CAcreateserial -days 1 \
    -out leaf-aa.crt 2>x509.log || { cat x509.log >&2; fail "x509 -req -CAkey with an always-authenticate key"; }
  plain verify -CAfile always-auth.crt leaf-aa.crt >/dev/null || fail "certificate from the always-authenticate key"
  log "always-authenticate key: two signatures through the provider"
fi

# --- pkeyutl -sign, cms -sign ---
printf 'data to be signed\n' >msg.txt
plain dgst -sha256 -binary msg.txt >msg.sha256
plain x509 -in ec.crt -pubkey -noout >ec.pub
pv pkeyutl -sign -inkey "$(key_uri ec)" -in msg.sha256 -out msg.sig || fail "pkeyutl -sign"
plain pkeyutl -verify -pubin -inkey ec.pub -in msg.sha256 -sigfile msg.sig | grep -q "Verified Successfully" \
  || fail "pkeyutl signature does not verify"
plain x509 -in rsa.crt -pubkey -noout >rsa.pub
pv pkeyutl -sign -inkey "$(key_uri rsa)" -in msg.sha256 -out rsa.sig -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
  || fail "pkeyutl -sign RSA-PSS"
plain pkeyutl -verify -pubin -inkey rsa.pub -in msg.sha256 -sigfile rsa.sig -pkeyopt digest:sha256 \
  -pkeyopt rsa_padding_mode:pss | grep -q "Verified Successfully" || fail "RSA-PSS pkeyutl signature does not verify"
pv cms -sign -binary -in msg.txt -signer rsa.crt -inkey "$(key_uri rsa)" -out msg.p7m 2>cms.log || { cat cms.log >&2; fail "cms -sign"; }
plain cms -verify -binary -in msg.p7m -CAfile rsa.crt -out verified.txt 2>/dev/null || fail "S/MIME signed with the vault key does not verify"
cmp -s msg.txt verified.txt || fail "cms -verify content differs"
log "pkeyutl -sign (ECDSA, RSA-PSS), cms -sign"

# --- pkeyutl -decrypt (RSA PKCS#1 v1.5, OAEP) and -derive (ECDH P-256, X25519) ---
# Keys with decrypt/derive usage: pkcs11-tool through the PKCS#11 module (the CLI
# makes signing keys), X25519 with PyKCS11 (pkcs11-tool 0.23 has no X25519 keygen).
need_tool pkcs11-tool
p11_user --keypairgen --key-type rsa:2048 --usage-decrypt --label dec --id 41 >/dev/null || fail "keygen dec"
p11_user --keypairgen --key-type EC:prime256v1 --usage-derive --label dh --id 42 >/dev/null || fail "keygen dh"
derive_keys=(dh)
if "$PY" -c "import PyKCS11" 2>/dev/null; then
  "$PY" - "$MODULE" "$TOKEN_LABEL" "$USER_PIN" <<'PY' || fail "X25519 keygen with PyKCS11"
import sys
from PyKCS11 import PyKCS11Lib, Mechanism, CKF_SERIAL_SESSION, CKF_RW_SESSION
from PyKCS11 import CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_DERIVE, CKA_LABEL, CKA_ID, CKA_EC_PARAMS
lib = PyKCS11Lib(); lib.load(sys.argv[1])
slot = [s for s in lib.getSlotList(tokenPresent=True) if lib.getTokenInfo(s).label.strip() == sys.argv[2]][0]
s = lib.openSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION); s.login(sys.argv[3])
common = [(CKA_TOKEN, True), (CKA_DERIVE, True), (CKA_LABEL, "x"), (CKA_ID, b"\x43")]
s.generateKeyPair(common + [(CKA_EC_PARAMS, bytes([6, 3, 0x2b, 0x65, 0x6e]))],
                  common + [(CKA_PRIVATE, True), (CKA_SENSITIVE, True)], mecha=Mechanism(0x1056, None))
PY
  derive_keys+=(x)
else
  log "python3-pykcs11 missing: X25519 derive not tested"
fi
for k in dec "${derive_keys[@]}"; do
  pv pkey -pubin -in "certvault:object=$k;type=public" -pubout -out "$k.pub" || fail "public key of $k (no PIN needed)"
done
printf 'session key 0123456789\n' >secret.txt
plain pkeyutl -encrypt -pubin -inkey dec.pub -in secret.txt -out secret.pkcs1
pv pkeyutl -decrypt -inkey "$(key_uri dec)" -in secret.pkcs1 -out dec.pkcs1 || fail "pkeyutl -decrypt PKCS#1 v1.5"
cmp -s secret.txt dec.pkcs1 || fail "PKCS#1 v1.5 decryption differs"
oaep=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256)
plain pkeyutl -encrypt -pubin -inkey dec.pub -in secret.txt -out secret.oaep "${oaep[@]}"
pv pkeyutl -decrypt -inkey "$(key_uri dec)" -in secret.oaep -out dec.oaep "${oaep[@]}" || fail "pkeyutl -decrypt OAEP"
cmp -s secret.txt dec.oaep || fail "OAEP decryption differs"
expect_failure "OAEP ciphertext decrypted with PKCS#1 v1.5 padding" pv pkeyutl -decrypt -inkey "$(key_uri dec)" -in secret.oaep
for k in "${derive_keys[@]}"; do
  if [[ $k == dh ]]; then plain genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "peer-$k.key"
  else plain genpkey -algorithm X25519 -out "peer-$k.key"; fi
  plain pkey -in "peer-$k.key" -pubout -out "peer-$k.pub"
  pv pkeyutl -derive -inkey "$(key_uri "$k")" -peerkey "peer-$k.pub" -out "z-vault-$k" || fail "pkeyutl -derive with $k"
  plain pkeyutl -derive -inkey "peer-$k.key" -peerkey "$k.pub" -out "z-plain-$k"
  cmp -s "z-vault-$k" "z-plain-$k" || fail "$k: the vault's shared secret differs from OpenSSL's"
done
log "pkeyutl -decrypt (PKCS#1 v1.5, OAEP-SHA256), -derive (${derive_keys[*]})"

# --- TLS ---
tls_case() {
  local key=$1 proto=$2 expect_sig=$3
  SRV_N=$((${SRV_N:-0} + 1))
  start_s_server "srv$SRV_N.log" -key "$(key_uri "$key")" -cert "$key.crt" "-$proto"
  plain s_client -connect "127.0.0.1:$SRV_PORT" "-$proto" -CAfile "$key.crt" -verify_return_error -brief \
    </dev/null >cli.log 2>&1 || { cat cli.log "srv$SRV_N.log" >&2; fail "TLS $proto with the $key vault key"; }
  expect_contains cli.log "Verification: OK" "TLS $proto $key: server certificate verified"
  expect_contains cli.log "Protocol version: TLSv1\\.${proto: -1}" "TLS $proto $key: protocol"
  [[ -z "$expect_sig" ]] || expect_contains cli.log "Signature type: $expect_sig" "TLS $proto $key: signature $expect_sig"
}
tls_case ec tls1_3 ECDSA
tls_case ec tls1_2 ECDSA
tls_case rsa tls1_3 RSA-PSS
tls_case rsa tls1_2 ""
tls_case ed tls1_3 ed25519
tls_case ed tls1_2 ed25519
log "TLS 1.3 and 1.2: P-256, RSA-2048 (PSS), Ed25519"

# Mutual TLS: both keys in the vault, both ends through the provider.
start_s_server srv.log -key "$(key_uri ec)" -cert ec.crt -Verify 1 -CAfile client.crt -verify_return_error -tls1_3
pv s_client -connect "127.0.0.1:$SRV_PORT" -tls1_3 -CAfile ec.crt -key "$(key_uri client)" -cert client.crt \
  -verify_return_error -brief </dev/null >cli.log 2>&1 || { cat cli.log srv.log >&2; fail "mutual TLS"; }
wait_for_line srv.log "client\.test" 10 || { cat srv.log >&2; fail "server did not see the vault client certificate"; }
log "mutual TLS with both keys in the vault"
