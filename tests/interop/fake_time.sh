#!/usr/bin/env bash
# fake_time.sh SPEC CMD...: runs CMD with libfaketime preloaded and FAKETIME=SPEC
# ("+2d", "-1h", "@1990-01-01 00:00:00"; see faketime(1)).
#
# Not Debian's faketime wrapper: it names a semaphore in /dev/shm after its own
# PID and leaves it behind when it is killed (as `timeout` or a test's cleanup
# does), so once that PID comes round again the wrapper fails with
# "sem_open: File exists" before it runs anything. The shared memory it sets up
# is only needed to keep a fake clock in step across processes, which no test
# here relies on.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: fake_time.sh SPEC CMD..." >&2; exit 2; }
lib=""
for candidate in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
  [[ -f "$candidate" ]] && { lib=$candidate; break; }
done
[[ -n "$lib" ]] || { echo "fake_time.sh: libfaketime.so.1 is not installed" >&2; exit 2; }
spec=$1
shift
FAKETIME="$spec" LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}" exec "$@"
