// Deployment defaults live in one place (runtime/deploy/deployment_settings.h):
// the Kubernetes renderer and the local target's desired state must get the
// same numbers from one spec.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/deploy/deployment_settings.h"
#include "runtime/deploy/kubernetes_jobs.h"
#include "runtime/deploy/kubernetes_manifests.h"
#include "runtime/deploy/local_endpoints.h"
#include "tests/test_support.h"

using namespace amlc::testing;
namespace deploy = amlc::runtime::deploy;
using nlohmann::json;

namespace {

const std::string kDeploymentHeader =
    "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
    "name: blue\nendpoint_name: iris\nimage: azureml:iris-image@latest\n";

// A rendered YAML document as JSON (python3-yaml reads it, as in render_test).
json YamlToJson(const std::string& yaml) {
  SpecDir dir;
  dir.Write("doc.yaml", yaml);
  std::string out;
  int status = Run("/usr/bin/python3 -c 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))' < " +
                       dir.str() + "/doc.yaml",
                   &out);
  return status == 0 ? json::parse(out, nullptr, false) : json();
}

// The deployment "blue" of `yaml` (after the header), compiled.
amlc::compiler::ir::Resource CompiledDeployment(const std::string& yaml) {
  auto compilation = CompileFiles({{"deployment.yaml", kDeploymentHeader + yaml}});
  INFO(Rendered(*compilation));
  REQUIRE_FALSE(compilation->diagnostics.has_errors());
  auto index = compilation->graph.Find("deployment/blue");
  REQUIRE(index);
  return compilation->graph.resource(*index);
}

struct K8sObjects {
  json deployment;
  json hpa;  // null without autoscale
};

K8sObjects RenderOne(const amlc::compiler::ir::Resource& deployment) {
  deploy::WebServiceInput input;
  input.deployment = &deployment;
  input.image = {"iris-image", 1, "sha256:" + std::string(64, 'a'),
                 "127.0.0.1:5000/iris-image@sha256:" + std::string(64, 'a'), "127.0.0.1:5000", true};
  auto result = deploy::RenderKubernetes({input}, {});
  REQUIRE(result.ok());
  K8sObjects out;
  for (const deploy::RenderedFile& file : result->files) {
    if (file.kind == "Deployment") out.deployment = YamlToJson(file.contents);
    if (file.kind == "HorizontalPodAutoscaler") out.hpa = YamlToJson(file.contents);
  }
  REQUIRE(out.deployment.is_object());
  return out;
}

}  // namespace

TEST_CASE("the Kubernetes HPA and the local desired state get the same numbers from one spec", "[deploy]") {
  // Each spec: its expected min, max, starting count and readiness window (s).
  struct Case {
    std::string yaml;
    int min, max, replicas;
    double readiness_s;
  };
  const Case cases[] = {
      // The quickstart's: the schema fills the windows in.
      {"instance_count: 1\nautoscale:\n  min: 1\n  max: 3\n", 1, 3, 1, 310},
      // Azure's scale_settings without max_instances: the same max of 3 as autoscale's.
      {"instance_count: 1\nscale_settings:\n  type: target_utilization\n  min_instances: 2\n", 2, 3, 2, 310},
      // A min of 0 becomes 1 on both; a probe sets the readiness window.
      {"instance_count: 4\nautoscale:\n  min: 0\n  max: 5\n  scale_up_after: 30\n  scale_down_after: 2m\n"
       "readiness_probe:\n  initial_delay: 3\n  period: 4\n  failure_threshold: 5\n",
       1, 5, 4, 23},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    amlc::compiler::ir::Resource deployment = CompiledDeployment(c.yaml);
    deploy::DeploymentSettings settings = deploy::DeploymentSettingsFromSpec(deployment.spec);
    amlc::runtime::endpoint::DeploymentSpec local = amlc::runtime::ScaledDeploymentSpec(settings);
    K8sObjects k8s = RenderOne(deployment);
    REQUIRE(k8s.hpa.is_object());
    const json& hpa = k8s.hpa["spec"];

    CHECK(local.autoscale.enabled);
    CHECK(local.autoscale.min == c.min);
    CHECK(hpa["minReplicas"] == c.min);
    CHECK(local.autoscale.max == c.max);
    CHECK(hpa["maxReplicas"] == c.max);
    CHECK(local.instance_count == c.replicas);
    CHECK(k8s.deployment["spec"]["replicas"] == c.replicas);
    CHECK(hpa["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == local.autoscale.scale_up_after_s);
    CHECK(hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == local.autoscale.scale_down_after_s);
    CHECK(local.readiness_timeout_s == c.readiness_s);
    const json& probe = k8s.deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"];
    CHECK(probe["initialDelaySeconds"].get<double>() +
              probe["periodSeconds"].get<double>() * probe["failureThreshold"].get<double>() ==
          local.readiness_timeout_s);
  }
}

TEST_CASE("deployment settings take the documented defaults and note what they adjust", "[deploy]") {
  deploy::DeploymentSettings fixed = deploy::DeploymentSettingsFromSpec(CompiledDeployment("").spec);
  CHECK_FALSE(fixed.autoscale.enabled);
  CHECK(fixed.instance_count == 1);
  CHECK(fixed.ReadinessTimeoutS() == deploy::kDefaultReadinessTimeoutS);
  CHECK(fixed.notes.empty());

  deploy::DeploymentSettings scaled = deploy::DeploymentSettingsFromSpec(
      CompiledDeployment("workers_per_replica: 2\nautoscale:\n  min: 0\n").spec);
  CHECK(scaled.autoscale.enabled);
  CHECK(scaled.autoscale.max == deploy::kDefaultMaxReplicas);
  CHECK(scaled.autoscale.scale_up_after_s == deploy::kDefaultScaleUpAfterS);
  CHECK(scaled.autoscale.scale_down_after_s == deploy::kDefaultScaleDownAfterS);
  CHECK(scaled.TargetInFlightPerReplica() == 2.0);
  REQUIRE(scaled.notes.size() == 1);
  CHECK(scaled.notes[0] == "no target scales to zero replicas: the minimum is 1, not 0");

  // The endpoint host's own defaults (a hand-written desired.json) are the same.
  amlc::runtime::endpoint::AutoscaleSpec host;
  CHECK(host.max == deploy::kDefaultMaxReplicas);
  CHECK(host.scale_up_after_s == deploy::kDefaultScaleUpAfterS);
  CHECK(host.scale_down_after_s == deploy::kDefaultScaleDownAfterS);
  CHECK(amlc::runtime::endpoint::DeploymentSpec{}.readiness_timeout_s == deploy::kDefaultReadinessTimeoutS);
}
