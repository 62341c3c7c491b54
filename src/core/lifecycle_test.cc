// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The key state machine (SP 800-57 Part 1 Rev. 5 §7) and its enforcement per
// operation class, with CKA_START_DATE/CKA_END_DATE in the past and future.
#include "src/core/lifecycle.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace certvault::lifecycle {
namespace {

using policy::Use;
using K = KeyState;

constexpr K kAll[] = {K::kPreActivation, K::kActive, K::kSuspended, K::kDeactivated, K::kCompromised, K::kDestroyed};
constexpr Use kProtect[] = {Use::kSign, Use::kEncrypt, Use::kWrap, Use::kDerive};
constexpr Use kProcess[] = {Use::kVerify, Use::kDecrypt, Use::kUnwrap};

std::string DateString(Day d) {
  std::chrono::year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  return buf;
}

AttributeSet Key(K state, uint64_t cls = CKO_PRIVATE_KEY) {
  AttributeSet a;
  a.SetUlong(CKA_CLASS, cls);
  a.SetUlong(kCkaCvKeyState, static_cast<uint64_t>(state));
  return a;
}

const Day kToday = Day(std::chrono::year(2026) / 12 / 7);

TEST(KeyStateMachine, ExactlyTheTransitionsOfFigure3) {
  const std::pair<K, K> allowed[] = {
      {K::kPreActivation, K::kActive},  {K::kPreActivation, K::kCompromised}, {K::kPreActivation, K::kDestroyed},
      {K::kActive, K::kSuspended},      {K::kActive, K::kDeactivated},        {K::kActive, K::kCompromised},
      {K::kActive, K::kDestroyed},      {K::kSuspended, K::kActive},          {K::kSuspended, K::kDeactivated},
      {K::kSuspended, K::kCompromised}, {K::kSuspended, K::kDestroyed},       {K::kDeactivated, K::kCompromised},
      {K::kDeactivated, K::kDestroyed}, {K::kCompromised, K::kDestroyed}};
  for (K from : kAll) {
    for (K to : kAll) {
      bool want = std::find(std::begin(allowed), std::end(allowed), std::make_pair(from, to)) != std::end(allowed);
      EXPECT_EQ(TransitionAllowed(from, to), want) << StateName(from) << " -> " << StateName(to);
    }
  }
  EXPECT_FALSE(TransitionAllowed(K::kDoNotUse, K::kActive));
}

TEST(KeyStateMachine, NamesRoundTrip) {
  for (K s : kAll) EXPECT_EQ(ParseStateName(StateName(s)), s);
  EXPECT_FALSE(ParseStateName("Active").has_value());
  EXPECT_FALSE(ParseStateName("").has_value());
}

TEST(CheckUse, PerStateAndOperationClass) {
  for (K s : kAll) {
    for (Use u : kProtect) {
      EXPECT_EQ(CheckUse(Key(s), u, kToday).ok(), s == K::kActive) << StateName(s) << " use " << int(u);
    }
    for (Use u : kProcess) {
      bool want = s == K::kActive || s == K::kSuspended || s == K::kDeactivated;
      Status st = CheckUse(Key(s), u, kToday);
      EXPECT_EQ(st.ok(), want) << StateName(s) << " use " << int(u);
      if (!want) {
        EXPECT_EQ(st.reason(), Reason::kKeyFunctionNotPermitted);
      }
    }
  }
}

TEST(CheckUse, KeysWithoutStateAreActiveAndOtherObjectsPass) {
  AttributeSet legacy;
  legacy.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  EXPECT_TRUE(CheckUse(legacy, Use::kSign, kToday).ok());
  AttributeSet cert = Key(K::kCompromised, CKO_CERTIFICATE);
  EXPECT_TRUE(CheckUse(cert, Use::kSign, kToday).ok());
}

TEST(CheckUse, MalformedStateFailsClosed) {
  AttributeSet a = Key(K::kActive);
  for (uint64_t bad : {uint64_t{0}, uint64_t{7}, ~uint64_t{0}}) {
    a.SetUlong(kCkaCvKeyState, bad);
    EXPECT_EQ(CheckUse(a, Use::kVerify, kToday).reason(), Reason::kKeyFunctionNotPermitted) << bad;
  }
  a.Set(kCkaCvKeyState, std::vector<uint8_t>{2});  // 1 byte, not a CK_ULONG
  EXPECT_EQ(CheckUse(a, Use::kVerify, kToday).reason(), Reason::kKeyFunctionNotPermitted);
}

TEST(CheckUse, DatesInThePastAndFuture) {
  const Day yesterday = kToday - std::chrono::days(1), tomorrow = kToday + std::chrono::days(1);
  AttributeSet a = Key(K::kActive);
  a.SetString(CKA_START_DATE, DateString(kToday));
  a.SetString(CKA_END_DATE, DateString(kToday));
  EXPECT_TRUE(CheckUse(a, Use::kSign, kToday).ok()) << "both dates are inclusive";
  EXPECT_EQ(EffectiveState(a, kToday), K::kActive);

  a.SetString(CKA_START_DATE, DateString(tomorrow));  // future start: pre-activation
  a.SetString(CKA_END_DATE, "");
  EXPECT_EQ(EffectiveState(a, kToday), K::kPreActivation);
  EXPECT_EQ(CheckUse(a, Use::kSign, kToday).reason(), Reason::kKeyFunctionNotPermitted);
  EXPECT_EQ(CheckUse(a, Use::kVerify, kToday).reason(), Reason::kKeyFunctionNotPermitted);
  EXPECT_TRUE(CheckUse(a, Use::kSign, tomorrow).ok());

  a.SetString(CKA_START_DATE, DateString(yesterday - std::chrono::days(30)));
  a.SetString(CKA_END_DATE, DateString(yesterday));  // past end: deactivated
  EXPECT_EQ(EffectiveState(a, kToday), K::kDeactivated);
  for (Use u : kProtect) EXPECT_EQ(CheckUse(a, u, kToday).reason(), Reason::kKeyFunctionNotPermitted);
  for (Use u : kProcess) EXPECT_TRUE(CheckUse(a, u, kToday).ok());
  EXPECT_EQ(ProtectUntil(a), kToday);

  a.SetUlong(kCkaCvKeyState, kCvStateCompromised);  // the dates never make a key better
  EXPECT_EQ(EffectiveState(a, kToday), K::kCompromised);
}

TEST(CheckUse, MalformedDatesFailClosed) {
  AttributeSet a = Key(K::kActive);
  for (const char* bad : {"20260231", "2026120", "2026-1-7", "20261307"}) {
    a.SetString(CKA_END_DATE, bad);
    EXPECT_EQ(CheckUse(a, Use::kVerify, kToday).reason(), Reason::kKeyFunctionNotPermitted) << bad;
  }
}

TEST(InitialState, OnlyPreActivationOrActive) {
  for (K s : kAll) {
    AttributeSet t;
    t.SetUlong(kCkaCvKeyState, static_cast<uint64_t>(s));
    EXPECT_EQ(CheckInitialState(t).ok(), s == K::kPreActivation || s == K::kActive) << StateName(s);
  }
  AttributeSet stamped = Key(K::kPreActivation);
  StampNewKey(&stamped, 1234);
  EXPECT_EQ(stamped.GetUlong(kCkaCvKeyState), kCvStatePreActivation);
  EXPECT_EQ(stamped.GetUlong(kCkaCvKeyStateTime), 1234u);
  AttributeSet fresh;
  fresh.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  StampNewKey(&fresh, 99);
  EXPECT_EQ(fresh.GetUlong(kCkaCvKeyState), kCvStateActive);
  StampNewKey(&fresh, 100);  // a copy keeps its source's time
  EXPECT_EQ(fresh.GetUlong(kCkaCvKeyStateTime), 99u);
}

TEST(PlanTransition, ValidatesTheRequest) {
  AttributeSet change;
  change.SetUlong(kCkaCvKeyState, kCvStateDeactivated);
  change.SetString(kCkaCvKeyStateReason, "rolled over");
  auto t = PlanTransition(Key(K::kActive), change, 42);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->from, K::kActive);
  EXPECT_EQ(t->to, K::kDeactivated);
  EXPECT_EQ(t->reason, "rolled over");
  AttributeSet after = Key(K::kActive);
  ApplyTransition(*t, &after);
  EXPECT_EQ(StoredState(after), K::kDeactivated);
  EXPECT_EQ(after.GetUlong(kCkaCvKeyStateTime), 42u);

