#!/usr/bin/env bash
# The vault's event log (issue 15, docs/formats/event-log.md) with real
# clients: pkcs11-tool initializes the token, fails a login, generates and
# deletes a key through the module (embedded, or certvaultd with
# CV_BACKEND=daemon); `certvault audit` lists those events with pkcs11-tool as
# the acting executable (in daemon mode: its pid, not the daemon's), and
# `certvault audit --verify` accepts the log, in which the failed login is
# signed by the next one, then rejects an edited record (exit 4).
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool
need_tool sqlite3
[[ -n "${CLI:-}" && -x "$CLI" ]] || skip "CLI (certvault) not given"
is_softhsm && skip "certvault-specific (the vault's event log)"
setup_env
MODE="${CV_BACKEND:-embedded}"
init_token
expect_failure "login with a wrong PIN" p11 --token-label "$TOKEN_LABEL" --login --pin wrong-pin-0000 --list-objects
p11_user --keypairgen --key-type EC:prime256v1 --label evk --id 51 >/dev/null || fail "pkcs11-tool --keypairgen"
p11_user --delete-object --type pubkey --label evk >/dev/null || fail "pkcs11-tool --delete-object"

timeout "$T" "$CLI" audit --token "$TOKEN_LABEL" --json >"$WORK/events.json" || fail "certvault audit --json"
"$PY" - "$WORK/events.json" "$MODE" "${DAEMON_PID:-0}" <<'PYEOF' || fail "unexpected events (see above)"
import json, sys
events = json.load(open(sys.argv[1]))["events"]
mode, daemon_pid = sys.argv[2], int(sys.argv[3])
actions = [(e["action"], e["result"]) for e in events]
want = [("init_token", "ok"), ("login", "ok"), ("init_pin", "ok"), ("login", "pin_incorrect"), ("login", "ok"),
        ("generate_key_pair", "ok"), ("login", "ok"), ("destroy_object", "ok")]
if actions != want:
    print("actions:", actions, file=sys.stderr); sys.exit(1)
for e in events:
    if e["mode"] != mode or not e["exe"].endswith("pkcs11-tool") or e["pid"] == daemon_pid:
        print("actor:", e, file=sys.stderr); sys.exit(1)
if events[5]["target_label"] != "evk" or events[5]["role"] != "user":
    print("keygen:", events[5], file=sys.stderr); sys.exit(1)
PYEOF
log "audit lists the events of pkcs11-tool ($MODE mode)"

timeout "$T" "$CLI" audit --token "$TOKEN_LABEL" --verify >"$WORK/verify.out" || { cat "$WORK/verify.out" >&2; fail "verify"; }
expect_contains "$WORK/verify.out" "verified: the log is intact" "verify did not pass"
grep -q "not yet signed" "$WORK/verify.out" && fail "the failed login is still unsigned after the next login"

DB="$CERTVAULT_HOME/vault.db"
sqlite3 "$DB" "UPDATE event_log SET result = 'ok' WHERE seq = 4" || fail "sqlite3 edit"
rc=0
timeout "$T" "$CLI" audit --token "$TOKEN_LABEL" --verify >"$WORK/broken.out" 2>&1 || rc=$?
[[ $rc -eq 4 ]] || { cat "$WORK/broken.out" >&2; fail "an edited record: exit $rc, want 4"; }
expect_contains "$WORK/broken.out" "BROKEN at record 4" "the edited record is not named"
log "an edited failed login is reported (exit 4)"
