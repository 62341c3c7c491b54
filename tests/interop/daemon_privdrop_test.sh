#!/usr/bin/env bash
# certvaultd started as root with --user: the socket directory it creates and the socket are given
# to the service user (the socket keeps its mode), and SIGTERM removes the socket even though the
# process no longer runs as root. Needs root; daemon mode only.
source "$(dirname "$0")/lib.sh"
need_daemon_mode
[[ $(id -u) -eq 0 ]] || skip "needs root (certvaultd --user)"
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
CV_BACKEND=embedded setup_env  # this script starts its own certvaultd
chmod 0711 "$WORK"              # the service user must reach $WORK/run
sock="$WORK/run/certvaultd.sock"
# lock_memory needs an unlimited RLIMIT_MEMLOCK after --user, which a
# container without CAP_SYS_RESOURCE cannot grant; this test is about the socket.
printf '[daemon]\nsocket_mode = 0660\nlock_memory = false\n' >"$WORK/privdrop.conf"
"$CERTVAULTD" --config "$WORK/privdrop.conf" --socket "$sock" --user nobody >>"$WORK/privdrop.log" 2>&1 &
pid=$!
BG_PIDS+=("$pid")
deadline=$((SECONDS + 10))
until [[ -S "$sock" ]] && grep -q "serving" "$WORK/privdrop.log" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/privdrop.log" >&2; fail "certvaultd exited at start"; }
  ((SECONDS < deadline)) || fail "certvaultd did not start in 10 s"
  sleep 0.05
done
[[ $(stat -c %U "$sock") == nobody ]] || fail "the socket belongs to $(stat -c %U "$sock"), not nobody"
[[ $(stat -c %a "$sock") == 660 ]] || fail "socket mode $(stat -c %a "$sock"), want 660"
[[ $(stat -c %U "$WORK/run") == nobody ]] || fail "the socket directory it created was not given to nobody"
[[ $(ps -o user= -p "$pid") == nobody ]] || fail "certvaultd still runs as $(ps -o user= -p "$pid")"
kill -TERM "$pid"
timeout "$T" tail --pid="$pid" -f /dev/null || fail "certvaultd did not exit on SIGTERM"
[[ ! -e "$sock" ]] || { cat "$WORK/privdrop.log" >&2; fail "the socket is still there after SIGTERM"; }
log "socket given to nobody (mode 660) and removed at SIGTERM after the privilege drop"

# lock_memory (the default) with --user where RLIMIT_MEMLOCK cannot be lifted
# (no CAP_SYS_RESOURCE, as in a container): certvaultd refuses to start and
# names the fix, instead of failing to create its threads later. Where root can
# lift the limit, certvaultd lifts it itself and there is nothing to refuse.
if ! prlimit --memlock=unlimited:unlimited true 2>/dev/null; then
  printf '[daemon]\nsocket_mode = 0660\n' >"$WORK/lock.conf"
  if timeout "$T" "$CERTVAULTD" --config "$WORK/lock.conf" --socket "$WORK/lock.sock" --user nobody \
      >"$WORK/lock.log" 2>&1; then
    fail "certvaultd started with lock_memory, --user and a RLIMIT_MEMLOCK it cannot lift"
  fi
  grep -q "LimitMEMLOCK=infinity" "$WORK/lock.log" || { cat "$WORK/lock.log" >&2; fail "no clear message about RLIMIT_MEMLOCK"; }
  log "lock_memory with --user and a RLIMIT_MEMLOCK that cannot be lifted is refused at start"
fi
