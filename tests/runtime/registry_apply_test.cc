// The model and image registries end to end through the amlc binary: real
// training runs, a real SQLite store, real OCI layouts read back by umoci and
// skopeo.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The layer digests of an image, from its manifest in the workspace's layout.
std::vector<std::string> Layers(const std::string& dir, const std::string& image) {
  json shown = AmlcJson(dir, "images show " + image);
  if (!shown.is_object()) return {};
  std::string digest = shown["digest"];
  json manifest = json::parse(ReadFile(fs::path(shown["layout"].get<std::string>()) / "blobs/sha256" / digest.substr(7)));
  std::vector<std::string> layers;
  for (const json& layer : manifest["layers"]) layers.push_back(layer["digest"]);
  return layers;
}

// The quickstart up to its image: its endpoint and deployment (long-running
// services, tested in deploy_apply_test.cc) are left out.
void CopyQuickstart(SpecDir& dir) {
  fs::copy(SourcePath("examples/quickstart"), dir.path(), fs::copy_options::recursive);
  fs::remove_all(dir.path() / ".amlc");
  fs::remove(dir.path() / "endpoint.yaml");
  fs::remove(dir.path() / "deployment.yaml");
}

}  // namespace

TEST_CASE("the quickstart registers its model and builds its image once", "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("registered iris-classifier:1") != std::string::npos);
  CHECK(out.find("built iris-image:1") != std::string::npos);
  // Not a terminal: byte progress as plain lines, each transfer's last at 100%.
  CHECK(out.find("> job/train-iris snapshot upload src  ") != std::string::npos);
  CHECK_THAT(out, Catch::Matches("(.|\n)*[+] image/iris-image layer 4/4 scoring code  [^\n]*100%(.|\n)*"));

  json models = AmlcJson(dir.str(), "models list");
  REQUIRE(models.size() == 1);
  CHECK(models[0]["version"] == 1);
  CHECK(models[0]["framework"] == "scikit-learn");
  CHECK(models[0]["tags"]["data"] == "iris");
  CHECK(models[0]["lineage"]["job"] == "job/train-iris");
  CHECK(models[0]["lineage"]["experiment"] == "iris");
  CHECK(!models[0]["lineage"]["run"].get<std::string>().empty());
  CHECK(models[0]["content_digest"].get<std::string>().size() == 64);
  json images = AmlcJson(dir.str(), "images list");
  REQUIRE(images.size() == 1);
  CHECK(images[0]["models"] == json::array({"iris-classifier:1"}));
  CHECK(images[0]["digest"].get<std::string>().rfind("sha256:", 0) == 0);

  // Re-applying adds no version and no image.
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("No changes. The workspace matches the specs.") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "models list").size() == 1);
  CHECK(AmlcJson(dir.str(), "images list").size() == 1);

  // The layout holds exactly the expected files, as umoci unpacks them.
  std::string layout = images[0]["layout"];
  std::string ref = images[0]["ref_name"];
  fs::path bundle = dir.path() / "bundle";
  REQUIRE(Run("umoci unpack --rootless --image '" + layout + ":" + ref + "' " + bundle.string() + " 2>&1", &out) == 0);
  fs::path root = bundle / "rootfs";
  CHECK(ReadFile(root / "var/amlc/app/score.py") == ReadFile(dir.path() / "score/score.py"));
  CHECK(fs::exists(root / "var/amlc/models/iris-classifier/1/model.pkl"));
  CHECK(ReadFile(root / "var/amlc/environment/conda.yaml") == ReadFile(dir.path() / "conda.yaml"));
  CHECK(fs::exists(root / "var/amlc/python/amlc/__init__.py"));
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), root).string());
  }
  std::set<std::string> app;
  for (const std::string& f : files) {
    if (f.rfind("var/amlc/app/", 0) == 0) app.insert(f);
  }
  CHECK(app == std::set<std::string>{"var/amlc/app/score.py"});
  // skopeo reads the layout too, and its config names the entrypoint and the model folder.
  REQUIRE(Run("skopeo inspect --config 'oci:" + layout + ":" + ref + "'", &out) == 0);
  json config = json::parse(out);
  CHECK(config["config"]["Entrypoint"] == json::array({"python3", "-m", "amlc.scoring"}));
  CHECK(out.find("AZUREML_MODEL_DIR=/var/amlc/models/iris-classifier/1") != std::string::npos);
}

