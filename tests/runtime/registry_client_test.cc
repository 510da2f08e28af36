#include "runtime/artifacts/oci/registry_client.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/digest.h"
#include "runtime/artifacts/oci/registry_http.h"
#include "tests/test_support.h"

// [image]: no servers needed. [registry]: needs the test registries of
// tests/servers/registry.sh, which ctest starts through the fixture "registry".

namespace {

namespace fs = std::filesystem;
using amlc::StatusCode;
using amlc::runtime::image::ParseRegistryReference;
using amlc::runtime::image::PullImage;
using amlc::runtime::image::PushImage;
using amlc::runtime::image::PushResult;
using amlc::runtime::image::RegistryOptions;
using amlc::runtime::image::RegistryReference;
using amlc::testing::ReadFile;
using amlc::testing::Run;
using amlc::testing::SpecDir;
using nlohmann::json;

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// "user:password" the basic and token registries accept.
std::pair<std::string, std::string> Credentials() {
  std::string text = Trim(ReadFile(fs::path(amlc::testing::TestServersDir()) / "credentials"));
  size_t colon = text.find(':');
  return {text.substr(0, colon), text.substr(colon + 1)};
}

// A repository name no other test (or earlier run against the same servers) uses.
std::string UniqueRepo(const std::string& name) {
  static std::atomic<int> counter{0};
  return "amlc-test/" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

RegistryReference Ref(const std::string& text) {
  auto ref = ParseRegistryReference(text);
  INFO(ref.status().message());
  REQUIRE(ref.ok());
  return ref.value();
}

std::string IndexDigest(const fs::path& layout, const std::string& ref_name) {
  json index = json::parse(ReadFile(layout / "index.json"));
  for (const json& entry : index["manifests"]) {
    if (entry["annotations"]["org.opencontainers.image.ref.name"] == ref_name) {
      return entry["digest"].get<std::string>();
    }
  }
  FAIL("no index.json entry " << ref_name << " in " << layout);
  return "";
}

// Builds an OCI layout with umoci (as INFRA.md §2): one layer with a small
// model file and `random_bytes` of incompressible data, and a config with an
// entrypoint. Returns the manifest digest of ref "v1".
std::string MakeLayout(const fs::path& work, uint64_t random_bytes = 4096) {
  fs::path bundle = work / "bundle";
  std::string layout = (work / "oci").string();
  std::string script =
      "set -e; cd '" + work.string() +
      "'; umoci init --layout oci; umoci new --image oci:v1; "
      "umoci unpack --rootless --image oci:v1 bundle >/dev/null; "
      "mkdir -p bundle/rootfs/model bundle/rootfs/bin; cp /bin/true bundle/rootfs/bin/; "
      "echo 'hello model v1' > bundle/rootfs/model/weights.txt; "
      "head -c " +
      std::to_string(random_bytes) +
      " /dev/urandom > bundle/rootfs/model/blob.bin; "
      "umoci repack --image oci:v1 bundle; "
      "umoci config --image oci:v1 --config.entrypoint /bin/true --config.env MODEL=demo; "
      "rm -rf bundle";
  std::string output;
  int status = Run("(" + script + ") 2>&1", &output);
  INFO(output);
  REQUIRE(status == 0);
  return IndexDigest(work / "oci", "v1");
}

// Blobs of the manifest: config + layers.
size_t BlobCount(const fs::path& layout, const std::string& digest) {
  json manifest = json::parse(ReadFile(layout / "blobs/sha256" / digest.substr(7)));
  return 1 + manifest["layers"].size();
}

// `skopeo inspect` of an image: its JSON (Digest, Layers, ...).
json SkopeoInspect(const std::string& image, const std::string& flags = "") {
  std::string output;
  int status = Run("skopeo inspect " + flags + " '" + image + "' 2>&1", &output);
  INFO("skopeo inspect " << image << ": " << output);
  REQUIRE(status == 0);
  return json::parse(output);
}

PushResult PushOk(const fs::path& layout, const std::string& digest, const RegistryReference& to,
                  const RegistryOptions& options, std::vector<std::string>* progress = nullptr) {
  auto pushed = PushImage(layout.string(), digest, to, options, [&](const std::string& line) {
    if (progress != nullptr) progress->push_back(line);
  });
  INFO(pushed.status().message());
  REQUIRE(pushed.ok());
  return pushed.value();
}

// The error of a push as the test user with a wrong password.
amlc::Status RefusedPush(const fs::path& layout, const std::string& digest,
                         const RegistryReference& to) {
  RegistryOptions wrong;
  wrong.username = Credentials().first;
  wrong.password = "not-the-password";
  auto refused = PushImage(layout.string(), digest, to, wrong, nullptr);
  REQUIRE_FALSE(refused.ok());
  return refused.status();
}

// With the test credentials (added to `options`) a push uploads every blob,
// skopeo reads the image back, and a pull gets the same manifest.
void PushAndPullWithCredentials(const fs::path& layout, const std::string& digest,
                                const RegistryReference& to, RegistryOptions options) {
  auto [user, password] = Credentials();
  options.username = user;
  options.password = password;
  PushResult result = PushOk(layout, digest, to, options);
  CHECK(result.blobs_uploaded == static_cast<int>(BlobCount(layout, digest)));
  json inspected = SkopeoInspect("docker://" + to.ToString(),
                                 "--tls-verify=false --creds '" + user + ":" + password + "'");
  CHECK(inspected["Digest"] == digest);

  SpecDir pulled;
  auto pull = PullImage(to, pulled.str(), "base", options);
  INFO(pull.status().message());
  REQUIRE(pull.ok());
  CHECK(pull.value() == digest);
}

}  // namespace

// --- references -------------------------------------------------------------

TEST_CASE("ParseRegistryReference reads host, port, repository path and tag", "[image]") {
  RegistryReference ref = Ref("127.0.0.1:5000/team/iris:1");
  CHECK(ref.scheme.empty());
  CHECK(ref.host == "127.0.0.1:5000");
  CHECK(ref.repository == "team/iris");
  CHECK(ref.tag == "1");
  CHECK(ref.ToString() == "127.0.0.1:5000/team/iris:1");

  ref = Ref("registry.example.com/a/b/c");
  CHECK(ref.host == "registry.example.com");
  CHECK(ref.repository == "a/b/c");
  CHECK(ref.tag == "latest");
  CHECK(ref.ToString() == "registry.example.com/a/b/c:latest");

  ref = Ref("localhost/iris_model.v2-x:V1.0_rc-1");
  CHECK(ref.host == "localhost");
  CHECK(ref.repository == "iris_model.v2-x");
  CHECK(ref.tag == "V1.0_rc-1");

  ref = Ref("[::1]:5000/iris");
  CHECK(ref.host == "[::1]:5000");
  CHECK(ref.repository == "iris");

  ref = Ref("reg.example.com:443/a__b/c---d:tag");
  CHECK(ref.repository == "a__b/c---d");
}

TEST_CASE("ParseRegistryReference takes digests and http:// or https:// prefixes", "[image]") {
  std::string digest = "sha256:" + std::string(64, 'a');
  RegistryReference ref = Ref("127.0.0.1:5000/team/iris@" + digest);
  CHECK(ref.repository == "team/iris");
  CHECK(ref.tag == digest);
  CHECK(ref.ToString() == "127.0.0.1:5000/team/iris@" + digest);

  ref = Ref("http://registry.local:5000/iris:2");
  CHECK(ref.scheme == "http");
  CHECK(ref.host == "registry.local:5000");
  CHECK(ref.ToString() == "http://registry.local:5000/iris:2");

  ref = Ref("https://127.0.0.1:5443/iris");
  CHECK(ref.scheme == "https");
  CHECK(ref.ToString() == "https://127.0.0.1:5443/iris:latest");
  // A reference's own text round-trips.
  CHECK(Ref(ref.ToString()).ToString() == ref.ToString());
}

TEST_CASE("ParseRegistryReference explains what is wrong with a reference", "[image]") {
  auto error = [](const std::string& text) {
    auto ref = ParseRegistryReference(text);
    REQUIRE_FALSE(ref.ok());
    CHECK(ref.status().code() == StatusCode::kInvalidArgument);
    CHECK(ref.status().message().find("'" + text + "'") != std::string::npos);
    return ref.status().message();
  };
  CHECK_THAT(error(""), Catch::Contains("empty"));
  CHECK_THAT(error("127.0.0.1:5000"), Catch::Contains("no repository"));
  CHECK_THAT(error("127.0.0.1:5000/"), Catch::Contains("no repository"));
  CHECK_THAT(error("/team/iris:1"), Catch::Contains("no registry host"));
  CHECK_THAT(error("team/iris:1"), Catch::Contains("'team' is not a registry host"));
  CHECK_THAT(error("iris"), Catch::Contains("no repository"));
  CHECK_THAT(error("127.0.0.1:5000/Team/iris"), Catch::Contains("must be lower case"));
  CHECK_THAT(error("127.0.0.1:5000/team/ir$is"), Catch::Contains("'ir$is' is not valid"));
  CHECK_THAT(error("127.0.0.1:5000/team/-iris"), Catch::Contains("'-iris' is not valid"));
  CHECK_THAT(error("127.0.0.1:5000/team/iris."), Catch::Contains("'iris.' is not valid"));
  CHECK_THAT(error("127.0.0.1:5000/team//iris"), Catch::Contains("empty path component"));
  CHECK_THAT(error("127.0.0.1:5000/team/iris/"), Catch::Contains("empty path component"));
  CHECK_THAT(error("127.0.0.1:5000/iris:"), Catch::Contains("tag after ':' is empty"));
  CHECK_THAT(error("127.0.0.1:5000/iris:-x"), Catch::Contains("tag '-x' is not valid"));
  CHECK_THAT(error("127.0.0.1:5000/iris:" + std::string(129, 'x')), Catch::Contains("not valid"));
  CHECK_THAT(error("127.0.0.1:5000/iris@sha256:abc"), Catch::Contains("64 lower-case hex"));
  CHECK_THAT(error("127.0.0.1:5000/iris@md5:" + std::string(32, 'a')),
             Catch::Contains("'sha256:'"));
  CHECK_THAT(error("127.0.0.1:5000/iris:1@sha256:" + std::string(64, 'a')),
             Catch::Contains("not both"));
  CHECK_THAT(error("127.0.0.1:0/iris"), Catch::Contains("port '0'"));
  CHECK_THAT(error("127.0.0.1:99999/iris"), Catch::Contains("port '99999'"));
  CHECK_THAT(error("127.0.0.1:/iris"), Catch::Contains("port ''"));
  CHECK_THAT(error("reg_istry.com/iris"), Catch::Contains("character '_'"));
  CHECK_THAT(error("[::1/iris"), Catch::Contains("closing ']'"));
  CHECK_THAT(error("ftp://127.0.0.1/iris"), Catch::Contains("unsupported scheme 'ftp'"));
  CHECK_THAT(error("127.0.0.1:5000/ir is"), Catch::Contains("whitespace"));
}

TEST_CASE("registries on loopback hosts default to http, others to https", "[image]") {
  using amlc::runtime::image::registry::EffectiveScheme;
  using amlc::runtime::image::registry::IsLoopbackHost;
  CHECK(IsLoopbackHost("127.0.0.1:5000"));
  CHECK(IsLoopbackHost("127.1.2.3"));
  CHECK(IsLoopbackHost("localhost:5000"));
  CHECK(IsLoopbackHost("LOCALHOST"));
  CHECK(IsLoopbackHost("[::1]:5000"));
  CHECK_FALSE(IsLoopbackHost("128.0.0.1:5000"));
  CHECK_FALSE(IsLoopbackHost("127.example.com"));
  CHECK_FALSE(IsLoopbackHost("localhost.example.com"));
  CHECK_FALSE(IsLoopbackHost("[::2]:5000"));
  CHECK(EffectiveScheme(Ref("127.0.0.1:5000/a")) == "http");
  CHECK(EffectiveScheme(Ref("registry.example.com/a")) == "https");
  CHECK(EffectiveScheme(Ref("https://127.0.0.1:5000/a")) == "https");
  CHECK(EffectiveScheme(Ref("http://registry.example.com/a")) == "http");

  using amlc::runtime::image::registry::AppendQuery;
  CHECK(AppendQuery("/v2/a/blobs/uploads/u", "digest=d") == "/v2/a/blobs/uploads/u?digest=d");
  CHECK(AppendQuery("http://h/v2/u?_state=x", "digest=d") == "http://h/v2/u?_state=x&digest=d");
  CHECK(AppendQuery("http://h/v2/u?", "digest=d") == "http://h/v2/u?digest=d");
}

TEST_CASE("PushImage to an unreachable registry names the host and the step", "[image]") {
  SpecDir work;
  fs::create_directories(work.path() / "blobs/sha256");
  std::string manifest = R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" +
                         amlc::Sha256Hex("cfg") + R"(","size":3},"layers":[]})";
  std::string digest = "sha256:" + amlc::Sha256Hex(manifest);
  std::ofstream(work.path() / "blobs/sha256" / digest.substr(7)) << manifest;
  std::ofstream(work.path() / "blobs/sha256" / amlc::Sha256Hex("cfg")) << "cfg";
  auto pushed = PushImage(work.str(), digest, Ref("127.0.0.1:1/team/iris:1"), {}, nullptr);
  REQUIRE_FALSE(pushed.ok());
  CHECK(pushed.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(pushed.status().message(), Catch::Contains("cannot connect to 127.0.0.1:1") &&
                                            Catch::Contains("checking for blob sha256:"));

  auto missing = PushImage(work.str(), "sha256:" + std::string(64, 'b'),
                           Ref("127.0.0.1:1/team/iris:1"), {}, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains("lacks blob sha256:bbbb"));
}

