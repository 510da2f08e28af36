#include "compiler/planner/external_refs.h"

#include <algorithm>
#include <set>

#include "compiler/support/curated_names.h"
#include "compiler/support/spelling.h"

namespace amlc::compiler::planner {

namespace {

// The kinds a workspace holds outside any specs folder.
const std::set<std::string>& CheckedKinds() {
  static const std::set<std::string> kinds = {"compute", "environment", "data", "model"};
  return kinds;
}

void CollectRefs(const ir::Value& value, std::vector<ir::Ref>& out) {
  if (value.is_ref()) {
    out.push_back(value.as_ref());
  } else if (value.is_map()) {
    for (const auto& [key, item] : value.entries()) CollectRefs(item, out);
  } else if (value.is_list()) {
    for (const ir::Value& item : value.items()) CollectRefs(item, out);
  }
}

// "compute/gpu-cluster", "model/iris:3", "data/iris@latest" -> kind, name, version.
struct Parsed {
  std::string kind, name, version;
};

Parsed Parse(const std::string& target) {
  Parsed parsed;
  size_t slash = target.find('/');
  parsed.kind = target.substr(0, slash);
  std::string rest = slash == std::string::npos ? "" : target.substr(slash + 1);
  rest = rest.substr(0, rest.find('@'));  // a label (@latest) asks for any version
  size_t colon = rest.find(':');
  parsed.name = rest.substr(0, colon);
  if (colon != std::string::npos) parsed.version = rest.substr(colon + 1);
  return parsed;
}

}  // namespace

const std::vector<std::string>& ExternalReferences::Held(const std::string& kind) {
  auto found = held_.find(kind);
  if (found == held_.end()) found = held_.emplace(kind, in_workspace_(kind)).first;
  return found->second;
}

std::vector<std::string> ExternalReferences::Missing(const ir::Resource& resource) {
  std::vector<ir::Ref> refs;
  CollectRefs(resource.spec, refs);
  std::vector<std::string> messages;
  for (const ir::Ref& ref : refs) {
    if (!ref.external) continue;
    if (std::string message = Check(resource, ref); !message.empty()) messages.push_back(message);
  }
  return messages;
}

std::string ExternalReferences::Check(const ir::Resource& resource, const ir::Ref& ref) {
  Parsed wanted = Parse(ref.target);
  if (!CheckedKinds().count(wanted.kind) || wanted.name.empty()) return "";  // URIs, registries
  // Curated environments are in amlc's catalog, which the job driver reads.
  if (wanted.kind == "environment" && CuratedEnvironmentName(wanted.name)) return "";
  const std::vector<std::string>& held = Held(wanted.kind);
  std::string exact = wanted.version.empty() ? wanted.name : wanted.name + ":" + wanted.version;
  if (std::find(held.begin(), held.end(), exact) != held.end()) return "";
  std::string who = resource.kind + " " + resource.name + ": ";
  std::string what = wanted.kind == "data" ? "data asset" : wanted.kind;
  std::vector<std::string> versions;
  for (const std::string& entry : held) {
    if (entry.size() > wanted.name.size() && entry.compare(0, wanted.name.size() + 1, wanted.name + ":") == 0) {
      versions.push_back(entry.substr(wanted.name.size() + 1));
    }
  }
  bool name_known = std::find(held.begin(), held.end(), wanted.name) != held.end();
  if (!wanted.version.empty() && (name_known || !versions.empty())) {
    std::string known;
    for (const std::string& version : versions) known += (known.empty() ? "" : ", ") + version;
    return who + what + " '" + wanted.name + "' has no version " + wanted.version +
           " in these specs or in the workspace" + (known.empty() ? "" : " (it has " + known + ")");
  }
  std::vector<std::string> names;
  for (const ir::Resource& declared : graph_.resources()) {
    if (declared.kind == wanted.kind && declared.parent.empty()) names.push_back(declared.name);
  }
  for (const std::string& entry : held) {
    if (entry.find(':') == std::string::npos) names.push_back(entry);
  }
  return who + what + " '" + wanted.name + "' is neither in these specs nor in the workspace" +
         DidYouMean(wanted.name, names);
}

}  // namespace amlc::compiler::planner