TEST_CASE("a code-only change builds a new image that reuses the model layer", "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::vector<std::string> before = Layers(dir.str(), "iris-image:1");
  std::ofstream(dir.path() / "score/score.py", std::ios::app) << "# a changed line\n";
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("+ image/iris-image\n") != std::string::npos);
  CHECK(out.find("Plan: 1 to add, 0 to change, 0 to destroy, 0 runs to start.") != std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(AmlcJson(dir.str(), "models list").size() == 1);  // no new model version
  std::vector<std::string> after = Layers(dir.str(), "iris-image:2");
  REQUIRE(before.size() == after.size());
  REQUIRE(before.size() == 4);  // environment, model, amlc's package, scoring code
  CHECK(before[0] == after[0]);
  CHECK(before[1] == after[1]);  // the model layer
  CHECK(before[2] == after[2]);
  CHECK(before[3] != after[3]);  // the code layer
}

TEST_CASE("a changed training run registers the next model version", "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::ofstream(dir.path() / "src/train.py", std::ios::app) << "# a changed line\n";
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("+ model/iris-classifier (known after apply)\n      reads outputs of job/train-iris, which runs first") !=
        std::string::npos);
  CHECK(out.find("+ image/iris-image (known after apply)") != std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("registered iris-classifier:2") != std::string::npos);
  json latest = AmlcJson(dir.str(), "models show iris-classifier@latest");
  CHECK(latest["version"] == 2);
  json first = AmlcJson(dir.str(), "models show iris-classifier:1");
  CHECK(first["lineage"]["run"] != latest["lineage"]["run"]);
  CHECK(AmlcJson(dir.str(), "images show iris-image@latest")["models"] == json::array({"iris-classifier:2"}));
}

TEST_CASE("register_when holds registration back and the plan says why", "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string model = ReadFile(dir.path() / "model.yaml");
  model.replace(model.find("metrics.accuracy >= 0.9"), 23, "metrics.accuracy >= 1.5");
  dir.Write("model.yaml", model);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("held back: metrics.accuracy is ") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "models list").empty());
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("Held back (register_when does not hold):\n  model/iris-classifier: metrics.accuracy is ") !=
        std::string::npos);
  CHECK(out.find(", not >= 1.5 (run train-iris-") != std::string::npos);
  CHECK(out.find("image/iris-image: model iris-classifier has no registered version yet") != std::string::npos);
}

