// Resolution: every PendingRef the binder recorded becomes a graph edge, or a
// diagnostic. References written in Azure ML's style (azureml:NAME) may name
// something that lives only in the workspace, so an unknown one is a warning;
// DSL references (compute.NAME) and job outputs must be declared in the specs.
#include <algorithm>
#include <cstdlib>

#include "compiler/sema/analyzer.h"
#include "compiler/support/curated_names.h"
#include "compiler/support/spelling.h"

namespace amlc::compiler::sema {

namespace {

ir::Value* WalkTo(ir::Value& root, const std::vector<std::string>& location) {
  ir::Value* value = &root;
  for (const std::string& step : location) {
    if (!value) return nullptr;
    if (!step.empty() && step[0] == '#') {
      size_t index = std::strtoul(step.c_str() + 1, nullptr, 10);
      if (!value->is_list() || index >= value->items().size()) return nullptr;
      value = &value->items()[index];
    } else {
      value = value->Find(step);
    }
  }
  return value;
}

bool VersionLess(const std::string& a, const std::string& b) {
  char* end_a = nullptr;
  char* end_b = nullptr;
  long long x = std::strtoll(a.c_str(), &end_a, 10);
  long long y = std::strtoll(b.c_str(), &end_b, 10);
  if (*end_a == '\0' && *end_b == '\0' && !a.empty() && !b.empty()) return x < y;
  return a < b;
}

}  // namespace

void Analyzer::ResolveAll() {
  // Resolving may load component files and so declare more resources; the
  // loops index rather than iterate because declared_ grows meanwhile.
  for (size_t i = 0; i < declared_.size(); ++i) {
    for (size_t j = 0; j < declared_[i].refs.size(); ++j) {
      PendingRef ref = declared_[i].refs[j];
      Resolve(i, ref);
    }
  }
}

std::optional<size_t> Analyzer::FindSpecFile(const PendingRef& ref) {
  if (!specs_.loaded(ref.file)) {
    if (!tree_.IsFile(ref.file)) {
      diagnostics_
          .Error(DiagCode::kMissingFile, ref.range,
                 "'" + ref.field + "' names " + ref.kind + " file '" + tree_.DisplayPath(ref.file) +
                     "', which does not exist")
          .Hint("paths are relative to the spec file; registered components are azureml:NAME:VERSION");
      return std::nullopt;
    }
    DeclareFile(ref.file);
  }
  for (size_t index : by_file_[ref.file]) {
    if (declared_[index].resource.kind == ref.kind && declared_[index].resource.parent.empty()) {
      return index;
    }
  }
  diagnostics_.Error(DiagCode::kDanglingReference, ref.range,
                     "'" + tree_.DisplayPath(ref.file) + "' holds no " + ref.kind);
  return std::nullopt;
}

std::optional<size_t> Analyzer::Lookup(const PendingRef& ref, std::string& resolved_id) {
  auto found = by_kind_name_.find(ref.kind + "/" + ref.name);
  if (found == by_kind_name_.end()) return std::nullopt;
  const std::vector<size_t>& candidates = found->second;
  if (!ref.version.empty()) {
    for (size_t index : candidates) {
      if (declared_[index].resource.version == ref.version) return index;
    }
    for (size_t index : candidates) {
      // An unversioned declaration registers versions as it changes, so any
      // version may come from it.
      if (declared_[index].resource.version.empty()) {
        resolved_id = ref.kind + "/" + ref.name + ":" + ref.version;
        return index;
      }
    }
    std::string known;
    for (size_t index : candidates) {
      known += (known.empty() ? "" : ", ") + declared_[index].resource.version;
    }
    diagnostics_
        .Error(DiagCode::kInvalidValue, ref.range,
               "unknown version '" + ref.version + "' of " + ref.kind + " '" + ref.name + "'")
        .Hint("versions declared in these specs: " + known);
    resolved_id.clear();
    return SIZE_MAX;
  }
  if (!ref.label.empty() && ref.label != "latest") {
    diagnostics_.Warning(DiagCode::kUnsupported, ref.range,
                         "label '@" + ref.label + "' is not supported; using @latest");
  }
  size_t best = candidates.front();
  for (size_t index : candidates) {
    const std::string& version = declared_[index].resource.version;
    const std::string& best_version = declared_[best].resource.version;
    if (version.empty() || (!best_version.empty() && VersionLess(best_version, version))) {
      best = index;
      if (version.empty()) break;
    }
  }
  return best;
}

void Analyzer::ReportUnresolved(const PendingRef& ref) {
  std::vector<std::string> names;
  for (const auto& [kind_name, indices] : by_kind_name_) {
    if (kind_name.compare(0, ref.kind.size() + 1, ref.kind + "/") == 0) {
      names.push_back(kind_name.substr(ref.kind.size() + 1));
    }
  }
  std::string message = ref.kind + " '" + ref.name + "' is not defined" + DidYouMean(ref.name, names);
  if (ref.from_dsl || ref.kind == "job" || ref.kind == "endpoint_traffic") {
    diagnostics_.Error(DiagCode::kDanglingReference, ref.range, message)
        .Hint("declare it in these specs, or fix the name");
  } else {
    diagnostics_.Warning(DiagCode::kExternalReference, ref.range,
                         message + " in these specs; it must exist in the workspace when applied");
  }
}

void Analyzer::Resolve(size_t from, PendingRef& ref) {
  std::optional<size_t> target;
  std::string resolved_id;
  if (!ref.file.empty()) {
    target = FindSpecFile(ref);
    if (!target) return;
  } else {
    target = Lookup(ref, resolved_id);
    if (target == SIZE_MAX) return;  // reported (unknown version)
    if (!target) {
      // An experiment named but not declared is created by the first run;
      // Azure's curated environments resolve through amlc's catalog at plan time.
      bool curated = ref.kind == "environment" && CuratedEnvironmentName(ref.name).has_value();
      if (ref.kind != "experiment" && !curated) ReportUnresolved(ref);
      if (ir::Value* value = WalkTo(declared_[from].resource.spec, ref.location)) {
        if (value->is_ref()) {
          ir::Ref external = value->as_ref();
          external.external = true;
          *value = ir::Value::Reference(external);
        }
      }
      return;
    }
  }
  const ir::Resource& resource = declared_[*target].resource;
  if (!ref.member.empty()) {
    std::string output = ref.member.substr(ref.member.find('.') + 1);
    const ir::Value* outputs = resource.spec.Find("outputs");
    // A sweep hands on its best trial's outputs: those its trial declares count too.
    const ir::Value* trial = resource.type == "sweep" ? resource.spec.Find("trial") : nullptr;
    if ((!outputs || !outputs->Find(output)) && trial && trial->is_map() && trial->Find("outputs")) {
      outputs = trial->Find("outputs");
    }
    if ((!outputs || !outputs->Find(output)) && !ref.logged_artifact) {
      std::vector<std::string> names;
      if (outputs && outputs->is_map()) {
        for (const auto& [name, value] : outputs->entries()) names.push_back(name);
      }
      diagnostics_
          .Error(DiagCode::kDanglingReference, ref.range,
                 "job '" + resource.name + "' has no output '" + output + "'" + DidYouMean(output, names))
          .Note(resource.range, "job '" + resource.name + "' is defined here");
      return;
    }
  }
  if (resolved_id.empty()) resolved_id = resource.id();
  if (ir::Value* value = WalkTo(declared_[from].resource.spec, ref.location)) {
    *value = ir::Value::Reference({resolved_id, ref.member, false});
  }
  if (*target == from) {
    diagnostics_.Error(DiagCode::kCycle, ref.range,
                       "dependency cycle: " + resource.id() + " -> " + resource.id())
        .Hint("a resource cannot depend on itself");
    return;
  }
  declared_[from].edges.emplace_back(*target, ref);
}

}  // namespace amlc::compiler::sema
