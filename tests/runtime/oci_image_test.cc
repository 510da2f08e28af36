#include "runtime/artifacts/oci/oci_image.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <clocale>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/digest.h"
#include "tests/test_support.h"

namespace {

namespace fs = std::filesystem;
using amlc::StatusCode;
using amlc::runtime::image::BuildImage;
using amlc::runtime::image::BuildRequest;
using amlc::runtime::image::BuildResult;
using amlc::runtime::image::LayerFile;
using amlc::runtime::image::LayerSpec;
using amlc::runtime::image::RemoveImage;
using amlc::runtime::image::ResolveRef;
using amlc::runtime::image::TagImage;
using amlc::testing::ReadFile;
using amlc::testing::Run;
using amlc::testing::SpecDir;
using nlohmann::json;

json ReadJson(const fs::path& path) { return json::parse(ReadFile(path)); }

fs::path BlobPath(const std::string& layout, const std::string& digest) {
  return fs::path(layout) / "blobs/sha256" / digest.substr(7);
}

json Blob(const std::string& layout, const std::string& digest) {
  return ReadJson(BlobPath(layout, digest));
}

std::set<std::string> BlobNames(const std::string& layout) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(fs::path(layout) / "blobs/sha256")) {
    names.insert("sha256:" + entry.path().filename().string());
  }
  return names;
}

std::string Quote(const std::string& text) { return "'" + text + "'"; }

bool HaveTool(const char* path) {
  if (access(path, X_OK) == 0) return true;
  WARN(std::string(path) + " is not installed: part of this test is skipped");
  return false;
}

// A scoring image's sources: a model folder and a code folder.
struct Sources {
  SpecDir dir;
  Sources() {
    dir.Write("model/model.pkl", std::string(100000, 'w') + "weights");
    dir.Write("model/meta/info.json", "{\"framework\": \"sklearn\"}\n");
    dir.Write("code/score.py", "def run(data):\n    return data\n");
    dir.Write("code/util/h\xc3\xa9llo.txt", "non-ASCII name\n");
    fs::permissions(dir.path() / "code/score.py", fs::perms::owner_exec, fs::perm_options::add);
  }
  std::string Path(const std::string& relative) const { return (dir.path() / relative).string(); }

  LayerSpec Model(const std::string& key = "model-iris-3") const {
    return LayerSpec{
        "model iris:3",
        {{"var/amlc/models/iris/3/model.pkl", Path("model/model.pkl"), false},
         {"var/amlc/models/iris/3/meta/info.json", Path("model/meta/info.json"), false}},
        key};
  }
  LayerSpec Code(const std::string& key = "") const {
    return LayerSpec{
        "scoring code",
        {{"var/amlc/app/score.py", Path("code/score.py"), true},
         {"var/amlc/app/util/h\xc3\xa9llo.txt", Path("code/util/h\xc3\xa9llo.txt"), false}},
        key};
  }
  BuildRequest Request(const std::string& layout, const std::string& ref = "iris-image:1") const {
    BuildRequest request;
    request.layout_dir = layout;
    request.ref_name = ref;
    request.layers = {Model(), Code()};
    request.config.entrypoint = {"python3", "-m", "amlc.scoring"};
    request.config.env = {"AZUREML_MODEL_DIR=/var/amlc/models/iris/3", "AMLC_PORT=5001"};
    request.config.working_dir = "/var/amlc/app";
    request.config.labels = {{"org.opencontainers.image.title", "iris-image"}};
    request.config.exposed_ports = {"5001/tcp"};
    return request;
  }
};

BuildResult MustBuild(const BuildRequest& request, std::vector<std::string>* lines = nullptr) {
  auto built = BuildImage(request, [&](const std::string& line) {
    if (lines != nullptr) lines->push_back(line);
  });
  INFO(built.status().message());
  REQUIRE(built.ok());
  return *built;
}

std::set<std::string> FilesUnder(const fs::path& root) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string relative = fs::relative(entry.path(), root).string();
    files.insert(relative + (entry.is_directory() ? "/" : ""));
  }
  return files;
}

