#ifndef AMLC_RECONCILER_LOOP_ROLLBACK_PIN_H_
#define AMLC_RECONCILER_LOOP_ROLLBACK_PIN_H_

// `amlc rollback SYNC`: the reconciler applies the commit of an earlier sync
// and holds it there ("paused") until the branch gets a new head. The pin is
// kept in the state store, so a restarted reconciler stays paused.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/state/state_store.h"

namespace amlc::reconciler {

struct RollbackPin {
  int64_t sync_id = 0;      // the sync rolled back to
  std::string commit;       // its commit: what the reconciler applies while paused
  std::string paused_head;  // the branch head when the rollback ran; "" until then
  std::string by;           // who asked
  int64_t at = 0;           // when it was asked (ms since the epoch)

  /// A new push (a head other than the one paused on) ends the pause.
  bool EndedBy(const std::string& head) const {
    return !paused_head.empty() && !head.empty() && head != paused_head;
  }
  /// What /api/status shows under "paused".
  nlohmann::json ToJson(const std::string& branch) const;
};

/// The pin the state store holds, or nullopt when auto-sync is not paused.
std::optional<RollbackPin> LoadRollbackPin(runtime::StateStore& state);
/// Saves `pin`, or clears it (auto-sync resumes) when it is nullopt.
Status SaveRollbackPin(runtime::StateStore& state, const std::optional<RollbackPin>& pin);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_ROLLBACK_PIN_H_
