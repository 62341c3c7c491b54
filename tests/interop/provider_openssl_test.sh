#!/usr/bin/env bash
# The certvault OpenSSL provider with the openssl CLI: certificates and CSRs
# signed with vault keys (req -x509, x509 -req -CAkey), pkeyutl -sign,
# storeutl, cms -sign, and TLS 1.3 / 1.2 s_server/s_client for P-256,
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

# --- req -x509 / storeutl ---
for k in ec rsa ed client; do selfsigned "$k"; done
plain x509 -in ec.crt -noout -text | grep -q "ecdsa-with-SHA256" || fail "EC certificate signature algorithm"
plain x509 -in rsa.crt -noout -text | grep -q "sha256WithRSAEncryption" || fail "RSA certificate signature algorithm"
plain x509 -in ed.crt -noout -text | grep -q "ED25519" || fail "Ed25519 certificate signature algorithm"
pv storeutl -noout -text "certvault:token=$TOKEN_LABEL;object=ec" >store.txt 2>&1 || { cat store.txt >&2; fail "storeutl"; }
expect_contains store.txt "Total found: 2" "storeutl lists the private and the public key"
expect_contains store.txt "ASN1 OID: prime256v1" "EC public key exported with its named curve"
pv storeutl -noout -text "certvault:object=ec;type=public" >pub.txt 2>&1 || fail "storeutl of the public key"
expect_contains pub.txt "Total found: 1" "public key alone"
log "req -x509 with EC, RSA, Ed25519 vault keys; storeutl"

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
