#!/usr/bin/python3
"""PyKCS11 checks of policy.toml [crypto_periods] max_key_days = 30 (issue 17).

Run with Debian's /usr/bin/python3 by vault_policy_test.sh:
  p11_policy_period.py --module M --token T --pin P
  - a new AES key gets CKA_END_DATE 30 days after its start;
  - C_SetAttributeValue may shorten it but not move it past the period, not
    together with a later CKA_START_DATE, and not clear it
    (CKR_TEMPLATE_INCONSISTENT each time, the stored date unchanged).
(C_CopyObject, which Debian's PyKCS11 does not wrap, is covered by
src/core/key_policy_test.cc.)
Exit 0 = pass, 1 = a check failed.
"""
import argparse
import datetime

import PyKCS11 as P
from p11_check import check, expect_error, open_session


def date(days_from_today):
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=days_from_today)
    return d.strftime("%Y%m%d").encode()


def end_of(session, key):
    return bytes(session.getAttributeValue(key, [P.CKA_END_DATE])[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--pin", required=True)
    args = parser.parse_args()
    _, _, session = open_session(args)
    tmpl = [(P.CKA_CLASS, P.CKO_SECRET_KEY), (P.CKA_KEY_TYPE, P.CKK_AES), (P.CKA_VALUE_LEN, 32),
            (P.CKA_TOKEN, True), (P.CKA_LABEL, "period"), (P.CKA_ENCRYPT, True), (P.CKA_START_DATE, date(0))]
    key = session.generateKey(tmpl, P.Mechanism(P.CKM_AES_KEY_GEN))
    check(end_of(session, key) == date(30), f"a new key ends 30 days after its start ({end_of(session, key)!r})")
    inconsistent = "CKR_TEMPLATE_INCONSISTENT"
    expect_error("CKA_END_DATE past the period", inconsistent,
                 lambda: session.setAttributeValue(key, [(P.CKA_END_DATE, date(31))]))
    expect_error("CKA_START_DATE and CKA_END_DATE moved later together", inconsistent,
                 lambda: session.setAttributeValue(key, [(P.CKA_START_DATE, date(5)), (P.CKA_END_DATE, date(35))]))
    expect_error("CKA_END_DATE cleared", inconsistent, lambda: session.setAttributeValue(key, [(P.CKA_END_DATE, b"")]))
    check(end_of(session, key) == date(30), "the refused changes left the end date")
    session.setAttributeValue(key, [(P.CKA_END_DATE, date(10))])
    check(end_of(session, key) == date(10), "the period can be shortened")
    session.logout()
    session.closeSession()


if __name__ == "__main__":
    main()
