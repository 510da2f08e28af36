// Cross-field value checks: rules no single field's schema can state
// (traffic summing to 100, a distribution's parameters, what an ssh target
// needs). Each reports at the field it is about.
#include <algorithm>
#include <cmath>

#include "compiler/sema/analyzer.h"
#include "compiler/support/spelling.h"

namespace amlc::compiler::sema {

namespace {

}  // namespace

void Analyzer::CheckValues(size_t index) {
  const ir::Resource& resource = declared_[index].resource;
  if (resource.kind == "endpoint") CheckEndpointTraffic(index);
  if (resource.kind == "compute") CheckCompute(index);
  if (resource.kind == "job" && resource.type == "sweep") CheckSearchSpace(index);
  if (resource.kind == "job" || resource.kind == "schedule") CheckSchedule(index);
  if (resource.kind == "image" && resource.spec.StringAt("kind") == "fpga") {
    diagnostics_
        .Warning(DiagCode::kUnsupported, FieldRange(index, {"kind"}),
                 "image '" + resource.name + "' is of kind fpga, which no available target can run")
        .Hint("the local and kubernetes targets run docker images; the spec is kept, nothing is built");
  }
}

void Analyzer::CheckEndpointTraffic(size_t index) {
  const ir::Resource& endpoint = declared_[index].resource;
  const ir::Value* traffic = endpoint.spec.Find("traffic");
  if (!traffic || !traffic->is_map() || traffic->entries().empty()) return;
  std::vector<std::string> deployments;
  for (const Declared& other : declared_) {
    const ir::Value* target = other.resource.spec.Find("endpoint_name");
    if (other.resource.kind == "deployment" && target && target->is_ref() &&
        target->as_ref().target == endpoint.id()) {
      deployments.push_back(other.resource.name);
    }
  }
  int64_t sum = 0;
  for (const auto& [deployment, percent] : traffic->entries()) {
    sum += percent.type() == ir::Value::Type::kInt ? percent.as_int() : 0;
    if (std::find(deployments.begin(), deployments.end(), deployment) != deployments.end()) continue;
    const ast::Node* traffic_node = FieldNode(index, {"traffic"});
    SourceRange range = traffic_node ? traffic_node->range : endpoint.range;
    for (const ast::Entry& entry : traffic_node ? traffic_node->entries : std::vector<ast::Entry>{}) {
      if (entry.key == deployment) range = entry.key_range;
    }
    std::string message = "traffic names deployment '" + deployment + "', which does not serve endpoint '" +
                          endpoint.name + "'" + DidYouMean(deployment, deployments);
    if (deployments.empty()) {
      diagnostics_.Warning(DiagCode::kExternalReference, range,
                           message + " in these specs; it must exist in the workspace when applied");
    } else {
      diagnostics_.Error(DiagCode::kDanglingReference, range, message);
    }
  }
  if (sum != 100 && sum != 0) {
    diagnostics_
        .Error(DiagCode::kInvalidValue, KeyRange(index, "traffic"),
               "traffic of endpoint '" + endpoint.name + "' sums to " + std::to_string(sum) +
                   "%, not 100%")
        .Hint("give each deployment its percent so that they add up to 100");
  }
}

void Analyzer::CheckCompute(size_t index) {
  const ir::Resource& compute = declared_[index].resource;
  const ir::Value& spec = compute.spec;
  if (compute.type == "ssh") {
    const ir::Value* settings = spec.Find("ssh_settings");
    bool has_host = spec.Find("host") || (settings && settings->Find("address")) ||
                    spec.Find("resource_id");
    if (!has_host) {
      diagnostics_.Error(DiagCode::kMissingField, compute.range,
                         "ssh compute '" + compute.name + "' needs 'host'")
          .Hint("give the host name or address of the Linux machine");
    }
  }
  int64_t min_instances = spec.IntAt("min_instances", 0);
  int64_t max_instances = spec.IntAt("max_instances", 1);
  if (min_instances > max_instances) {
    diagnostics_.Error(DiagCode::kInvalidValue, FieldRange(index, {"min_instances"}),
                       "min_instances (" + std::to_string(min_instances) +
                           ") is larger than max_instances (" + std::to_string(max_instances) + ")");
  }
  // local and ssh are one machine that is always there: no node to add, keep
  // or release. What bounds their runs is max_concurrent.
  if (compute.type == "local" || compute.type == "ssh") {
    for (const char* field : {"min_instances", "max_instances", "idle_time_before_scale_down"}) {
      const ir::Value* value = spec.Find(field);
      bool meaningful = value && (std::string(field) == "idle_time_before_scale_down" ||
                                  (value->type() == ir::Value::Type::kInt && value->as_int() > 1));
      if (!meaningful) continue;
      diagnostics_
          .Warning(DiagCode::kUnsupported, FieldRange(index, {field}),
                   compute.type + " compute '" + compute.name + "' is one machine that amlc neither starts nor stops: '" +
                       field + "' is recorded and has no effect")
          .Hint("runs on it at once are bounded by max_concurrent");
    }
  }
}

void Analyzer::CheckDeployment(size_t index) {
  const ir::Resource& deployment = declared_[index].resource;
  const ir::Value& spec = deployment.spec;
  // Azure ML's CLI takes these from its command line too (--endpoint-name,
  // --set model=...), so specs without them are common: warn here, and plan
  // refuses to deploy them.
  bool web_service = deployment.type != "iot_module";
  if (web_service && !spec.Find("endpoint_name")) {
    std::vector<size_t> endpoints;
    for (size_t i = 0; i < declared_.size(); ++i) {
      if (declared_[i].resource.kind == "endpoint") endpoints.push_back(i);
    }
    if (endpoints.size() == 1) {
      const ir::Resource& endpoint = declared_[endpoints[0]].resource;
      declared_[index].resource.spec.Set("endpoint_name", ir::Value::Reference({endpoint.id(), "", false}));
      PendingRef why;
      why.field = "endpoint_name";
      why.range = deployment.range;
      declared_[index].edges.emplace_back(endpoints[0], std::move(why));
    } else {
      diagnostics_.Warning(DiagCode::kMissingField, deployment.range,
                           "deployment '" + deployment.name + "' names no endpoint_name" +
                               (endpoints.empty() ? "" : " and these specs declare several endpoints"))
          .Hint("it cannot be applied until it names the endpoint that receives its requests");
    }
  }
  if (!spec.Find("image") && !spec.Find("model")) {
    diagnostics_.Warning(DiagCode::kMissingField, deployment.range,
                         "deployment '" + deployment.name + "' has no 'image' or 'model'")
        .Hint("it cannot be applied until it gives an image, or a model with code_configuration");
  }
  auto check_bounds = [&](const char* object, const char* low, const char* high, int64_t low_default,
                          int64_t high_default) {
    const ir::Value* settings = spec.Find(object);
    if (!settings || !settings->is_map()) return;
    int64_t lo = settings->IntAt(low, low_default);
    int64_t hi = settings->IntAt(high, high_default);
    if (lo > hi) {
      diagnostics_.Error(DiagCode::kInvalidValue, FieldRange(index, {object}),
                         std::string(object) + "." + low + " (" + std::to_string(lo) + ") is larger than " +
                             high + " (" + std::to_string(hi) + ")");
    }
  };
  check_bounds("autoscale", "min", "max", 1, 3);
  check_bounds("scale_settings", "min_instances", "max_instances", 0, INT64_MAX);
}

void Analyzer::CheckSearchSpace(size_t index) {
  const ir::Value* space = declared_[index].resource.spec.Find("search_space");
  if (!space || !space->is_map()) return;
  for (const auto& entry : space->entries()) {
    // Named references, not a structured binding: clang before 16 cannot
    // capture structured bindings in the lambda below.
    const auto& name = entry.first;
    const auto& distribution = entry.second;
    std::string type = distribution.StringAt("type");
    SourceRange range = FieldRange(index, {"search_space", name});
    auto need = [&](std::initializer_list<const char*> fields) {
      for (const char* field : fields) {
        if (!distribution.Find(field)) {
          diagnostics_.Error(DiagCode::kMissingField, range,
                             "search space '" + name + "' (" + type + ") needs '" + field + "'");
        }
      }
    };
    if (type == "choice") {
      need({"values"});
      const ir::Value* values = distribution.Find("values");
      if (values && values->is_list() && values->items().empty()) {
        diagnostics_.Error(DiagCode::kInvalidValue, range, "search space '" + name + "' has no values");
      }
    } else if (type == "randint") {
      need({"upper"});
    } else if (type == "uniform" || type == "loguniform" || type == "quniform" || type == "qloguniform") {
      need({"min_value", "max_value"});
      const ir::Value* lo = distribution.Find("min_value");
      const ir::Value* hi = distribution.Find("max_value");
      if (lo && hi && lo->as_double() >= hi->as_double()) {
        diagnostics_.Error(DiagCode::kInvalidValue, range,
                           "search space '" + name + "': min_value must be below max_value");
      }
    } else if (type == "normal" || type == "lognormal" || type == "qnormal" || type == "qlognormal") {
      need({"mu", "sigma"});
    }
    if (!type.empty() && type[0] == 'q') need({"q"});
  }
}

}  // namespace amlc::compiler::sema
