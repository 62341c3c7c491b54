#!/usr/bin/python3
"""PyKCS11 checks of the key lifecycle vendor attributes (issue 17).

Run with Debian's /usr/bin/python3 by key_lifecycle_test.sh:
  p11_lifecycle.py --module M --token T --pin P
  - CKA_CV_KEY_STATE / _TIME / _REASON (docs/design/attributes.md) read as
    CK_ULONG / UTF-8 through C_GetAttributeValue;
  - a key set to deactivated by C_SetAttributeValue: C_SignInit is
    CKR_KEY_FUNCTION_NOT_PERMITTED, the public key still verifies;
  - no way back (CKR_ATTRIBUTE_VALUE_INVALID), the state time is read-only,
    a state change mixed with another attribute is refused;
  - CKA_END_DATE in the past and CKA_START_DATE in the future refuse signing;
    a key created pre-activation signs only once activated;
  - compromised: nothing, not even verification; destroyed: the record stays.
The key labelled "deactivated" is left for the shell script (pkcs11-tool).
Exit 0 = pass, 1 = a check failed.
"""
import argparse
import datetime
import struct
import time

import PyKCS11 as P
from p11_check import check, expect_error, open_session

CKA_CV_KEY_STATE = P.CKA_VENDOR_DEFINED | 0x00435601
CKA_CV_KEY_STATE_TIME = P.CKA_VENDOR_DEFINED | 0x00435602
CKA_CV_KEY_STATE_REASON = P.CKA_VENDOR_DEFINED | 0x00435603
PRE_ACTIVATION, ACTIVE, SUSPENDED, DEACTIVATED, COMPROMISED, DESTROYED = range(1, 7)
P256 = bytes.fromhex("06082a8648ce3d030107")
MECH = P.Mechanism(P.CKM_ECDSA)
DIGEST = bytes(32)


def ulong(v):
    return struct.pack("=Q", v)


def date(days_from_today):
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=days_from_today)
    return d.strftime("%Y%m%d").encode()


def read(session, obj, attr):
    return bytes(session.getAttributeValue(obj, [attr])[0])


def state(session, obj):
    return struct.unpack("=Q", read(session, obj, CKA_CV_KEY_STATE))[0]


def set_state(session, obj, value, reason=None):
    tmpl = [(CKA_CV_KEY_STATE, ulong(value))]
    if reason is not None:
        tmpl.append((CKA_CV_KEY_STATE_REASON, reason.encode()))
    session.setAttributeValue(obj, tmpl)


def keypair(session, label, priv_extra=()):
    key_id = label.encode()  # pkcs11-tool selects keys by CKA_ID
    pub = [(P.CKA_TOKEN, True), (P.CKA_LABEL, label), (P.CKA_ID, key_id), (P.CKA_EC_PARAMS, P256), (P.CKA_VERIFY, True)]
    priv = [(P.CKA_TOKEN, True), (P.CKA_LABEL, label), (P.CKA_ID, key_id), (P.CKA_SIGN, True)] + list(priv_extra)
    return session.generateKeyPair(pub, priv, mecha=P.Mechanism(P.CKM_EC_KEY_PAIR_GEN))


def sign(session, priv):
    return bytes(session.sign(priv, DIGEST, MECH))


def deactivate(session):
    pub, priv = keypair(session, "deactivated")
    check(state(session, priv) == ACTIVE and state(session, pub) == ACTIVE, "a new key pair is active")
    since = struct.unpack("=Q", read(session, priv, CKA_CV_KEY_STATE_TIME))[0]
    check(abs(since - time.time()) < 600, f"CKA_CV_KEY_STATE_TIME is now ({since})")
    sig = sign(session, priv)
    set_state(session, priv, DEACTIVATED, "superseded")
    set_state(session, pub, DEACTIVATED, "superseded")
    check(state(session, priv) == DEACTIVATED, "CKA_CV_KEY_STATE reads deactivated")
    check(read(session, priv, CKA_CV_KEY_STATE_REASON) == b"superseded", "CKA_CV_KEY_STATE_REASON reads back")
    expect_error("C_SignInit with a deactivated key", "CKR_KEY_FUNCTION_NOT_PERMITTED", lambda: sign(session, priv))
    check(session.verify(pub, DIGEST, sig, MECH), "a deactivated public key still verifies")
    expect_error("deactivated -> active", "CKR_ATTRIBUTE_VALUE_INVALID", lambda: set_state(session, priv, ACTIVE))
    expect_error("writing CKA_CV_KEY_STATE_TIME", "CKR_ATTRIBUTE_READ_ONLY",
                 lambda: session.setAttributeValue(priv, [(CKA_CV_KEY_STATE_TIME, ulong(0))]))
    expect_error("a state change with a label", "CKR_TEMPLATE_INCONSISTENT",
                 lambda: session.setAttributeValue(priv, [(CKA_CV_KEY_STATE, ulong(COMPROMISED)),
                                                          (P.CKA_LABEL, "x")]))
    expect_error("reopening the period by CKA_END_DATE", "CKR_ATTRIBUTE_READ_ONLY",
                 lambda: session.setAttributeValue(priv, [(P.CKA_END_DATE, date(365))]))


def dates(session):
    _, expired = keypair(session, "expired", [(P.CKA_END_DATE, date(-1))])
    expect_error("CKA_END_DATE yesterday", "CKR_KEY_FUNCTION_NOT_PERMITTED", lambda: sign(session, expired))
    _, future = keypair(session, "future", [(P.CKA_START_DATE, date(1))])
    expect_error("CKA_START_DATE tomorrow", "CKR_KEY_FUNCTION_NOT_PERMITTED", lambda: sign(session, future))
    _, today = keypair(session, "today", [(P.CKA_START_DATE, date(0)), (P.CKA_END_DATE, date(0))])
    check(len(sign(session, today)) == 64, "a period of today alone signs today")
    _, pre = keypair(session, "pre", [(CKA_CV_KEY_STATE, ulong(PRE_ACTIVATION))])
    expect_error("pre-activation key", "CKR_KEY_FUNCTION_NOT_PERMITTED", lambda: sign(session, pre))
    set_state(session, pre, ACTIVE, "key ceremony")
    check(len(sign(session, pre)) == 64, "activated key signs")
    expect_error("a key born compromised", "CKR_ATTRIBUTE_VALUE_INVALID",
                 lambda: keypair(session, "bad", [(CKA_CV_KEY_STATE, ulong(COMPROMISED))]))


def compromise_and_destroy(session):
    pub, priv = keypair(session, "end-of-life")
    sig = sign(session, priv)
    set_state(session, pub, COMPROMISED, "private key leaked")
    expect_error("verify with a compromised key", "CKR_KEY_FUNCTION_NOT_PERMITTED",
                 lambda: session.verify(pub, DIGEST, sig, MECH))
    set_state(session, priv, DESTROYED)
    check(state(session, priv) == DESTROYED, "a destroyed key keeps its record")
    check(session.getAttributeValue(priv, [P.CKA_LABEL])[0] == "end-of-life", "its label is still there")
    expect_error("sign with a destroyed key", "CKR_KEY_FUNCTION_NOT_PERMITTED", lambda: sign(session, priv))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pin", required=True)
    args = ap.parse_args()
    _, _, session = open_session(args)
    deactivate(session)
    dates(session)
    compromise_and_destroy(session)
    session.logout()
    session.closeSession()


if __name__ == "__main__":
    main()