// --- push and pull against docker-registry ------------------------------------

TEST_CASE("PushImage uploads an OCI layout that skopeo reads back with the same digest",
          "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry");
  SpecDir work;
  std::string digest = MakeLayout(work.path());
  fs::path layout = work.path() / "oci";
  std::string target = addr + "/" + UniqueRepo("push") + ":v1";
  std::vector<std::string> progress;
  PushResult result = PushOk(layout, digest, Ref(target), {}, &progress);
  CHECK(result.manifest_digest == digest);
  CHECK(result.blobs_uploaded == static_cast<int>(BlobCount(layout, digest)));
  CHECK(result.blobs_skipped == 0);
  CHECK(result.bytes_uploaded > 0);
  REQUIRE(progress.size() == BlobCount(layout, digest) + 1);
  CHECK_THAT(progress[0], Catch::StartsWith("blob sha256:") && Catch::EndsWith(" uploaded"));
  CHECK_THAT(progress.back(), Catch::Contains("pushed to " + target));

  json inspected = SkopeoInspect("docker://" + target, "--tls-verify=false");
  CHECK(inspected["Digest"] == digest);
  CHECK(inspected["Env"].dump().find("MODEL=demo") != std::string::npos);

  // And back into a layout with skopeo: the same manifest.
  std::string output;
  std::string copy = "skopeo copy -q --src-tls-verify=false docker://" + target +
                     " oci:" + (work.path() / "copied").string() + ":v1 2>&1";
  int status = Run(copy, &output);
  INFO(output);
  REQUIRE(status == 0);
  CHECK(IndexDigest(work.path() / "copied", "v1") == digest);
}

