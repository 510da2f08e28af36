#include "compiler/planner/plan.h"

#include <nlohmann/json.hpp>

namespace amlc::compiler::planner {

namespace {

using Json = nlohmann::json;

const char* Color(ActionType type) {
  switch (type) {
    case ActionType::kCreate: return "\033[32m";
    case ActionType::kUpdate: return "\033[33m";
    case ActionType::kReplace: return "\033[35m";
    case ActionType::kDelete: return "\033[31m";
    case ActionType::kRun: return "\033[36m";
  }
  return "";
}

std::string Plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

const char* ActionSymbol(ActionType type) {
  switch (type) {
    case ActionType::kCreate: return "+";
    case ActionType::kUpdate: return "~";
    case ActionType::kReplace: return "-/+";
    case ActionType::kDelete: return "-";
    case ActionType::kRun: return ">";
  }
  return "?";
}

const char* ActionName(ActionType type) {
  switch (type) {
    case ActionType::kCreate: return "create";
    case ActionType::kUpdate: return "update";
    case ActionType::kReplace: return "replace";
    case ActionType::kDelete: return "delete";
    case ActionType::kRun: return "run";
  }
  return "create";
}

int Plan::Count(ActionType type) const {
  int n = 0;
  for (const Action& action : actions) n += action.type == type;
  return n;
}

std::string PlanSummary(const Plan& plan) {
  int replaced = plan.Count(ActionType::kReplace);
  return "Plan: " + std::to_string(plan.Count(ActionType::kCreate) + replaced) + " to add, " +
         std::to_string(plan.Count(ActionType::kUpdate)) + " to change, " +
         std::to_string(plan.Count(ActionType::kDelete) + replaced) + " to destroy, " +
         Plural(plan.Count(ActionType::kRun), "run", "runs") + " to start.";
}

std::string PlanToText(const Plan& plan, bool color) {
  std::string out;
  const char* reset = color ? "\033[0m" : "";
  if (!plan.actions.empty()) out += "amlc will perform these actions:\n\n";
  for (const Action& action : plan.actions) {
    out += "  ";
    out += color ? Color(action.type) : "";
    out += ActionSymbol(action.type);
    out += reset;
    out += " " + action.resource_id;
    if (action.known_after_apply) out += " (known after apply)";
    out += "\n";
    for (const FieldChange& change : action.changes) {
      out += "      " + change.field + ": " + (change.old_value.empty() ? "(none)" : change.old_value) +
             " -> " + (change.new_value.empty() ? "(removed)" : change.new_value) + "\n";
    }
    for (const std::string& reason : action.reasons) out += "      " + reason + "\n";
  }
  if (!plan.deferred.empty()) {
    out += "\nNot carried out yet (listed, not applied):\n";
    for (const Deferred& d : plan.deferred) out += "  " + d.resource_id + ": " + d.reason + "\n";
  }
  if (!plan.warnings.empty()) {
    out += "\nWarnings:\n";
    for (const Deferred& d : plan.warnings) out += "  " + d.resource_id + ": " + d.reason + "\n";
  }
  if (!plan.held_back.empty()) {
    out += "\nHeld back (register_when does not hold):\n";
    for (const Deferred& d : plan.held_back) out += "  " + d.resource_id + ": " + d.reason + "\n";
  }
  if (!plan.unkeyed.empty()) {
    out += "\nUp to date though changed (these fields do not change a run's result):\n";
    for (const Deferred& d : plan.unkeyed) out += "  " + d.resource_id + ": " + d.reason + "\n";
  }
  if (plan.up_to_date > 0) {
    out += "\n" + Plural(plan.up_to_date, "resource", "resources") + " up to date.\n";
  }
  if (plan.actions.empty()) {
    out += "\nNo changes. The workspace matches the specs.\n";
  } else {
    out += "\n" + PlanSummary(plan) + "\n";
  }
  return out;
}

std::string PlanToJson(const Plan& plan) {
  Json json;
  json["format"] = "amlc-plan-1";
  json["state_serial"] = plan.state_serial;
  json["specs_digest"] = plan.specs_digest;
  json["specs_dir"] = plan.specs_dir;
  json["workspace"] = plan.workspace;
  json["up_to_date"] = plan.up_to_date;
  json["summary"] = {{"add", plan.Count(ActionType::kCreate) + plan.Count(ActionType::kReplace)},
                     {"change", plan.Count(ActionType::kUpdate)},
                     {"destroy", plan.Count(ActionType::kDelete) + plan.Count(ActionType::kReplace)},
                     {"run", plan.Count(ActionType::kRun)}};
  json["actions"] = Json::array();
  for (const Action& a : plan.actions) {
    Json changes = Json::array();
    for (const FieldChange& c : a.changes) {
      changes.push_back({{"field", c.field}, {"old", c.old_value}, {"new", c.new_value}});
    }
    json["actions"].push_back({{"action", ActionName(a.type)},
                               {"symbol", ActionSymbol(a.type)},
                               {"resource", a.resource_id},
                               {"kind", a.kind},
                               {"reasons", a.reasons},
                               {"changes", changes},
                               {"digest", a.digest},
                               {"run_key", a.run_key},
                               {"known_after_apply", a.known_after_apply},
                               {"after", a.after},
                               {"pool", a.pool}});
  }
  json["pools"] = plan.pools;
  json["completed_runs"] = plan.completed_runs;
  json["deferred"] = Json::array();
  for (const Deferred& d : plan.deferred) {
    json["deferred"].push_back({{"resource", d.resource_id}, {"reason", d.reason}});
  }
  if (!plan.warnings.empty()) {  // only when there are some, so plans without them read as before
    json["warnings"] = Json::array();
    for (const Deferred& d : plan.warnings) json["warnings"].push_back({{"resource", d.resource_id}, {"reason", d.reason}});
  }
  json["held_back"] = Json::array();
  for (const Deferred& d : plan.held_back) {
    json["held_back"].push_back({{"resource", d.resource_id}, {"reason", d.reason}});
  }
  if (!plan.unkeyed.empty()) {  // only when there are some, so plans without them read as before
    json["unkeyed"] = Json::array();
    for (const Deferred& d : plan.unkeyed) json["unkeyed"].push_back({{"resource", d.resource_id}, {"reason", d.reason}});
  }
  return json.dump(2) + "\n";
}

bool PlanFromJson(const std::string& text, Plan& plan, std::string& error) {
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded() || json.value("format", "") != "amlc-plan-1") {
    error = "not an amlc plan file";
    return false;
  }
  try {
    plan = Plan();
    plan.state_serial = json.at("state_serial").get<int64_t>();
    plan.specs_digest = json.at("specs_digest").get<std::string>();
    plan.specs_dir = json.value("specs_dir", "");
    plan.workspace = json.value("workspace", "");
    plan.up_to_date = json.at("up_to_date").get<int>();
    for (const Json& a : json.at("actions")) {
      Action action;
      std::string name = a.at("action").get<std::string>();
      for (ActionType type : {ActionType::kCreate, ActionType::kUpdate, ActionType::kReplace,
                              ActionType::kDelete, ActionType::kRun}) {
        if (name == ActionName(type)) action.type = type;
      }
      action.resource_id = a.at("resource").get<std::string>();
      action.kind = a.at("kind").get<std::string>();
      action.reasons = a.at("reasons").get<std::vector<std::string>>();
      for (const Json& c : a.at("changes")) {
        action.changes.push_back({c.at("field"), c.at("old"), c.at("new")});
      }
      action.digest = a.at("digest").get<std::string>();
      action.run_key = a.at("run_key").get<std::string>();
      action.known_after_apply = a.at("known_after_apply").get<bool>();
      action.after = a.at("after").get<std::vector<size_t>>();
      action.pool = a.value("pool", "");
      for (size_t after : action.after) {
        if (after >= plan.actions.size()) throw std::out_of_range("action order");
      }
      plan.actions.push_back(std::move(action));
    }
    plan.pools = json.value("pools", std::map<std::string, int>{});
    plan.completed_runs = json.value("completed_runs", std::map<std::string, std::string>{});
    for (const Json& d : json.at("deferred")) {
      plan.deferred.push_back({d.at("resource"), d.at("reason")});
    }
    for (const Json& d : json.value("warnings", Json::array())) {
      plan.warnings.push_back({d.at("resource"), d.at("reason")});
    }
    for (const Json& d : json.value("held_back", Json::array())) {
      plan.held_back.push_back({d.at("resource"), d.at("reason")});
    }
    for (const Json& d : json.value("unkeyed", Json::array())) {
      plan.unkeyed.push_back({d.at("resource"), d.at("reason")});
    }
  } catch (const std::exception& e) {
    error = std::string("malformed plan file: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace amlc::compiler::planner
