#!/usr/bin/env bash
# A failed pairwise-consistency test inside certvaultd is the daemon's error
# state: the key generation fails, and from then on the daemon refuses to
# sign with a key that worked a moment before, the reason logged once.
# certvaultd-faults ($CERTVAULTD, a test-only build with fault injection) is
# started with CERTVAULT_SELFTEST_FAULT=pct; the client is the normal CLI.
source "$(dirname "$0")/../interop/lib.sh"
export CV_BACKEND=daemon
need_daemon_mode
[[ -n "${CLI:-}" && -x "$CLI" ]] || skip "CLI (certvault) not given"
setup_env
export CERTVAULT_PIN="$USER_PIN" CERTVAULT_SO_PIN="$SO_PIN"
cv() { timeout "$T" "$CLI" "$@"; }

# A key made while all is well, and a signature with it.
cv init --label pct >/dev/null || fail "certvault init through the daemon"
cv keygen --label good --type ec:p256 >/dev/null || fail "keygen without a fault"
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true

# The same vault under a daemon whose next pairwise-consistency test fails.
CERTVAULT_SELFTEST_FAULT=pct start_daemon
cv csr --key good --subject /CN=before --out "$WORK/before.csr" || fail "csr before the failed PCT"
expect_failure "keygen with a failing pairwise-consistency test" cv keygen --label bad --type ec:p256
expect_failure "csr after the failed PCT" cv csr --key good --subject /CN=after --out "$WORK/after.csr"
[[ ! -s "$WORK/after.csr" ]] || fail "a CSR was written in the error state"
n=$(grep -c "entering the error state" "$WORK/certvaultd.log" || true)
[[ "$n" -eq 1 ]] || { cat "$WORK/certvaultd.log" >&2; fail "error state logged $n times, want 1"; }
expect_contains "$WORK/certvaultd.log" "pairwise-consistency" "the log does not name the failed test"