TEST_CASE("models register, list, show, tag, download and delete from the CLI", "[registry-apply]") {
  SpecDir dir;
  dir.Write("weights/a.bin", "first weights");
  dir.Write("weights/sub/b.txt", "more");
  dir.Write("single.pkl", "one file model");
  std::string ws = " --workspace " + dir.str() + "/.amlc";
  std::string out;
  for (int i = 1; i <= 3; ++i) {
    REQUIRE(Run(Amlc("models register --name m --path " + dir.str() + "/weights --tag stage=dev --framework sklearn" + ws),
                &out) == 0);
    CHECK(out.find("registered m:" + std::to_string(i)) != std::string::npos);
  }
  REQUIRE(Run(Amlc("models delete m:3" + ws), &out) == 0);
  REQUIRE(Run(Amlc("models register --name m --path " + dir.str() + "/single.pkl --property source=cli" + ws), &out) == 0);
  CHECK(out.find("registered m:4") != std::string::npos);  // 3 is never reused
  json four = AmlcJson(dir.str(), "models show m@latest");
  CHECK(four["version"] == 4);
  CHECK(four["single_file"] == true);
  CHECK(four["properties"]["source"] == "cli");

  REQUIRE(Run(Amlc("models tag m:1 --add owner=ana --remove stage" + ws), &out) == 0);
  CHECK(AmlcJson(dir.str(), "models list --tag owner=ana").size() == 1);
  CHECK(AmlcJson(dir.str(), "models list --tag stage=dev").size() == 1);  // only m:2 still has it
  CHECK(AmlcJson(dir.str(), "models list --name m").size() == 3);

  REQUIRE(Run(Amlc("models download m:2 -o " + dir.str() + "/out2" + ws), &out) == 0);
  CHECK(ReadFile(dir.path() / "out2/a.bin") == "first weights");
  CHECK(ReadFile(dir.path() / "out2/sub/b.txt") == "more");
  REQUIRE(Run(Amlc("models download m:4 -o " + dir.str() + "/out4" + ws), &out) == 0);
  CHECK(ReadFile(dir.path() / "out4/single.pkl") == "one file model");

  // Clear errors, nothing harmed.
  CHECK(Run(Amlc("models show m:9" + ws + " 2>&1"), &out) == 2);
  CHECK(out.find("no model m:9; its versions are") != std::string::npos);
  CHECK(Run(Amlc("models delete m" + ws + " 2>&1"), &out) == 2);
  CHECK(out.find("name the version: m:VERSION") != std::string::npos);
  CHECK(Run(Amlc("models register --name m --path " + dir.str() + "/missing" + ws + " 2>&1"), &out) == 2);
  CHECK(out.find("does not exist") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "models list").size() == 3);
}

TEST_CASE("a model version an image uses cannot be deleted until the image is", "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::string ws = " --workspace " + dir.str() + "/.amlc";
  CHECK(Run(Amlc("models delete iris-classifier:1" + ws + " 2>&1"), &out) != 0);
  CHECK(out.find("model iris-classifier:1 is used by image iris-image:1") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "models list").size() == 1);
  REQUIRE(Run(Amlc("images delete iris-image:1" + ws), &out) == 0);
  REQUIRE(Run(Amlc("models delete iris-classifier:1" + ws), &out) == 0);
  CHECK(AmlcJson(dir.str(), "models list").empty());
}

TEST_CASE("an FPGA image is reported as unsupported, with the reason", "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string image = ReadFile(dir.path() / "image.yaml");
  dir.Write("image.yaml", image + "kind: fpga\n");
  std::string out;
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("image/iris-image: FPGA images are not supported by the available targets") != std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(AmlcJson(dir.str(), "images list").empty());
  CHECK(AmlcJson(dir.str(), "models list").size() == 1);
}

TEST_CASE("a model from local files gets a new version only when they change", "[apply][registry-apply]") {
  SpecDir dir;
  dir.Write("model.yaml", "$schema: model.schema.json\nname: local-model\npath: ./weights\ntags:\n  a: b\n");
  dir.Write("weights/w.txt", "v1");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
  // A tag change updates the version in place.
  dir.Write("model.yaml", "$schema: model.schema.json\nname: local-model\npath: ./weights\ntags:\n  a: c\n");
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("~ model/local-model\n      tags.a: \"b\" -> \"c\"\n      metadata changed; local-model:1 keeps its files") !=
        std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  json models = AmlcJson(dir.str(), "models list");
  REQUIRE(models.size() == 1);
  CHECK(models[0]["tags"]["a"] == "c");
  dir.Write("weights/w.txt", "v2");
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("registered local-model:2") != std::string::npos);
}