TEST_CASE("pushing an image again uploads no blob", "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry");
  SpecDir work;
  std::string digest = MakeLayout(work.path());
  fs::path layout = work.path() / "oci";
  RegistryReference to = Ref(addr + "/" + UniqueRepo("again") + ":v1");
  PushResult first = PushOk(layout, digest, to, {});
  CHECK(first.blobs_uploaded == static_cast<int>(BlobCount(layout, digest)));

  std::vector<std::string> progress;
  to.tag = "v2";
  PushResult second = PushOk(layout, digest, to, {}, &progress);
  CHECK(second.manifest_digest == digest);
  CHECK(second.blobs_uploaded == 0);
  CHECK(second.blobs_skipped == static_cast<int>(BlobCount(layout, digest)));
  CHECK(second.bytes_uploaded == 0);
  CHECK_THAT(progress[0],
             Catch::StartsWith("blob sha256:") && Catch::EndsWith("\u2026 exists, skipped"));
  CHECK(SkopeoInspect("docker://" + to.ToString(), "--tls-verify=false")["Digest"] == digest);
}

TEST_CASE("chunked uploads give the same digest as monolithic ones", "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry");
  SpecDir work;
  std::string digest = MakeLayout(work.path(), 1536 * 1024);
  fs::path layout = work.path() / "oci";
  json manifest = json::parse(ReadFile(layout / "blobs/sha256" / digest.substr(7)));
  uint64_t layer_size = manifest["layers"][0]["size"].get<uint64_t>();
  REQUIRE(layer_size > 1024 * 1024);

  RegistryOptions chunked;
  chunked.chunk_size = 64 * 1024;
  RegistryReference to = Ref(addr + "/" + UniqueRepo("chunked") + ":v1");
  std::vector<std::string> progress;
  PushResult result = PushOk(layout, digest, to, chunked, &progress);
  CHECK(result.blobs_uploaded == static_cast<int>(BlobCount(layout, digest)));
  CHECK(result.bytes_uploaded >= layer_size);
  json inspected = SkopeoInspect("docker://" + to.ToString(), "--tls-verify=false");
  CHECK(inspected["Digest"] == digest);
  CHECK(inspected["Layers"][0] == manifest["layers"][0]["digest"]);

  // The registry holds the layer's exact bytes: pull it back and compare.
  SpecDir pulled;
  auto pulled_digest = PullImage(to, pulled.str(), "v1", {});
  INFO(pulled_digest.status().message());
  REQUIRE(pulled_digest.ok());
  std::string layer_hex = manifest["layers"][0]["digest"].get<std::string>().substr(7);
  CHECK(ReadFile(pulled.path() / "blobs/sha256" / layer_hex) ==
        ReadFile(layout / "blobs/sha256" / layer_hex));

  // A monolithic push of the same layout to another repository: same digest.
  RegistryReference other = Ref(addr + "/" + UniqueRepo("monolithic") + ":v1");
  PushResult whole = PushOk(layout, digest, other, {});
  CHECK(whole.manifest_digest == digest);
  CHECK(SkopeoInspect("docker://" + other.ToString(), "--tls-verify=false")["Digest"] == digest);
}