  // Backwards: refused.
  change.SetUlong(kCkaCvKeyState, kCvStateActive);
  EXPECT_EQ(PlanTransition(after, change, 43).status().reason(), Reason::kAttributeValueInvalid);
  // Mixed with another attribute, reason alone, not a key, bad values.
  AttributeSet mixed;
  mixed.SetUlong(kCkaCvKeyState, kCvStateCompromised);
  mixed.SetString(CKA_LABEL, "x");
  EXPECT_EQ(PlanTransition(Key(K::kActive), mixed, 1).status().reason(), Reason::kTemplateInconsistent);
  AttributeSet reason_only;
  reason_only.SetString(kCkaCvKeyStateReason, "why");
  EXPECT_EQ(PlanTransition(Key(K::kActive), reason_only, 1).status().reason(), Reason::kTemplateIncomplete);
  AttributeSet ok;
  ok.SetUlong(kCkaCvKeyState, kCvStateCompromised);
  EXPECT_EQ(PlanTransition(Key(K::kActive, CKO_DATA), ok, 1).status().reason(), Reason::kAttributeTypeInvalid);
  ok.SetUlong(kCkaCvKeyState, 9);
  EXPECT_EQ(PlanTransition(Key(K::kActive), ok, 1).status().reason(), Reason::kAttributeValueInvalid);
  ok.SetUlong(kCkaCvKeyState, kCvStateCompromised);
  ok.SetString(kCkaCvKeyStateReason, std::string(257, 'a'));
  EXPECT_EQ(PlanTransition(Key(K::kActive), ok, 1).status().reason(), Reason::kAttributeValueInvalid);
  ok.SetString(kCkaCvKeyStateReason, "line\nbreak");
  EXPECT_EQ(PlanTransition(Key(K::kActive), ok, 1).status().reason(), Reason::kAttributeValueInvalid);
}

TEST(CheckDateChange, ClosedPeriodsStayClosed) {
  AttributeSet dates;
  dates.SetString(CKA_END_DATE, DateString(kToday + std::chrono::days(365)));
  EXPECT_TRUE(CheckDateChange(Key(K::kActive), dates, kToday).ok());
  EXPECT_TRUE(CheckDateChange(Key(K::kPreActivation), dates, kToday).ok());
  for (K s : {K::kSuspended, K::kDeactivated, K::kCompromised, K::kDestroyed}) {
    EXPECT_EQ(CheckDateChange(Key(s), dates, kToday).reason(), Reason::kAttributeReadOnly) << StateName(s);
  }
  AttributeSet expired = Key(K::kActive);
  expired.SetString(CKA_END_DATE, DateString(kToday - std::chrono::days(1)));
  EXPECT_EQ(CheckDateChange(expired, dates, kToday).reason(), Reason::kAttributeReadOnly);
  AttributeSet label;
  label.SetString(CKA_LABEL, "x");
  EXPECT_TRUE(CheckDateChange(expired, label, kToday).ok());
}

}  // namespace
}  // namespace certvault::lifecycle
