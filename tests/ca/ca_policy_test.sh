#!/usr/bin/env bash
# policy.toml (issue 17, "The policy as data"): a ca.toml that contradicts
# the policy does not start (nothing is created; once the database exists,
# the refusal is audited as a "policy-violation" event); a CSR whose key type the
# policy does not allow is refused at issuance naming the rule, audited as a
# "policy-violation" event and alerted; --policy
# overrides ca.toml's policy; `policy report` (md and html) shows the
# configured values and changes when the configuration does.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
cat >"$CA_DIR/policy.toml" <<'TOML'
[policy]
name = "Example & Co <PKI> policy"
version = "3"
[algorithms]
allowed_key_types = ["ec-p256", "ec-p384", "rsa-3072"]
min_rsa_bits = 3072
[crypto_periods]
max_issuing_key_usage_days = 3650
[certificates]
max_leaf_validity_days = 398
[quorum]
k = 2
n = 3
TOML
printf 'policy = "policy.toml"\n' >"$WORK/p.toml"
sed -i "/^\[ca\]/r $WORK/p.toml" "$CA_DIR/ca.toml"
cat >>"$CA_DIR/ca.toml" <<TOML

[audit.alert]
command = 'printf "%s|%s\n" "\$CV_ALERT_KIND" "\$CV_ALERT_DETAIL" >>"$WORK/alerts.log"'
TOML

# The device profile allows rsa-2048: the CA refuses to start.
ca init >"$WORK/init.out" 2>&1 && fail "init started with a contradicting configuration"
expect_contains "$WORK/init.out" "configuration contradicts policy" "contradiction: unclear error"
expect_contains "$WORK/init.out" "\\[profiles\\.device\\] key_algorithms" "contradiction: the setting is not named"
[[ ! -e "$CA_DIR/root.pem" && ! -e "$CA_DIR/ca.db" ]] || fail "a refused start created the CA"
log "contradicting ca.toml: refused to start, nothing created"

sed -i 's/key_algorithms = \["ec-p256", "ec-p384", "rsa-2048", "rsa-3072"\]/key_algorithms = ["ec-p256", "rsa-3072"]/' \
  "$CA_DIR/ca.toml"
ca init 2>/dev/null || fail "init with a consistent configuration"

new_csr r1 rsa:2048 r1 "DNS:r1.devices.example.com"
ca issue --profile device --csr "$WORK/r1.csr" --out "$WORK/r1.pem" >"$WORK/r1.out" 2>&1 && fail "issued an rsa-2048 CSR"
expect_contains "$WORK/r1.out" "policy: key type rsa-2048 is not allowed" "disallowed CSR: unclear reason"
[[ ! -s "$WORK/r1.pem" ]] || fail "a refused CSR produced a certificate"
ca audit >"$WORK/audit.out" 2>&1 || fail "audit"
# Its own event type, naming the rule, and an alert (issue 17).
expect_contains "$WORK/audit.out" "policy-violation factory-issuing .*rule: \[algorithms\] allowed_key_types, min_rsa_bits = 3072; policy: key type rsa-2048 is not allowed" \
  "the policy refusal is not audited as a policy violation with its rule"
grep -q " refuse factory-issuing .*rsa-2048" "$WORK/audit.out" && fail "the policy violation is also a plain refusal"
expect_contains "$WORK/alerts.log" "^policy-violation|rule: \[algorithms\] allowed_key_types" "no policy-violation alert"
new_csr e1 ec e1 "DNS:e1.devices.example.com"
ca issue --profile device --csr "$WORK/e1.csr" --out "$WORK/e1.pem" 2>/dev/null || fail "issue an allowed CSR"
log "CSR key types: rsa-2048 refused by the policy (policy-violation audited and alerted), ec-p256 issued"


# --policy overrides ca.toml's: a stricter time bound contradicts the skew (10 s).
printf '[time]\nmax_clock_offset_seconds = 5\n[crypto_periods]\nmax_issuing_key_usage_days = 3650\n' >"$WORK/strict.toml"
ca --policy "$WORK/strict.toml" issue --profile device --csr "$WORK/e1.csr" --out "$WORK/e2.pem" >"$WORK/strict.out" 2>&1 \
  && fail "issue started under a contradicting --policy"