TEST_CASE("a push reports each blob's bytes as they are sent, with a total and one final report",
          "[registry][byte_progress]") {
  std::string addr = amlc::testing::TestServerAddress("registry");
  SpecDir work;
  std::string digest = MakeLayout(work.path(), 1536 * 1024);
  fs::path layout = work.path() / "oci";
  for (uint64_t chunk_size : {uint64_t{0}, uint64_t{64 * 1024}}) {
    INFO("chunk_size " << chunk_size);
    RegistryOptions options;
    options.chunk_size = chunk_size;
    std::vector<amlc::ByteProgress> reports;
    options.on_bytes = [&](const amlc::ByteProgress& report) { reports.push_back(report); };
    RegistryReference to = Ref(addr + "/" + UniqueRepo("bytes") + ":v1");
    PushResult result = PushOk(layout, digest, to, options);
    size_t finals = 0;
    uint64_t final_bytes = 0;
    for (const auto& report : reports) {
      REQUIRE(report.total);
      CHECK(report.done <= *report.total);
      CHECK_THAT(report.label, Catch::StartsWith("blob ") && Catch::Contains("/"));
      if (!report.finished) continue;
      ++finals;
      final_bytes += report.done;
      CHECK(report.done == *report.total);
      CHECK_THAT(amlc::FormatByteProgress(report), Catch::Contains(" 100% "));
    }
    CHECK(finals == static_cast<size_t>(result.blobs_uploaded));
    CHECK(final_bytes == result.bytes_uploaded);
    // The 1.5 MiB layer is sent in several pieces; the throttle lets the
    // first through besides the final one.
    CHECK(reports.size() > finals);
  }
}

