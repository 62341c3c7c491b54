// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key lifecycle verb: `key state` (SP 800-57 Part 1 §7 states,
// src/core/lifecycle.h), and the state as `list` shows it.
#include <time.h>

#include "cli/command_context.h"
#include "cli/output.h"
#include "src/base/status_macros.h"
#include "src/base/utc_time.h"
#include "src/core/lifecycle.h"
#include "src/model/vendor_attributes.h"

namespace certvault::cli {
namespace {

using lifecycle::KeyState;

bool IsKeyClass(ObjectClass cls) { return cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY; }

std::string DateOf(const AttributeSet& a, AttributeType type) {
  auto v = a.GetBytes(type);
  return v.has_value() ? std::string(v->begin(), v->end()) : "";
}

std::string StoredName(const AttributeSet& a) {
  std::optional<KeyState> s = lifecycle::StoredState(a);
  return std::string(s.has_value() ? lifecycle::StateName(*s) : "invalid");
}

std::string EffectiveName(const AttributeSet& a) {
  std::optional<KeyState> s = lifecycle::EffectiveState(a, lifecycle::Today());
  return std::string(s.has_value() ? lifecycle::StateName(*s) : "invalid");
}

constexpr char kStateNames[] = "pre-activation, active, suspended, deactivated, compromised or destroyed";

// KeysToChange: the key objects `sel` names (a key pair's two halves move
// together, SP 800-57 §7.3: "both the public and private keys"), each checked
// against the state machine before anything changes.
Result<std::vector<ObjectInfo>> KeysToChange(Session& session, const ObjectSelector& sel, KeyState to) {
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, session.Find(sel.Template()));
  std::vector<ObjectInfo> keys;
  for (ObjectHandle h : handles) {
    CV_ASSIGN_OR_RETURN(ObjectInfo info, DescribeObject(session, h));
    if (!IsKeyClass(info.object_class)) continue;
    std::optional<KeyState> from = lifecycle::StoredState(info.lifecycle);
    if (!from || !lifecycle::TransitionAllowed(*from, to)) {
      return Status(StatusCode::kFailedPrecondition, Reason::kAttributeReadOnly,
                    "key '" + info.label + "' is " + StoredName(info.lifecycle) + ": it cannot become " +
                        std::string(lifecycle::StateName(to)) + " (see docs/design/attributes.md, Key lifecycle)");
    }
    keys.push_back(std::move(info));
  }
  if (keys.empty()) {
    return Status(StatusCode::kNotFound, Reason::kObjectHandleInvalid,
                  "no matching key on the token; run `certvault list --login`");
  }
  return keys;
}

}  // namespace

void AddLifecycleJson(JsonObject* o, const ObjectInfo& info) {
  if (!IsKeyClass(info.object_class)) return;
  const AttributeSet& a = info.lifecycle;
  o->Add("state", EffectiveName(a)).Add("stored_state", StoredName(a));
  if (auto t = a.GetUlong(kCkaCvKeyStateTime)) o->Add("state_since", UtcTimeText(*t));
  o->Add("state_reason", DateOf(a, kCkaCvKeyStateReason));
  o->Add("start_date", DateOf(a, CKA_START_DATE)).Add("end_date", DateOf(a, CKA_END_DATE));
}

std::string LifecycleText(const ObjectInfo& info) {
  if (!IsKeyClass(info.object_class)) return "";
  const AttributeSet& a = info.lifecycle;
  std::string text = "  state=" + EffectiveName(a);
  if (EffectiveName(a) != StoredName(a)) text += " (stored " + StoredName(a) + ", by its dates)";
  std::string start = DateOf(a, CKA_START_DATE), end = DateOf(a, CKA_END_DATE);
  if (!start.empty() || !end.empty()) text += "  period=" + start + ".." + end;
  std::string reason = DateOf(a, kCkaCvKeyStateReason);
  if (!reason.empty()) text += "  reason=\"" + reason + "\"";
  return text;
}

Status CmdKey(Context& ctx) {
  const std::vector<std::string>& pos = ctx.args->positional();
  if (pos.size() != 1 || pos[0] != "state") {
    return InvalidArgumentError("usage: certvault key state --key K --set STATE [--reason TEXT]");
  }
  std::optional<std::string> set = ctx.args->Get("set");
  std::optional<KeyState> to = set ? lifecycle::ParseStateName(*set) : std::nullopt;
  if (!to) return InvalidArgumentError(std::string("--set must be ") + kStateNames);
  std::string reason = ctx.args->Get("reason").value_or("");
  CV_ASSIGN_OR_RETURN(ObjectSelector sel,
                      MakeSelector(ctx.args->Get("key"), ctx.args->Get("id"), ctx.args->Get("token")));
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, true, true, UserType::kUser, &sel));
  CV_ASSIGN_OR_RETURN(std::vector<ObjectInfo> keys, KeysToChange(t.session, sel, *to));
  std::vector<std::string> items;
  for (const ObjectInfo& key : keys) {
    AttributeSet change;
    change.SetUlong(kCkaCvKeyState, static_cast<uint64_t>(*to));
    if (!reason.empty()) change.SetString(kCkaCvKeyStateReason, reason);
    CV_RETURN_IF_ERROR(ctx.backend->SetAttributeValue(t.session.handle(), key.handle, change));
    const std::string uri = FormatPkcs11Uri(ObjectUri(t.token, key));
    if (ctx.json) {
      JsonObject o;
      o.Add("uri", uri)
          .Add("from", StoredName(key.lifecycle))
          .Add("to", lifecycle::StateName(*to))
          .Add("reason", reason);
      items.push_back(o.Build());
    } else {
      *ctx.out << uri << ": " << StoredName(key.lifecycle) << " -> " << lifecycle::StateName(*to) << "\n";
    }
  }
  if (ctx.json) *ctx.out << JsonArray(items) << "\n";
  return OkStatus();
}

}  // namespace certvault::cli
