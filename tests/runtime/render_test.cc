// `amlc render` end to end through the amlc binary: a real spec folder, a
// real SQLite state store holding a pushed image, and kubectl (offline: no
// cluster is reachable) reading the manifests back.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/deploy/kubernetes_manifests.h"
#include "runtime/state/state_store.h"
#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kDigest = "sha256:" + std::string(60, 'c') + "0123";
const std::string kPushedTo = "127.0.0.1:5000/team/iris-image:1";
const std::string kPinned = "127.0.0.1:5000/team/iris-image@" + kDigest;
const std::string kDeployment =
    "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n";
const std::string kEndpoint =
    "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n";


bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The quickstart's specs in DIR/specs (outputs go beside, never inside: the
// compiler would read them), with a workspace whose image registry already
// holds iris-image:1, pushed to kPushedTo when `pushed`.
std::string Quickstart(SpecDir& dir, bool pushed = true) {
  fs::path specs = dir.path() / "specs";
  fs::copy(SourcePath("examples/quickstart"), specs, fs::copy_options::recursive);
  fs::remove_all(specs / ".amlc");
  fs::create_directories(specs / ".amlc");
  auto store = amlc::runtime::OpenSqliteStore((specs / ".amlc/state.db").string());
  INFO(store.status().message());
  REQUIRE(store.ok());
  amlc::runtime::ImageRecord image;
  image.name = "iris-image";
  image.digest = kDigest;
  image.build_key = "sha256:build-key";
  image.resource_id = "image/iris-image";
  auto recorded = store.value()->RecordImage(image);
  INFO(recorded.status().message());
  REQUIRE(recorded.ok());
  REQUIRE(recorded->version == 1);
  if (pushed) REQUIRE(store.value()->RecordImagePush("iris-image", 1, kPushedTo, kDigest).ok());
  return specs.string();
}

// Every YAML document of `command`'s output (or of a file, with `cat`), as JSON.
json YamlDocuments(const std::string& command) {
  std::string out;
  int status = Run(command +
                       " | /usr/bin/python3 -c 'import sys, json, yaml; "
                       "print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))'",
                   &out);
  if (status != 0) return json();
  return json::parse(out, nullptr, false);
}

json YamlFile(const fs::path& path) {
  json documents = YamlDocuments("cat " + path.string());
  return documents.is_array() && documents.size() == 1 ? documents[0] : json();
}

bool HaveKubectl() {
  bool found = Run("command -v kubectl >/dev/null 2>&1") == 0;
  if (!found) WARN("kubectl is missing: run scripts/install-deps.sh (it installs kubernetes-client)");
  return found;
}

std::map<std::string, std::string> Files(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), folder).string()] = ReadFile(entry.path());
  }
  return files;
}

}  // namespace