TEST_CASE("a registry with basic auth refuses a push without credentials and takes it with them",
          "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry-basic");
  SpecDir work;
  std::string digest = MakeLayout(work.path());
  fs::path layout = work.path() / "oci";
  RegistryReference to = Ref(addr + "/" + UniqueRepo("basic") + ":v1");

  auto anonymous = PushImage(layout.string(), digest, to, {}, nullptr);
  REQUIRE_FALSE(anonymous.ok());
  CHECK(anonymous.status().code() == StatusCode::kFailedPrecondition);
  CHECK(anonymous.status().message() == "registry " + addr +
                                            " needs credentials: set --username/--password or "
                                            "AMLC_REGISTRY_USERNAME/AMLC_REGISTRY_PASSWORD");

  CHECK_THAT(RefusedPush(layout, digest, to).message(),
             Catch::Contains("registry " + addr + " rejected the credentials of user '" +
                             Credentials().first));

  // With them the push goes through, and pulling from it needs them too.
  PushAndPullWithCredentials(layout, digest, to, {});
}

TEST_CASE("a registry with bearer tokens takes a push through its token realm", "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry-token");
  SpecDir work;
  std::string digest = MakeLayout(work.path());
  fs::path layout = work.path() / "oci";
  RegistryReference to = Ref(addr + "/" + UniqueRepo("token") + ":v1");

  auto anonymous = PushImage(layout.string(), digest, to, {}, nullptr);
  REQUIRE_FALSE(anonymous.ok());
  CHECK_THAT(anonymous.status().message(),
             Catch::Contains("registry " + addr + " needs credentials"));

  CHECK_THAT(RefusedPush(layout, digest, to).message(),
             Catch::Contains("token server") && Catch::Contains("rejected the credentials"));

  RegistryOptions chunked;
  chunked.chunk_size = 2048;  // many requests on one token
  PushAndPullWithCredentials(layout, digest, to, chunked);
}