TEST_CASE("destroy keeps models and images; destroy --purge deletes them", "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  REQUIRE(Run(Amlc("destroy --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(AmlcJson(dir.str(), "models list").size() == 1);
  CHECK(AmlcJson(dir.str(), "images list").size() == 1);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(AmlcJson(dir.str(), "models list").size() == 1);  // the same run: no new version
  REQUIRE(Run(Amlc("destroy --purge --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(AmlcJson(dir.str(), "models list").empty());
  CHECK(AmlcJson(dir.str(), "images list").empty());
  json index = json::parse(ReadFile(dir.path() / ".amlc/images/index.json"));
  CHECK(index["manifests"].empty());
  int blobs = 0;
  for (const auto& entry : fs::directory_iterator(dir.path() / ".amlc/images/blobs/sha256")) blobs += entry.is_regular_file();
  CHECK(blobs == 0);
}

TEST_CASE("apply pushes new images to the workspace's registry, once", "[registry]") {
  std::string registry = TestServerAddress("registry");
  SpecDir dir;
  CopyQuickstart(dir);
  std::string repo = "apply-push-" + std::to_string(::getpid());
  std::string workspace = ReadFile(dir.path() / "workspace.yaml");
  dir.Write("workspace.yaml", workspace + "image_registry: " + registry + "/" + repo + "\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  json image = AmlcJson(dir.str(), "images show iris-image:1");
  REQUIRE(image["pushed"].size() == 1);
  CHECK(image["pushed"][0]["to"] == registry + "/" + repo + "/iris-image:1");
  REQUIRE(Run("skopeo inspect --tls-verify=false docker://" + registry + "/" + repo + "/iris-image:1", &out) == 0);
  CHECK(json::parse(out)["Digest"] == image["digest"]);
  // Re-applying neither builds nor pushes again.
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "images show iris-image:1")["pushed"].size() == 1);
  // `images push` of the same image to another tag sends no blob again.
  REQUIRE(Run(Amlc("images push iris-image:1 --json --to " + registry + "/" + repo + "/iris-image:again --workspace " +
                   dir.str() + "/.amlc"),
              &out) == 0);
  json pushed = json::parse(out);
  CHECK(pushed["blobs_uploaded"] == 0);
  CHECK(pushed["bytes_uploaded"] == 0);
  CHECK(pushed["digest"] == image["digest"]);
  // To a new repository, not on a terminal: plain byte lines with a total
  // and a final 100% line per blob sent.
  REQUIRE(Run(Amlc("images push iris-image:1 --to " + registry + "/" + repo + "-bytes/iris-image:1 --workspace " +
                   dir.str() + "/.amlc 2>&1"),
              &out) == 0);
  INFO(out);
  CHECK(out.find("\033[") == std::string::npos);
  CHECK_THAT(out, Catch::Matches("(.|\n)*push iris-image:1 blob 1/[0-9]+ sha256:[^ ]+  [0-9.]+ [KMG]?i?B / [0-9.]+ [KMG]?i?B  100%(.|\n)*"));
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = out.find(what); at != std::string::npos; at = out.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count(" uploaded\n") > 0);
  CHECK(count("  100%  ") == count(" uploaded\n"));  // one final byte line per blob sent
}

TEST_CASE("destroy says which versions it keeps and a later destroy --purge deletes them",
          "[apply][registry-apply]") {
  SpecDir dir;
  CopyQuickstart(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  REQUIRE(Run(Amlc("destroy --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  INFO(out);
  CHECK(out.find("removed; kept model version iris-classifier:1 (destroy --purge deletes them)") !=
        std::string::npos);
  CHECK(out.find("removed; kept image version iris-image:1 (destroy --purge deletes them)") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "models list").size() == 1);
  CHECK(AmlcJson(dir.str(), "images list").size() == 1);
  REQUIRE(Run(Amlc("destroy --purge --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  INFO(out);
  CHECK(out.find("Kept by an earlier destroy, deleted now (--purge):\n"
                 "  - image/iris-image: image version iris-image:1\n"
                 "  - model/iris-classifier: model version iris-classifier:1\n"
                 "  - job/train-iris: 1 run\n") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "models list").empty());
  CHECK(AmlcJson(dir.str(), "images list").empty());
  CHECK(AmlcJson(dir.str(), "runs list").empty());
  REQUIRE(Run(Amlc("destroy --purge --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("Kept by an earlier destroy") == std::string::npos);
}