TEST_CASE("render --target kubernetes writes a Deployment, Service and HPA that kubectl reads", "[render]") {
  REQUIRE(HaveKubectl());
  SpecDir dir;
  std::string specs = Quickstart(dir);
  fs::path out_dir = dir.path() / "out";
  std::string out;
  REQUIRE(Run(Amlc("render " + specs + " --target kubernetes -o " + out_dir.string() + " 2>&1"), &out) == 0);
  INFO(out);
  for (const char* name : {"iris-blue-deployment.yaml", "iris-blue-service.yaml", "iris-blue-hpa.yaml",
                           "kustomization.yaml", "README.md"}) {
    CHECK(fs::is_regular_file(out_dir / name));
  }
  // The workspace has no keys for the deployment: no Secret, and a note saying how to get one.
  CHECK_FALSE(fs::exists(out_dir / "iris-blue-secret.yaml"));
  CHECK(Contains(out, "--with-secrets"));

  // kubectl parses every manifest the kustomization lists.
  json built = YamlDocuments("kubectl kustomize " + out_dir.string());
  REQUIRE(built.is_array());
  std::multiset<std::string> kinds;
  for (const json& document : built) kinds.insert(document.value("kind", ""));
  CHECK(kinds == std::multiset<std::string>{"Deployment", "HorizontalPodAutoscaler", "Service"});

  // The Deployment has the shape kubectl's own generator gives it.
  json deployment = YamlFile(out_dir / "iris-blue-deployment.yaml");
  json reference = YamlDocuments("kubectl create deployment iris-blue --image=" + kPinned + " --dry-run=client -o yaml");
  REQUIRE(deployment.is_object());
  REQUIRE(reference.is_array());
  REQUIRE(reference.size() == 1);
  reference = reference[0];
  CHECK(deployment["apiVersion"] == reference["apiVersion"]);
  CHECK(deployment["kind"] == reference["kind"]);
  CHECK(deployment["metadata"]["name"] == reference["metadata"]["name"]);
  for (const json* d : {&deployment, &reference}) {
    const json& match = (*d)["spec"]["selector"]["matchLabels"];
    REQUIRE(match.is_object());
    CHECK_FALSE(match.empty());
    for (const auto& [key, value] : match.items()) {
      CHECK(value.is_string());
      CHECK((*d)["spec"]["template"]["metadata"]["labels"][key] == value);
    }
  }
  const json& container = deployment["spec"]["template"]["spec"]["containers"][0];
  CHECK(container["image"] == reference["spec"]["template"]["spec"]["containers"][0]["image"]);
  CHECK(container["image"] == kPinned);  // pinned by digest
  CHECK(deployment["spec"]["replicas"] == 1);
  CHECK(container["ports"][0]["containerPort"] == 5001);
  std::map<std::string, std::string> env;
  for (const json& variable : container["env"]) env[variable["name"]] = variable.value("value", "");
  CHECK(env["AMLC_WORKERS"] == "2");
  CHECK(env["AMLC_PORT"] == "5001");
  CHECK(container["readinessProbe"]["httpGet"]["path"] == "/health/ready");
  CHECK(container["livenessProbe"]["httpGet"]["path"] == "/");
  CHECK(deployment["metadata"]["labels"]["amlc.ai/endpoint"] == "iris");
  CHECK(deployment["metadata"]["labels"]["amlc.ai/deployment"] == "blue");

  json service = YamlFile(out_dir / "iris-blue-service.yaml");
  CHECK(service["spec"]["type"] == "ClusterIP");
  CHECK(service["spec"]["ports"][0]["port"] == 80);
  CHECK(service["spec"]["ports"][0]["targetPort"] == 5001);
  CHECK(service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]);

  // The quickstart's autoscale: min 1, max 3.
  json hpa = YamlFile(out_dir / "iris-blue-hpa.yaml");
  CHECK(hpa["apiVersion"] == "autoscaling/v2");
  CHECK(hpa["spec"]["minReplicas"] == 1);
  CHECK(hpa["spec"]["maxReplicas"] == 3);
  CHECK(hpa["spec"]["scaleTargetRef"]["name"] == "iris-blue");
}

TEST_CASE("render writes the same bytes for the same specs and registry", "[render]") {
  SpecDir dir;
  std::string specs = Quickstart(dir);
  for (const char* target : {"kubernetes", "iot-edge"}) {
    if (std::string(target) == "iot-edge") {
      dir.Write("specs/edge.yaml", kDeployment + "name: edge\ntype: iot_module\nimage: azureml:iris-image@latest\n"
                             "iot:\n  device_id: camera-7\n");
    }
    fs::path first = dir.path() / (std::string(target) + "-1");
    fs::path second = dir.path() / (std::string(target) + "-2");
    REQUIRE(Run(Amlc("render " + specs + " --target " + target + " -o " + first.string() + " >/dev/null 2>&1")) == 0);
    REQUIRE(Run(Amlc("render " + specs + " --target " + target + " -o " + second.string() + " >/dev/null 2>&1")) == 0);
    std::map<std::string, std::string> a = Files(first);
    CHECK_FALSE(a.empty());
    CHECK(a == Files(second));
  }
}