TEST_CASE("a TLS registry with a self-signed certificate is trusted through ca_file",
          "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry-tls");
  std::string ca = (fs::path(amlc::testing::TestServersDir()) / "ca.pem").string();
  SpecDir work;
  std::string digest = MakeLayout(work.path());
  fs::path layout = work.path() / "oci";
  // A loopback registry defaults to plain http: https:// asks for TLS.
  RegistryReference to = Ref("https://" + addr + "/" + UniqueRepo("tls") + ":v1");

  auto untrusted = PushImage(layout.string(), digest, to, {}, nullptr);
  REQUIRE_FALSE(untrusted.ok());
  CHECK(untrusted.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(untrusted.status().message(),
             Catch::Contains("TLS certificate of " + addr + " is not trusted") &&
                 Catch::Contains("self-signed certificate") && Catch::Contains("--ca-file"));

  RegistryOptions options;
  options.ca_file = ca;
  PushResult result = PushOk(layout, digest, to, options);
  CHECK(result.blobs_uploaded == static_cast<int>(BlobCount(layout, digest)));

  RegistryOptions unverified;
  unverified.tls_verify = false;
  to.tag = "v2";
  PushResult again = PushOk(layout, digest, to, unverified);
  CHECK(again.blobs_skipped == static_cast<int>(BlobCount(layout, digest)));

  // skopeo reads it with the same CA.
  fs::create_directories(work.path() / "certs");
  fs::copy_file(ca, work.path() / "certs/ca.crt");
  json inspected = SkopeoInspect("docker://" + addr + "/" + to.repository + ":v1",
                                 "--cert-dir '" + (work.path() / "certs").string() + "'");
  CHECK(inspected["Digest"] == digest);

  // Without https:// the client speaks http to it, and says so.
  RegistryReference plain = Ref(addr + "/" + to.repository + ":v1");
  auto confused = PullImage(plain, (work.path() / "pulled").string(), "x", {});
  REQUIRE_FALSE(confused.ok());
  CHECK_THAT(confused.status().message(), Catch::Contains("https://" + addr));

  RegistryOptions bad_ca;
  bad_ca.ca_file = (work.path() / "missing.pem").string();
  auto unreadable = PushImage(layout.string(), digest, to, bad_ca, nullptr);
  REQUIRE_FALSE(unreadable.ok());
  CHECK(unreadable.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(unreadable.status().message(), Catch::Contains("missing.pem"));
}

TEST_CASE("PullImage copies a pushed image into a fresh layout that skopeo reads", "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry");
  SpecDir work;
  std::string digest = MakeLayout(work.path());
  fs::path layout = work.path() / "oci";
  RegistryReference to = Ref(addr + "/" + UniqueRepo("pull") + ":v1");
  PushOk(layout, digest, to, {});

  fs::path pulled = work.path() / "pulled";
  RegistryOptions metered;
  std::vector<amlc::ByteProgress> reports;
  metered.on_bytes = [&](const amlc::ByteProgress& report) { reports.push_back(report); };
  auto got = PullImage(to, pulled.string(), "zeta", metered);
  INFO(got.status().message());
  REQUIRE(got.ok());
  CHECK(got.value() == digest);
  // Each blob received ends with one finished report at its size.
  size_t finished = 0;
  for (const amlc::ByteProgress& report : reports) {
    CHECK(report.label.rfind("pull blob ", 0) == 0);
    if (!report.finished) continue;
    ++finished;
    CHECK(report.done == report.total.value_or(0));
  }
  CHECK(finished >= 2);  // the config and the layer
  CHECK(fs::exists(pulled / "oci-layout"));
  CHECK(IndexDigest(pulled, "zeta") == digest);

  // Every blob hashes to its name and the set equals the source layout's.
  size_t blobs = 0;
  for (const auto& entry : fs::directory_iterator(pulled / "blobs/sha256")) {
    CHECK(amlc::Sha256Hex(ReadFile(entry.path())) == entry.path().filename().string());
    CHECK(fs::exists(layout / "blobs/sha256" / entry.path().filename()));
    ++blobs;
  }
  CHECK(blobs == BlobCount(layout, digest) + 1);

  json inspected = SkopeoInspect("oci:" + pulled.string() + ":zeta");
  CHECK(inspected["Digest"] == digest);

  // A second ref name (and by digest): entries sorted by ref name, old ones kept.
  RegistryReference by_digest = to;
  by_digest.tag = digest;
  auto again = PullImage(by_digest, pulled.string(), "alpha", {});
  INFO(again.status().message());
  REQUIRE(again.ok());
  json index = json::parse(ReadFile(pulled / "index.json"));
  REQUIRE(index["manifests"].size() == 2);
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "alpha");
  CHECK(index["manifests"][1]["annotations"]["org.opencontainers.image.ref.name"] == "zeta");
  CHECK(index["manifests"][0]["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(SkopeoInspect("oci:" + pulled.string() + ":alpha")["Digest"] == digest);

  // Unknown tags: the registry's own error.
  RegistryReference missing = to;
  missing.tag = "no-such-tag";
  auto unknown = PullImage(missing, pulled.string(), "x", {});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotFound);
  CHECK_THAT(unknown.status().message(), Catch::Contains("registry " + addr + " answered 404") &&
                                             Catch::Contains("MANIFEST_UNKNOWN"));
}

