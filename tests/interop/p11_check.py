# Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the PyKCS11 interop scripts: results and the session."""
import sys

import PyKCS11 as P


def die(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, what):
    if not cond:
        die(what)
    print(f"ok  {what}")


def expect_error(what, rv_name, fn):
    """Runs fn() and checks that it fails with the PKCS#11 error rv_name."""
    try:
        fn()
    except P.PyKCS11Error as e:
        got = P.CKR[e.value] if e.value in P.CKR else hex(e.value)
        check(got == rv_name, f"{what}: {got}")
        return
    die(f"{what}: succeeded, want {rv_name}")


def open_session(args):
    """Returns (lib, slot, session): a R/W user session on token args.token of args.module."""
    lib = P.PyKCS11Lib()
    lib.load(args.module)
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.strip() == args.token:
            session = lib.openSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION)
            session.login(args.pin)
            return lib, slot, session
    die(f"token {args.token!r} not found")