TEST_CASE("render puts the workspace's keys in a Secret, and generates them only with --with-secrets", "[render]") {
  REQUIRE(HaveKubectl());
  SpecDir dir;
  std::string specs = Quickstart(dir);
  // Where the local target keeps the deployment's keys.
  dir.Write("specs/.amlc/endpoints/iris/keys/blue.json", R"({"primary": "k-one", "secondary": "k-two"})");
  fs::path out_dir = dir.path() / "out";
  REQUIRE(Run(Amlc("render " + specs + " --target kubernetes -o " + out_dir.string() + " >/dev/null 2>&1")) == 0);
  fs::path secret_file = out_dir / "iris-blue-secret.yaml";
  REQUIRE(fs::is_regular_file(secret_file));
  CHECK((fs::status(secret_file).permissions() & fs::perms::others_read) == fs::perms::none);
  CHECK(Contains(ReadFile(out_dir / ".gitignore"), "*-secret.yaml"));
  json secret = YamlFile(secret_file);
  CHECK(secret["kind"] == "Secret");
  CHECK(secret["type"] == "Opaque");
  CHECK(secret["stringData"]["primary-key"] == "k-one");
  CHECK(secret["stringData"]["secondary-key"] == "k-two");
  CHECK(json::parse(secret["stringData"]["keys.json"].get<std::string>()) ==
        json({{"primary", "k-one"}, {"secondary", "k-two"}}));
  json built = YamlDocuments("kubectl kustomize " + out_dir.string());
  REQUIRE(built.is_array());
  CHECK(built.size() == 4);
  // The replicas read the keys file the Secret is mounted as.
  json deployment = YamlFile(out_dir / "iris-blue-deployment.yaml");
  CHECK(deployment["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "iris-blue-keys");
  bool keys_file = false;
  for (const json& variable : deployment["spec"]["template"]["spec"]["containers"][0]["env"]) {
    keys_file = keys_file || variable["name"] == "AMLC_KEYS_FILE";
  }
  CHECK(keys_file);

  // No keys in the workspace: none unless asked for, then fresh random ones.
  fs::remove_all(fs::path(specs) / ".amlc/endpoints");
  fs::path generated = dir.path() / "generated";
  REQUIRE(Run(Amlc("render " + specs + " --target kubernetes --with-secrets -o " + generated.string() +
                   " >/dev/null 2>&1")) == 0);
  json fresh = YamlFile(generated / "iris-blue-secret.yaml");
  std::string primary = fresh["stringData"]["primary-key"];
  CHECK(primary.size() == 64);
  CHECK(primary != fresh["stringData"]["secondary-key"]);
}

TEST_CASE("render --target iot-edge writes an IoT Edge deployment manifest with the module's image and env",
          "[render]") {
  SpecDir dir;
  std::string specs = Quickstart(dir);
  dir.Write("specs/edge.yaml",
            kDeployment +
            "name: edge\ntype: iot_module\nimage: azureml:iris-image:1\nworkers_per_replica: 3\n"
            "environment_variables:\n  MODE: edge\n  THRESHOLD: 0.5\n"
            "iot:\n  device_id: camera-7\n  module_name: irisscorer\n");
  fs::path out_dir = dir.path() / "out";
  std::string out;
  REQUIRE(Run(Amlc("render " + specs + " --target iot-edge --json -o " + out_dir.string()), &out) == 0);
  json printed = json::parse(out, nullptr, false);
  REQUIRE(printed.is_object());
  CHECK(printed["deployments"][0]["device_id"] == "camera-7");
  CHECK(printed["deployments"][0]["image"]["reference"] == kPinned);

  json manifest = json::parse(ReadFile(out_dir / "edge/deployment.json"), nullptr, false);
  REQUIRE(manifest.is_object());
  CHECK(manifest["$schema-template"] == "4.0.0");
  const json& agent = manifest["modulesContent"]["$edgeAgent"]["properties.desired"];
  CHECK(agent["schemaVersion"] == "1.1");
  CHECK(agent["runtime"]["type"] == "docker");
  CHECK(agent["runtime"]["settings"]["registryCredentials"]["amlc"]["address"] == "127.0.0.1:5000");
  CHECK(agent["systemModules"]["edgeAgent"]["settings"]["image"] == "mcr.microsoft.com/azureiotedge-agent:1.5");
  CHECK(agent["systemModules"]["edgeHub"]["settings"]["image"] == "mcr.microsoft.com/azureiotedge-hub:1.5");
  const json& module = agent["modules"]["irisscorer"];
  REQUIRE(module.is_object());
  CHECK(module["type"] == "docker");
  CHECK(module["status"] == "running");
  CHECK(module["restartPolicy"] == "always");
  CHECK(module["settings"]["image"] == kPinned);
  json create = json::parse(module["settings"]["createOptions"].get<std::string>(), nullptr, false);
  CHECK(create["ExposedPorts"].contains("5001/tcp"));
  CHECK(create["HostConfig"]["PortBindings"]["5001/tcp"][0]["HostPort"] == "5001");
  CHECK(module["env"]["MODE"]["value"] == "edge");
  CHECK(module["env"]["THRESHOLD"]["value"] == "0.5");
  CHECK(module["env"]["AMLC_WORKERS"]["value"] == "3");
  const json& hub = manifest["modulesContent"]["$edgeHub"]["properties.desired"];
  CHECK(hub["routes"]["irisscorerToIoTHub"] == "FROM /messages/modules/irisscorer/outputs/* INTO $upstream");
  CHECK(hub["storeAndForwardConfiguration"]["timeToLiveSecs"] == 7200);
  // Only the IoT module: the web service is Kubernetes' business.
  CHECK_FALSE(fs::exists(out_dir / "blue"));
}

TEST_CASE("render writes nothing when the specs have errors", "[render]") {
  SpecDir dir;
  std::string specs = Quickstart(dir);
  dir.Write("specs/deployment.yaml", kDeployment + "name: blue\nendpoint_name: iris\nimage: azureml:iris-image@latest\ninstance_count: -2\n");
  fs::path out_dir = dir.path() / "out";
  std::string out;
  CHECK(Run(Amlc("render " + specs + " --target kubernetes -o " + out_dir.string() + " 2>&1"), &out) == 1);
  CHECK(Contains(out, "deployment.yaml:5:"));
  CHECK(Contains(out, "error"));
  CHECK_FALSE(fs::exists(out_dir));
}

TEST_CASE("render says to build or push an image it cannot pin, and writes nothing", "[render]") {
  fs::path out_dir;
  std::string out;
  SECTION("built but never pushed, and no workspace registry") {
    SpecDir dir;
    std::string specs = Quickstart(dir, /*pushed=*/false);
    out_dir = dir.path() / "out";
    CHECK(Run(Amlc("render " + specs + " --target kubernetes -o " + out_dir.string() + " 2>&1"), &out) == 1);
    CHECK(Contains(out, "image 'iris-image:1' of deployment 'blue' was never pushed"));
    CHECK(Contains(out, "amlc images push iris-image:1 --to"));
    CHECK(Contains(out, "image_registry"));
    CHECK_FALSE(fs::exists(out_dir));
  }
  SECTION("no workspace at all") {
    SpecDir dir;
    fs::path specs = dir.path() / "specs";
    fs::copy(SourcePath("examples/quickstart"), specs, fs::copy_options::recursive);
    fs::remove_all(specs / ".amlc");
    out_dir = dir.path() / "out";
    CHECK(Run(Amlc("render " + specs.string() + " --target kubernetes --json -o " + out_dir.string()), &out) == 1);
    json printed = json::parse(out, nullptr, false);
    REQUIRE(printed.is_object());
    CHECK(printed["ok"] == false);
    CHECK(Contains(printed["errors"][0].get<std::string>(), "amlc apply"));
    CHECK_FALSE(fs::exists(out_dir));
  }
}

TEST_CASE("render refuses an output folder the compiler would read as specs", "[render]") {
  SpecDir dir;
  std::string specs = Quickstart(dir);
  std::string out;
  CHECK(Run(Amlc("render " + specs + " --target kubernetes -o " + specs + "/k8s 2>&1"), &out) == 2);
  CHECK(Contains(out, "is inside the specs folder"));
  CHECK_FALSE(fs::exists(fs::path(specs) / "k8s"));
  // A hidden folder is not read as specs.
  CHECK(Run(Amlc("render " + specs + " --target kubernetes -o " + specs + "/.k8s >/dev/null 2>&1")) == 0);
  CHECK(fs::is_regular_file(fs::path(specs) / ".k8s/kustomization.yaml"));
}

TEST_CASE("render falls back to the workspace's image_registry for an image not pushed yet", "[render]") {
  SpecDir dir;
  std::string specs = Quickstart(dir, /*pushed=*/false);
  std::ofstream(fs::path(specs) / "workspace.yaml", std::ios::app) << "image_registry: registry.example:5000/ml\n";
  fs::path out_dir = dir.path() / "out";
  REQUIRE(Run(Amlc("render " + specs + " --target kubernetes -o " + out_dir.string() + " >/dev/null 2>&1")) == 0);
  json deployment = YamlFile(out_dir / "iris-blue-deployment.yaml");
  CHECK(deployment["spec"]["template"]["spec"]["containers"][0]["image"] ==
        "registry.example:5000/ml/iris-image@" + kDigest);
}

TEST_CASE("render records an endpoint's traffic split, which Services cannot weigh", "[render]") {
  REQUIRE(HaveKubectl());
  SpecDir dir;
  std::string specs = Quickstart(dir);
  dir.Write("specs/endpoint.yaml", kEndpoint + "name: iris\nauth_mode: key\ntraffic:\n  blue: 90\n  green: 10\n");
  dir.Write("specs/green.yaml", kDeployment + "name: green\nendpoint_name: iris\nimage: azureml:iris-image:1\ninstance_count: 2\n"
                          "resources:\n  requests:\n    cpu: 250m\n    memory: 1Gi\n"
                          "readiness_probe:\n  initial_delay: 3\n  period: 4\n  failure_threshold: 5\n");
  fs::path out_dir = dir.path() / "out";
  std::string out;
  REQUIRE(Run(Amlc("render " + specs + " --target kubernetes -o " + out_dir.string() + " 2>&1"), &out) == 0);
  CHECK(Contains(out, "splits traffic blue=90,green=10"));
  CHECK(Contains(ReadFile(out_dir / "README.md"), "no weighted traffic split"));
  for (const char* name : {"iris-blue-service.yaml", "iris-green-service.yaml"}) {
    CHECK(YamlFile(out_dir / name)["metadata"]["annotations"]["amlc.ai/traffic"] == "blue=90,green=10");
  }
  // green: no autoscale, its own replicas, resources and probe settings.
  CHECK_FALSE(fs::exists(out_dir / "iris-green-hpa.yaml"));
  json green = YamlFile(out_dir / "iris-green-deployment.yaml");
  CHECK(green["spec"]["replicas"] == 2);
  const json& container = green["spec"]["template"]["spec"]["containers"][0];
  CHECK(container["resources"]["requests"]["cpu"] == "250m");
  CHECK(container["readinessProbe"]["initialDelaySeconds"] == 3);
  CHECK(container["readinessProbe"]["periodSeconds"] == 4);
  CHECK(container["readinessProbe"]["failureThreshold"] == 5);
  json built = YamlDocuments("kubectl kustomize " + out_dir.string());
  REQUIRE(built.is_array());
  CHECK(built.size() == 5);
}

TEST_CASE("manifests quote only the strings YAML would read as something else", "[render]") {
  json values = {{"port", "5001"},   {"yes", "true"},    {"off", "Off"},     {"null", "null"},
                 {"empty", ""},      {"colon", "a: b"},  {"hash", "x #y"},   {"lines", "one\ntwo"},
                 {"float", "1e3"},   {"dash", "-x"},     {"plain", "apps/v1"}, {"list", json::array()},
                 {"map", json::object()}, {"number", 7}, {"bool", false},    {"real", 0.25},
                 {"nested", {{"k", json::array({"1", "a"})}}}};
  std::string yaml = amlc::runtime::deploy::JsonToYaml(values.dump());
  CHECK(Contains(yaml, "plain: apps/v1\n"));
  CHECK(Contains(yaml, "number: 7\n"));
  SpecDir dir;
  dir.Write("values.yaml", yaml);
  INFO(yaml);
  CHECK(YamlFile(dir.path() / "values.yaml") == values);
}

TEST_CASE("render --target kubernetes writes jobs on kubernetes compute as batch/v1 Jobs kubectl reads",
          "[render]") {
  SpecDir dir;
  fs::path specs = dir.path() / "specs";
  auto write = [&](const std::string& name, const std::string& text) {
    fs::create_directories((specs / name).parent_path());
    std::ofstream(specs / name) << text;
  };
  write("compute.yaml", "$schema: compute.schema.json\nname: k8s\ntype: kubernetes\nnamespace: training\n");
  write("env.yaml", "$schema: environment.schema.json\nname: torch\nversion: 1\nimage: python:3.11-slim\n");
  write("src/train.py", "import os\nprint(os.environ['RANK'], os.environ['WORLD_SIZE'])\n");
  std::string job = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                    "type: command\ncode: src\ncompute: azureml:k8s\nenvironment: azureml:torch:1\n";
  write("single.yaml", job + "name: single\ncommand: python train.py --lr ${{inputs.lr}} --out ${{outputs.model}}\n"
                              "inputs:\n  lr: 0.1\noutputs:\n  model:\nlimits:\n  timeout: 600\n");
  write("ddp.yaml", job + "name: ddp\ncommand: python train.py\nresources:\n  instance_count: 2\n"
                           "distribution:\n  type: pytorch\n  process_count_per_instance: 1\n");
  fs::path out_dir = dir.path() / "out";
  std::string out;
  REQUIRE(Run(Amlc("render " + specs.string() + " --target kubernetes -o " + out_dir.string() + " 2>&1"), &out) == 0);
  CHECK(Contains(out, "Rendered 0 deployments and 2 jobs for kubernetes"));

  json single = YamlFile(out_dir / "single-job.yaml");
  CHECK(single.value("apiVersion", "") == "batch/v1");
  CHECK(single["metadata"].value("namespace", "") == "training");
  CHECK(single["spec"].value("activeDeadlineSeconds", 0) == 600);
  CHECK(!single["spec"].contains("completionMode"));
  json container = single["spec"]["template"]["spec"]["containers"][0];
  CHECK(container.value("image", "") == "python:3.11-slim");
  CHECK(Contains(container["command"][2].get<std::string>(), "python train.py --lr 0.1 --out /amlc/outputs/model"));
  json code = YamlFile(out_dir / "single-code.yaml");
  CHECK(code["data"].value("f0", "") == "import os\nprint(os.environ['RANK'], os.environ['WORLD_SIZE'])\n");

  // Two instances: an Indexed Job whose pods find rank 0 through a headless Service.
  json ddp = YamlFile(out_dir / "ddp-job.yaml");
  CHECK(ddp["spec"].value("completionMode", "") == "Indexed");
  CHECK(ddp["spec"].value("completions", 0) == 2);
  CHECK(ddp["spec"].value("parallelism", 0) == 2);
  CHECK(ddp["spec"]["template"]["spec"].value("subdomain", "") == "ddp");
  std::string env = ddp["spec"]["template"]["spec"]["containers"][0]["env"].dump();
  CHECK(Contains(env, "\"MASTER_ADDR\",\"value\":\"ddp-0.ddp\""));
  CHECK(Contains(env, "batch.kubernetes.io/job-completion-index"));
  CHECK(Contains(ddp["spec"]["template"]["spec"]["containers"][0]["command"][2].get<std::string>(), "WORLD_SIZE=2"));
  CHECK(YamlFile(out_dir / "ddp-service.yaml")["spec"].value("clusterIP", "") == "None");

  if (!HaveKubectl()) return;
  json built = YamlDocuments("kubectl kustomize " + out_dir.string());
  REQUIRE(built.is_array());
  std::multiset<std::string> kinds;
  for (const json& object : built) kinds.insert(object.value("kind", ""));
  CHECK(kinds == std::multiset<std::string>{"ConfigMap", "ConfigMap", "Job", "Job", "Service"});
  // The Job has the shape kubectl's own generator gives one.
  json reference = YamlDocuments("kubectl create job single --image=python:3.11-slim --dry-run=client -o yaml -- true");
  REQUIRE(reference.is_array());
  CHECK(reference[0]["spec"]["template"]["spec"].value("restartPolicy", "") ==
        single["spec"]["template"]["spec"].value("restartPolicy", ""));

  // Plan and apply say the jobs are not run, and how to run them.
  Run(Amlc("plan " + specs.string() + " 2>&1"), &out);
  CHECK(Contains(out, "job/ddp: runs on kubernetes compute 'k8s', and amlc reaches no cluster"));
}