TEST_CASE("PullImage picks the linux/amd64 image of an image index", "[registry]") {
  std::string addr = amlc::testing::TestServerAddress("registry");
  SpecDir work;
  std::string digest = MakeLayout(work.path());
  fs::path layout = work.path() / "oci";
  std::string manifest = ReadFile(layout / "blobs/sha256" / digest.substr(7));
  // A second "platform" image: the same config and layers under another manifest.
  json arm = json::parse(manifest);
  arm["annotations"] = {{"amlc.test", "arm64"}};
  std::string arm_text = arm.dump();
  std::string arm_digest = "sha256:" + amlc::Sha256Hex(arm_text);
  std::ofstream(layout / "blobs/sha256" / arm_digest.substr(7)) << arm_text;
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", arm_digest},
                   {"size", arm_text.size()},
                   {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
                  {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", digest},
                   {"size", manifest.size()},
                   {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  std::string index_text = index.dump();
  std::string index_digest = "sha256:" + amlc::Sha256Hex(index_text);
  std::ofstream(layout / "blobs/sha256" / index_digest.substr(7)) << index_text;
  json top = json::parse(ReadFile(layout / "index.json"));
  top["manifests"].push_back({{"mediaType", "application/vnd.oci.image.index.v1+json"},
                              {"digest", index_digest},
                              {"size", index_text.size()},
                              {"annotations", {{"org.opencontainers.image.ref.name", "multi"}}}});
  std::ofstream(layout / "index.json") << top.dump();
  std::string target = addr + "/" + UniqueRepo("index") + ":multi";
  std::string output;
  int status = Run("skopeo copy -q --all --dest-tls-verify=false oci:" + layout.string() +
                       ":multi docker://" + target + " 2>&1",
                   &output);
  INFO(output);
  REQUIRE(status == 0);

  fs::path pulled = work.path() / "pulled";
  auto got = PullImage(Ref(target), pulled.string(), "base", {});
  INFO(got.status().message());
  REQUIRE(got.ok());
  CHECK(got.value() == digest);
  CHECK(IndexDigest(pulled, "base") == digest);
  CHECK(SkopeoInspect("oci:" + pulled.string() + ":base")["Digest"] == digest);
}