expect_contains "$WORK/strict.out" "max_clock_skew_seconds = 10 but policy\\.toml \\[time\\] max_clock_offset_seconds = 5" \
  "--policy: unclear contradiction"
# The refused start is itself a policy violation in the audit chain (the
# database exists now), naming the command, the rule and who ran it.
ca audit >"$WORK/audit2.out" 2>&1 || fail "audit after a refused start"
expect_contains "$WORK/audit2.out" "policy-violation factory-issuing .*issue.*rule: \[time\] max_clock_offset_seconds = 5; configuration contradicts policy" \
  "a command refused for a contradicting ca.toml is not audited as a policy violation"
expect_contains "$WORK/alerts.log" "^policy-violation|rule: \[time\] max_clock_offset_seconds = 5" "refused start: no alert"
# rollover: the CA's key type is refused before any key is made, and audited.
printf '[algorithms]\nallowed_key_types = ["ec-p384"]\n[crypto_periods]\nmax_issuing_key_usage_days = 3650\n' \
  >"$WORK/p384.toml"
ca --policy "$WORK/p384.toml" rollover >"$WORK/roll.out" 2>&1 && fail "rollover under a policy without ec-p256"
expect_contains "$WORK/roll.out" "\[ca\] key_algorithm = \"ec-p256\" but policy\.toml \[algorithms\] does not allow ec-p256" \
  "rollover: unclear contradiction"
[[ ! -e "$CA_DIR/issuing-g2.pem" ]] || fail "a refused rollover made a new generation"
ca audit >"$WORK/audit3.out" 2>&1 || fail "audit after a refused rollover"
expect_contains "$WORK/audit3.out" "policy-violation factory-issuing .*rollover.*rule: \[algorithms\] does not allow ec-p256" \
  "a refused rollover is not audited as a policy violation"
grep "policy-violation factory-issuing .*rollover" "$WORK/audit3.out" | grep -q interop-test || fail "the violation does not name the actor"
log "refused starts (issue, rollover): audited as policy violations and alerted"
printf '[pin]\nmin_lenght = 8\n' >"$WORK/typo.toml"
ca --policy "$WORK/typo.toml" policy report >"$WORK/typo.out" 2>&1 && fail "a policy with a typo was accepted"
expect_contains "$WORK/typo.out" "\\[pin\\] min_lenght is not a policy key" "policy typo: unclear error"
log "--policy: contradiction and malformed policy refused"

ca policy report >"$WORK/report1.md" 2>"$WORK/report.err" || { cat "$WORK/report.err" >&2; fail "policy report"; }
for want in "| A.01-A.05 |" "Example & Co <PKI> policy (version 3)" "| 2 of 3 | not enforced yet |" \
  "longest profile: 365 d" "certificates issued: " "| OpenSSL |" "| OS |" "### 6.3.2" "passed (" \
  "audit verify: ok ("; do
  grep -qF -- "$want" "$WORK/report1.md" || { cat "$WORK/report1.md" >&2; fail "report lacks: $want"; }
done
ca policy report --format html >"$WORK/report.html" 2>/dev/null || fail "policy report --format html"
grep -qF "Example &amp; Co &lt;PKI&gt; policy" "$WORK/report.html" || fail "HTML does not escape the policy name"
grep -qF "<PKI>" "$WORK/report.html" && fail "HTML contains an unescaped value"
ca policy report --format pdf >/dev/null 2>&1 && fail "an unknown format was accepted"

sed -i '0,/^days = 365/s//days = 200/' "$CA_DIR/ca.toml"
ca policy report >"$WORK/report2.md" 2>/dev/null || fail "policy report after the change"
grep -qF "longest profile: 200 d" "$WORK/report2.md" || fail "the report does not follow the configuration"
log "policy report: md and html, follows the configuration"
log "PASS"
