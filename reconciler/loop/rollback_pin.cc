#include "reconciler/loop/rollback_pin.h"

namespace amlc::reconciler {

using nlohmann::json;

namespace {

// One reconciler value holds the whole pin as JSON; "" means no pin.
constexpr const char* kPinKey = "rollback_pin";

}  // namespace

json RollbackPin::ToJson(const std::string& branch) const {
  return {{"sync", sync_id},   {"commit", commit}, {"paused_head", paused_head},
          {"by", by},          {"at", at},         {"until", "the next push to " + branch}};
}

std::optional<RollbackPin> LoadRollbackPin(runtime::StateStore& state) {
  StatusOr<std::string> text = state.GetReconcilerValue(kPinKey);
  if (!text.ok() || text->empty()) return std::nullopt;
  json saved = json::parse(*text, nullptr, false);
  if (!saved.is_object() || !saved.contains("commit")) return std::nullopt;
  RollbackPin pin;
  pin.sync_id = saved.value("sync", int64_t{0});
  pin.commit = saved.value("commit", "");
  pin.paused_head = saved.value("paused_head", "");
  pin.by = saved.value("by", "");
  pin.at = saved.value("at", int64_t{0});
  return pin;
}

Status SaveRollbackPin(runtime::StateStore& state, const std::optional<RollbackPin>& pin) {
  return state.SetReconcilerValue(kPinKey, pin ? pin->ToJson("").dump() : "");
}

}  // namespace amlc::reconciler
