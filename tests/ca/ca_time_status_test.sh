#!/usr/bin/env bash
# certvault-ca status (issue 17, "Trusted time"): the time source's health
# in text and --json: none configured; an SNTP server on 127.0.0.1 that
# agrees (ok, offset within the bound, exit 0); one an hour ahead (FAIL with
# the offset, exit 1); one that does not answer (FAIL, exit 1).
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"

cp "$CA_DIR/ca.toml" "$WORK/ca.toml.orig"
# use_source URL: time_source in [ca].
use_source() {
  cp "$WORK/ca.toml.orig" "$CA_DIR/ca.toml"
  printf 'time_source = "%s"\n' "$1" >"$WORK/ts.toml"
  sed -i "/^\[ca\]/r $WORK/ts.toml" "$CA_DIR/ca.toml"
}
# status WANT_RC ARGS...: certvault-ca status, output in $WORK/status.out.
status() {
  local want=$1 rc=0
  shift
  ca status "$@" >"$WORK/status.out" 2>"$WORK/status.err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$WORK/status.out" "$WORK/status.err" >&2; fail "status $*: exit $rc, want $want"; }
}
json_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["time"][sys.argv[2]])' "$WORK/status.out" "$1"; }

status 0
grep -q "time source: none configured" "$WORK/status.out" || fail "no source: $(cat "$WORK/status.out")"
status 0 --json
[[ $(json_field source) == None && $(json_field ok) == True ]] || fail "no source (json): $(cat "$WORK/status.out")"

GOOD=$(free_port)
sntp_server "$GOOD" 2
use_source "ntp://127.0.0.1:$GOOD"
status 0
grep -q "^time: ok" "$WORK/status.out" || fail "agreeing source: $(cat "$WORK/status.out")"
grep -Eq "^offset: [-+][0-3] s \(bound 10 s\)" "$WORK/status.out" || fail "offset: $(cat "$WORK/status.out")"
grep -q "^checked: 20" "$WORK/status.out" || fail "no check time: $(cat "$WORK/status.out")"
status 0 --json
[[ $(json_field source) == "ntp://127.0.0.1:$GOOD" && $(json_field ok) == True ]] || fail "json: $(cat "$WORK/status.out")"
(( $(json_field offset_s) >= -3 && $(json_field offset_s) <= 0 )) || fail "json offset: $(cat "$WORK/status.out")"
log "agreeing source: ok"

AHEAD=$(free_port)
sntp_server "$AHEAD" 3600
use_source "ntp://127.0.0.1:$AHEAD"
status 1
grep -q "^time: FAIL" "$WORK/status.out" || fail "source ahead: $(cat "$WORK/status.out")"
grep -Eq "^offset: -3(599|600) s" "$WORK/status.out" || fail "offset ahead: $(cat "$WORK/status.out")"
status 1 --json
[[ $(json_field ok) == False ]] || fail "json ahead: $(cat "$WORK/status.out")"
json_field error | grep -q "signing is refused" || fail "json error: $(cat "$WORK/status.out")"
log "source an hour ahead: FAIL"

DEAD=$(free_port)  # nothing listens there
use_source "ntp://127.0.0.1:$DEAD"
status 1 --json
[[ $(json_field ok) == False ]] || fail "dead source: $(cat "$WORK/status.out")"
log "silent source: FAIL"