unsigned Mode(const fs::path& path) {
  struct stat info;
  REQUIRE(lstat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

}  // namespace

TEST_CASE("an image build is reproducible byte for byte", "[image]") {
  Sources sources;
  SpecDir first;
  SpecDir second;
  SpecDir third;
  BuildResult a = MustBuild(sources.Request(first.str()));
  // Other mtimes (and a process locale that cannot spell the non-ASCII name)
  // change nothing.
  for (const auto& entry : fs::recursive_directory_iterator(sources.dir.path())) {
    fs::last_write_time(entry.path(), fs::file_time_type::clock::now() - std::chrono::hours(5));
  }
  BuildResult b = MustBuild(sources.Request(second.str()));
  std::setlocale(LC_ALL, "C.UTF-8");
  BuildResult c = MustBuild(sources.Request(third.str()));
  std::setlocale(LC_ALL, "C");
  CHECK(a.manifest_digest == b.manifest_digest);
  CHECK(a.manifest_digest == c.manifest_digest);
  CHECK(a.config_digest == b.config_digest);
  REQUIRE(a.layers.size() == 2);
  CHECK_FALSE(a.layers[0].reused);
  CHECK(a.layers[0].digest == b.layers[0].digest);
  CHECK(a.layers[1].digest == b.layers[1].digest);
  CHECK(BlobNames(first.str()) == BlobNames(second.str()));
  for (const std::string& digest : BlobNames(first.str())) {
    CHECK(ReadFile(BlobPath(first.str(), digest)) == ReadFile(BlobPath(second.str(), digest)));
    // Every blob is named by the SHA-256 of its bytes.
    CHECK("sha256:" + amlc::Sha256Hex(ReadFile(BlobPath(first.str(), digest))) == digest);
  }
  CHECK(ResolveRef(first.str(), "iris-image:1").value() == a.manifest_digest);

  // The layout: oci-layout, index.json naming the image, canonical JSON.
  CHECK(ReadFile(first.path() / "oci-layout") == "{\"imageLayoutVersion\":\"1.0.0\"}");
  json index = ReadJson(first.path() / "index.json");
  CHECK(ReadFile(first.path() / "index.json") == index.dump());
  REQUIRE(index["manifests"].size() == 1);
  CHECK(index["manifests"][0]["digest"] == a.manifest_digest);
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] ==
        "iris-image:1");

  json manifest = Blob(first.str(), a.manifest_digest);
  CHECK(manifest["schemaVersion"] == 2);
  CHECK(manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(manifest["config"]["digest"] == a.config_digest);
  CHECK(manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json");
  CHECK(manifest["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(manifest["layers"][1]["digest"] == a.layers[1].digest);
  CHECK(manifest["layers"][1]["size"] == a.layers[1].size);

  json config = Blob(first.str(), a.config_digest);
  CHECK(config["architecture"] == "amd64");
  CHECK(config["os"] == "linux");
  CHECK(config["config"]["Entrypoint"] == json({"python3", "-m", "amlc.scoring"}));
  CHECK(config["config"]["WorkingDir"] == "/var/amlc/app");
  CHECK(config["config"]["ExposedPorts"] == json({{"5001/tcp", json::object()}}));
  CHECK(config["rootfs"]["type"] == "layers");
  CHECK(config["rootfs"]["diff_ids"] == json({a.layers[0].diff_id, a.layers[1].diff_id}));
  CHECK(config["history"][0]["created_by"] == "model iris:3");
  CHECK(config["history"][1]["created_by"] == "scoring code");
  for (const std::string& text : {ReadFile(BlobPath(first.str(), a.config_digest)),
                                  ReadFile(BlobPath(first.str(), a.manifest_digest))}) {
    size_t at = 0;
    while ((at = text.find("\"created\":", at)) != std::string::npos) {
      CHECK(text.substr(at, 32) == "\"created\":\"1970-01-01T00:00:00Z\"");
      ++at;
    }
  }
  CHECK(a.size == ReadFile(BlobPath(first.str(), a.manifest_digest)).size() +
                      ReadFile(BlobPath(first.str(), a.config_digest)).size() + a.layers[0].size +
                      a.layers[1].size);

  // The layer: gzip with no time stamp or name, over a tar whose SHA-256 is
  // the diff_id, with fixed owners, times and order.
  std::string code_blob = BlobPath(first.str(), a.layers[1].digest).string();
  std::string gzip_bytes = ReadFile(code_blob);
  REQUIRE(gzip_bytes.size() > 10);
  CHECK(gzip_bytes.substr(0, 4) == std::string("\x1f\x8b\x08\x00", 4));  // no FNAME flag
  CHECK(gzip_bytes.substr(4, 4) == std::string(4, '\0'));                // MTIME 0
  std::string tar_path = (third.path() / "code.tar").string();
  REQUIRE(Run("gunzip -c " + Quote(code_blob) + " > " + Quote(tar_path)) == 0);
  std::string tar_bytes = ReadFile(tar_path);
  CHECK("sha256:" + amlc::Sha256Hex(tar_bytes) == a.layers[1].diff_id);
  CHECK(tar_bytes.find("atime=") == std::string::npos);
  CHECK(tar_bytes.find("ctime=") == std::string::npos);
  std::string listing;
  REQUIRE(Run("TZ=UTC tar --numeric-owner -tvf " + Quote(tar_path), &listing) == 0);
  CHECK(listing ==
        "drwxr-xr-x 0/0               0 1970-01-01 00:00 var/\n"
        "drwxr-xr-x 0/0               0 1970-01-01 00:00 var/amlc/\n"
        "drwxr-xr-x 0/0               0 1970-01-01 00:00 var/amlc/app/\n"
        "-rwxr-xr-x 0/0              31 1970-01-01 00:00 var/amlc/app/score.py\n"
        "drwxr-xr-x 0/0               0 1970-01-01 00:00 var/amlc/app/util/\n"
        "-rw-r--r-- 0/0              15 1970-01-01 00:00 var/amlc/app/util/h\xc3\xa9llo.txt\n");
}

TEST_CASE("umoci unpacks the image to exactly the expected files", "[image]") {
  if (!HaveTool("/usr/bin/umoci")) return;
  Sources sources;
  SpecDir layout;
  SpecDir out;
  // Paths over 255 bytes need a pax extended header: umoci must read it too.
  std::string deep = "var/amlc/app/" + std::string(120, 'd') + "/" + std::string(150, 'f') + ".txt";
  BuildRequest request = sources.Request(layout.str());
  request.layers[1].files.push_back({deep, sources.Path("code/score.py"), false});
  MustBuild(request);
  std::string bundle = (out.path() / "bundle").string();
  std::string output;
  // umoci takes LAYOUT:REF and splits at the first ':', so the ref name may
  // hold ':' itself ("iris-image:1").
  int status = Run("umoci unpack --rootless --image " + Quote(layout.str() + ":iris-image:1") +
                       " " + Quote(bundle) + " 2>&1",
                   &output);
  INFO(output);
  REQUIRE(status == 0);
  fs::path rootfs = fs::path(bundle) / "rootfs";
  std::set<std::string> expected = {"var/",
                                    "var/amlc/",
                                    "var/amlc/app/",
                                    "var/amlc/app/score.py",
                                    "var/amlc/app/util/",
                                    "var/amlc/app/util/h\xc3\xa9llo.txt",
                                    "var/amlc/app/" + std::string(120, 'd') + "/",
                                    deep,
                                    "var/amlc/models/",
                                    "var/amlc/models/iris/",
                                    "var/amlc/models/iris/3/",
                                    "var/amlc/models/iris/3/model.pkl",
                                    "var/amlc/models/iris/3/meta/",
                                    "var/amlc/models/iris/3/meta/info.json"};
  CHECK(FilesUnder(rootfs) == expected);
  CHECK(ReadFile(rootfs / "var/amlc/models/iris/3/model.pkl") ==
        ReadFile(sources.Path("model/model.pkl")));
  CHECK(ReadFile(rootfs / "var/amlc/app/score.py") == ReadFile(sources.Path("code/score.py")));
  CHECK(ReadFile(rootfs / deep) == ReadFile(sources.Path("code/score.py")));
  CHECK(Mode(rootfs / "var/amlc/app/score.py") == 0755);
  CHECK(Mode(rootfs / "var/amlc/models/iris/3/model.pkl") == 0644);
  CHECK(Mode(rootfs / "var/amlc/app/util/h\xc3\xa9llo.txt") == 0644);
  CHECK(Mode(rootfs / "var/amlc/models/iris/3/meta") == 0755);
  CHECK(Mode(rootfs / "var") == 0755);

  // The runtime config umoci derives from the image config.
  json runtime = ReadJson(fs::path(bundle) / "config.json");
  CHECK(runtime["process"]["args"] == json({"python3", "-m", "amlc.scoring"}));
  CHECK(runtime["process"]["cwd"] == "/var/amlc/app");
}

TEST_CASE("skopeo inspects the image and lists its layers", "[image]") {
  if (!HaveTool("/usr/bin/skopeo")) return;
  Sources sources;
  SpecDir layout;
  BuildResult built = MustBuild(sources.Request(layout.str()));
  std::string output;
  REQUIRE(Run("skopeo inspect " + Quote("oci:" + layout.str() + ":iris-image:1"), &output) == 0);
  json inspected = json::parse(output);
  CHECK(inspected["Digest"] == built.manifest_digest);
  CHECK(inspected["Layers"] == json({built.layers[0].digest, built.layers[1].digest}));
  CHECK(inspected["Architecture"] == "amd64");
  CHECK(inspected["Os"] == "linux");
  CHECK(inspected["Created"] == "1970-01-01T00:00:00Z");
  CHECK(inspected["Env"] == json({"AZUREML_MODEL_DIR=/var/amlc/models/iris/3", "AMLC_PORT=5001"}));
  CHECK(inspected["Labels"]["org.opencontainers.image.title"] == "iris-image");
  // skopeo copy re-reads every blob and checks it against its digest.
  SpecDir copy;
  std::string copied;
  INFO(copied);
  CHECK(Run("skopeo copy " + Quote("oci:" + layout.str() + ":iris-image:1") + " " +
                Quote("oci:" + copy.str() + ":copy") + " 2>&1",
            &copied) == 0);
}

TEST_CASE("a code-only change reuses the model layer", "[image]") {
  Sources sources;
  SpecDir layout;
  BuildResult first = MustBuild(sources.Request(layout.str()));
  fs::path model_blob = BlobPath(layout.str(), first.layers[0].digest);
  struct stat before;
  REQUIRE(stat(model_blob.c_str(), &before) == 0);

  sources.dir.Write("code/score.py", "def run(data):\n    return [data]\n");
  std::vector<std::string> lines;
  BuildResult second = MustBuild(sources.Request(layout.str(), "iris-image:2"), &lines);
  CHECK(second.layers[0].digest == first.layers[0].digest);
  CHECK(second.layers[0].reused);
  CHECK(second.layers[1].digest != first.layers[1].digest);
  CHECK_FALSE(second.layers[1].reused);
  CHECK(second.manifest_digest != first.manifest_digest);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("layer 1/2 model iris:3: ", 0) == 0);
  CHECK(lines[0].find(", reused (layer cache)") != std::string::npos);
  CHECK(lines[1].rfind("layer 2/2 scoring code: ", 0) == 0);
  CHECK(lines[1].find("built (2 files") != std::string::npos);
  CHECK(lines[2].rfind("image iris-image:2: " + second.manifest_digest, 0) == 0);

  // Without a cache key the model is read and compressed again, but the blob
  // the layout holds is left as it is.
  BuildRequest uncached = sources.Request(layout.str(), "iris-image:3");
  uncached.layers[0].cache_key.clear();
  lines.clear();
  BuildResult third = MustBuild(uncached, &lines);
  CHECK(third.layers[0].digest == first.layers[0].digest);
  CHECK(third.layers[0].reused);
  CHECK(lines[0].find("reused (same contents already in the layout") != std::string::npos);
  CHECK(third.manifest_digest == second.manifest_digest);  // same inputs, same image

  struct stat after;
  REQUIRE(stat(model_blob.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  json index = ReadJson(layout.path() / "index.json");
  REQUIRE(index["manifests"].size() == 3);
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] ==
        "iris-image:1");
  CHECK(index["manifests"][2]["annotations"]["org.opencontainers.image.ref.name"] ==
        "iris-image:3");
}

TEST_CASE("the layer cache reuses a layer without reading its files", "[image]") {
  Sources sources;
  SpecDir layout;
  BuildResult first = MustBuild(sources.Request(layout.str()));
  json cache = ReadJson(layout.path() / "amlc-layer-cache.json");
  CHECK(cache["layers"]["model-iris-3"]["digest"] == first.layers[0].digest);
  CHECK(cache["layers"]["model-iris-3"]["diff_id"] == first.layers[0].diff_id);
  CHECK(cache["layers"]["model-iris-3"]["size"] == first.layers[0].size);

  fs::remove_all(sources.dir.path() / "model");
  BuildResult again = MustBuild(sources.Request(layout.str()));
  CHECK(again.manifest_digest == first.manifest_digest);
  CHECK(again.layers[0].reused);

  // Another key has no cache entry: the files are needed, and missing.
  BuildRequest other_key = sources.Request(layout.str());
  other_key.layers[0].cache_key = "model-iris-4";
  auto missing = BuildImage(other_key, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find("model iris:3") != std::string::npos);
  CHECK(missing.status().message().find(sources.Path("model/meta/info.json")) != std::string::npos);

  // A cache entry whose blob is gone is not trusted.
  fs::remove(BlobPath(layout.str(), first.layers[0].digest));
  auto gone = BuildImage(sources.Request(layout.str()), nullptr);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.status().code() == StatusCode::kNotFound);
}

TEST_CASE("a base image's layers come first and its config is merged", "[image]") {
  Sources sources;
  SpecDir base_layout;
  SpecDir layout;
  sources.dir.Write("base/etc/os-release", "ID=amlc-test\n");
  BuildRequest base_request;
  base_request.layout_dir = base_layout.str();
  base_request.ref_name = "python:3.11";
  base_request.layers = {
      LayerSpec{"base os", {{"etc/os-release", sources.Path("base/etc/os-release"), false}}, ""}};
  base_request.config.env = {"PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", "AMLC_PORT=8080"};
  base_request.config.cmd = {"python3"};
  base_request.config.working_dir = "/";
  base_request.config.labels = {{"base.label", "kept"}};
  BuildResult base = MustBuild(base_request);

  BuildRequest request = sources.Request(layout.str());
  request.base_layout = base_layout.str();
  request.base_ref = "python:3.11";
  std::vector<std::string> lines;
  BuildResult built = MustBuild(request, &lines);
  REQUIRE(built.layers.size() == 3);
  CHECK(built.layers[0].digest == base.layers[0].digest);
  CHECK(built.layers[0].reused);
  CHECK(lines[0].rfind("layer 1/3 base python:3.11: ", 0) == 0);
  CHECK(lines[1].rfind("layer 2/3 model iris:3: ", 0) == 0);

  json manifest = Blob(layout.str(), built.manifest_digest);
  CHECK(manifest["layers"][0]["digest"] == base.layers[0].digest);
  CHECK(manifest["layers"][1]["digest"] == built.layers[1].digest);
  CHECK(manifest["annotations"]["org.opencontainers.image.base.digest"] == base.manifest_digest);
  json config = Blob(layout.str(), built.config_digest);
  CHECK(config["rootfs"]["diff_ids"][0] == base.layers[0].diff_id);
  CHECK(config["rootfs"]["diff_ids"].size() == 3);
  // The base's Env, with AMLC_PORT replaced in place and new keys appended.
  CHECK(config["config"]["Env"] ==
        json({"PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", "AMLC_PORT=5001",
              "AZUREML_MODEL_DIR=/var/amlc/models/iris/3"}));
  // An entrypoint of its own drops the base's cmd (as Dockerfile ENTRYPOINT does).
  CHECK(config["config"]["Entrypoint"] == json({"python3", "-m", "amlc.scoring"}));
  CHECK_FALSE(config["config"].contains("Cmd"));
  CHECK(config["config"]["WorkingDir"] == "/var/amlc/app");
  CHECK(config["config"]["Labels"]["base.label"] == "kept");
  CHECK(config["history"].size() == 3);
  CHECK(config["history"][0]["created_by"] == "base os");
  // The base layer blob is shared with the base layout (hard link), not rewritten.
  struct stat shared;
  REQUIRE(stat(BlobPath(layout.str(), base.layers[0].digest).c_str(), &shared) == 0);
  CHECK(shared.st_nlink == 2);

  // Across file systems the base blob is copied (and checked) instead.
  struct stat shm;
  if (stat("/dev/shm", &shm) == 0 && stat(layout.str().c_str(), &shared) == 0 &&
      shm.st_dev != shared.st_dev && access("/dev/shm", W_OK) == 0) {
    fs::path elsewhere = "/dev/shm/amlc-oci-test-" + std::to_string(getpid());
    BuildRequest copied = request;
    copied.layout_dir = elsewhere.string();
    BuildResult result = MustBuild(copied);
    fs::path copy = BlobPath(copied.layout_dir, base.layers[0].digest);
    REQUIRE(stat(copy.c_str(), &shared) == 0);
    CHECK(shared.st_nlink == 1);
    CHECK(ReadFile(copy) == ReadFile(BlobPath(base_layout.str(), base.layers[0].digest)));
    CHECK(result.manifest_digest == built.manifest_digest);
    fs::remove_all(elsewhere);
  }

  // Without settings of its own the image keeps the base's.
  BuildRequest plain;
  plain.layout_dir = layout.str();
  plain.ref_name = "plain";
  plain.base_layout = base_layout.str();
  plain.base_ref = "python:3.11";
  json plain_config = Blob(layout.str(), MustBuild(plain).config_digest);
  CHECK(plain_config["config"]["Cmd"] == json({"python3"}));
  CHECK(plain_config["config"]["WorkingDir"] == "/");
  CHECK(plain_config["config"]["Env"].size() == 3);

  if (!HaveTool("/usr/bin/umoci")) return;
  // A base made by another tool, with an extra config-only history entry.
  SpecDir umoci_dir;
  SpecDir out;
  std::string umoci_layout = (umoci_dir.path() / "layout").string();
  std::string image = Quote(umoci_layout + ":base");
  std::string output;
  REQUIRE(Run("umoci init --layout " + Quote(umoci_layout) + " && umoci new --image " + image +
                  " && umoci insert --rootless --image " + image + " " +
                  Quote(sources.Path("base/etc")) + " /etc && umoci config --image " + image +
                  " --config.env PATH=/bin --config.env AMLC_PORT=1 2>&1",
              &output) == 0);
  request.base_layout = umoci_layout;
  request.base_ref = "base";
  request.ref_name = "on-umoci";
  BuildResult on_umoci = MustBuild(request);
  json env = Blob(layout.str(), on_umoci.config_digest)["config"]["Env"];
  CHECK(env == json({"PATH=/bin", "AMLC_PORT=5001", "AZUREML_MODEL_DIR=/var/amlc/models/iris/3"}));
  std::string bundle = (out.path() / "bundle").string();
  INFO(output);
  REQUIRE(Run("umoci unpack --rootless --image " + Quote(layout.str() + ":on-umoci") + " " +
                  Quote(bundle) + " 2>&1",
              &output) == 0);
  CHECK(ReadFile(fs::path(bundle) / "rootfs/etc/os-release") == "ID=amlc-test\n");
  CHECK(fs::exists(fs::path(bundle) / "rootfs/var/amlc/app/score.py"));
}

TEST_CASE("RemoveImage collects unreferenced blobs and keeps shared ones", "[image]") {
  Sources sources;
  SpecDir layout;
  BuildResult one = MustBuild(sources.Request(layout.str(), "iris-image:1"));
  sources.dir.Write("code/score.py", "def run(data):\n    return None\n");
  BuildRequest second_request = sources.Request(layout.str(), "iris-image:2");
  second_request.layers[1].cache_key = "code-2";
  BuildResult two = MustBuild(second_request);
  REQUIRE(one.layers[0].digest == two.layers[0].digest);
  CHECK(BlobNames(layout.str()).size() == 7);  // shared model, 2 code, 2 configs, 2 manifests

  // A temporary file left by a crashed writer goes too.
  std::ofstream(layout.path() / "blobs/sha256/layer.tmp-AbC123") << "partial";
  REQUIRE(RemoveImage(layout.str(), "iris-image:1").ok());
  CHECK(BlobNames(layout.str()) == std::set<std::string>{two.manifest_digest, two.config_digest,
                                                         two.layers[0].digest,
                                                         two.layers[1].digest});
  CHECK(ResolveRef(layout.str(), "iris-image:1").status().code() == StatusCode::kNotFound);
  CHECK(ResolveRef(layout.str(), "iris-image:2").value() == two.manifest_digest);
  json cache = ReadJson(layout.path() / "amlc-layer-cache.json");
  CHECK(cache["layers"].contains("model-iris-3"));
  CHECK(cache["layers"].contains("code-2"));

  auto again = RemoveImage(layout.str(), "iris-image:1");
  CHECK(again.code() == StatusCode::kNotFound);
  CHECK(again.message().find("iris-image:2") != std::string::npos);  // lists what there is

  // A tag keeps the image alive when the original name goes.
  REQUIRE(TagImage(layout.str(), "iris-image:2", "iris-image:latest").ok());
  REQUIRE(RemoveImage(layout.str(), "iris-image:2").ok());
  CHECK(ResolveRef(layout.str(), "iris-image:latest").value() == two.manifest_digest);
  CHECK(BlobNames(layout.str()).size() == 4);

  REQUIRE(RemoveImage(layout.str(), "iris-image:latest").ok());
  CHECK(BlobNames(layout.str()).empty());
  CHECK(ReadJson(layout.path() / "amlc-layer-cache.json")["layers"].empty());
  CHECK(ReadJson(layout.path() / "index.json")["manifests"].empty());
  CHECK(RemoveImage((layout.path() / "nowhere").string(), "x").code() == StatusCode::kNotFound);
}

TEST_CASE("bad base images and requests give clear errors", "[image]") {
  Sources sources;
  SpecDir layout;
  SpecDir base_layout;
  BuildRequest request = sources.Request(layout.str());

  request.base_layout = (base_layout.path() / "missing").string();
  request.base_ref = "python:3.11";
  auto missing = BuildImage(request, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find(request.base_layout) != std::string::npos);

  request.base_layout = base_layout.str();  // a folder, but no layout
  auto not_layout = BuildImage(request, nullptr);
  CHECK(not_layout.status().code() == StatusCode::kNotFound);
  CHECK(not_layout.status().message().find("not an OCI image layout") != std::string::npos);

  BuildRequest base_request = sources.Request(base_layout.str(), "other");
  MustBuild(base_request);
  auto no_ref = BuildImage(request, nullptr);
  CHECK(no_ref.status().code() == StatusCode::kNotFound);
  CHECK(no_ref.status().message().find("has no image 'python:3.11' (its images: other)") !=
        std::string::npos);

  // An index entry pointing at a manifest that is not JSON.
  std::string garbage = "not a manifest";
  std::string digest = "sha256:" + amlc::Sha256Hex(garbage);
  std::ofstream(BlobPath(base_layout.str(), digest), std::ios::binary) << garbage;
  json index = ReadJson(base_layout.path() / "index.json");
  index["manifests"].push_back(
      {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
       {"digest", digest},
       {"size", garbage.size()},
       {"annotations", {{"org.opencontainers.image.ref.name", "python:3.11"}}}});
  std::ofstream(base_layout.path() / "index.json") << index.dump();
  auto malformed = BuildImage(request, nullptr);
  CHECK(malformed.status().code() == StatusCode::kInvalidArgument);
  CHECK(malformed.status().message().find("manifest " + digest) != std::string::npos);
  CHECK(malformed.status().message().find("not valid JSON") != std::string::npos);
  // Garbage collection refuses to guess what an unreadable manifest holds.
  CHECK(RemoveImage(base_layout.str(), "other").code() == StatusCode::kInvalidArgument);
  CHECK(ResolveRef(base_layout.str(), "other").ok());

  request.base_layout.clear();  // a ref without a layout
  CHECK(BuildImage(request, nullptr).status().code() == StatusCode::kInvalidArgument);
  request.base_ref.clear();

  auto refused = [&](BuildRequest bad) {
    auto result = BuildImage(bad, nullptr);
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    return result.status().message();
  };
  BuildRequest bad = request;
  bad.ref_name = "bad name";
  CHECK(refused(bad).find("invalid image ref name 'bad name'") != std::string::npos);
  bad = request;
  bad.layers[1].files[0].image_path = "/var/amlc/app/score.py";
  CHECK(refused(bad).find("must be relative") != std::string::npos);
  bad.layers[1].files[0].image_path = "var/../etc/passwd";
  CHECK(refused(bad).find("'..'") != std::string::npos);
  bad.layers[1].files[0].image_path = "var/amlc/app/util/h\xc3\xa9llo.txt";
  CHECK(refused(bad).find("appears twice") != std::string::npos);
  bad.layers[1].files[0].image_path = "var/amlc/app/util";
  CHECK(refused(bad).find("which is a file") != std::string::npos);
  bad = request;
  bad.config.env.push_back("NOVALUE");
  CHECK(refused(bad).find("KEY=value") != std::string::npos);
  bad = request;
  bad.config.exposed_ports = {"http"};
  CHECK(refused(bad).find("exposed port 'http'") != std::string::npos);
  CHECK_FALSE(fs::exists(layout.path() / "index.json"));  // nothing was written
}

TEST_CASE("concurrent builds into one layout keep every index entry", "[image]") {
  Sources sources;
  SpecDir layout;
  // Another process and three threads, each with its own ref name and code.
  for (int i = 0; i < 4; ++i) {
    sources.dir.Write("code" + std::to_string(i) + "/score.py",
                      "VERSION = " + std::to_string(i) + "\n");
  }
  auto request_for = [&](int i) {
    BuildRequest request = sources.Request(layout.str(), "iris-image:" + std::to_string(i));
    request.layers[1].files = {
        {"var/amlc/app/score.py", sources.Path("code" + std::to_string(i) + "/score.py"), false}};
    return request;
  };
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto built = BuildImage(request_for(0), nullptr);
    _exit(built.ok() ? 0 : 1);
  }
  std::vector<std::thread> threads;
  std::vector<bool> ok(4, false);
  for (int i = 1; i < 4; ++i) {
    threads.emplace_back([&, i] { ok[i] = BuildImage(request_for(i), nullptr).ok(); });
  }
  for (std::thread& thread : threads) thread.join();
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(ok[1]);
  CHECK(ok[2]);
  CHECK(ok[3]);
  json index = ReadJson(layout.path() / "index.json");
  std::vector<std::string> names;
  for (const json& entry : index["manifests"]) {
    names.push_back(entry["annotations"]["org.opencontainers.image.ref.name"]);
  }
  CHECK(names ==
        std::vector<std::string>{"iris-image:0", "iris-image:1", "iris-image:2", "iris-image:3"});
  for (int i = 0; i < 4; ++i) {
    auto digest = ResolveRef(layout.str(), "iris-image:" + std::to_string(i));
    REQUIRE(digest.ok());
    CHECK(fs::exists(BlobPath(layout.str(), *digest)));
  }
  // No temporary files are left behind.
  for (const std::string& name : BlobNames(layout.str())) {
    CHECK(name.find(".tmp") == std::string::npos);
  }
}
