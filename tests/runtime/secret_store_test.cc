// The workspace's encrypted secret store: values round-trip but never reach
// the disk or the terminal in clear, files are private, tampering is caught,
// concurrent writers keep each other's secrets, and only owners change them.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/workspace/secret_store.h"
#include "tests/test_support.h"

using amlc::Status;
using amlc::StatusCode;
using amlc::runtime::SecretKeySource;
using amlc::runtime::SecretStore;
using namespace amlc::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char kValue[] = "ghp_s3cr3t-Token-Value-0123456789";

SecretStore OpenStore(const std::string& home) {
  auto store = SecretStore::Open(home);
  INFO(store.status().message());
  REQUIRE(store.ok());
  return std::move(store.value());
}

unsigned Mode(const fs::path& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

// Every byte the store wrote, to show the value is in none of it.
std::string AllFiles(const fs::path& dir) {
  std::string bytes;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) bytes += ReadFile(entry.path());
  }
  return bytes;
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string Home(const SpecDir& dir) { return dir.str() + "/.amlc"; }

std::string Secrets(const SpecDir& dir, const std::string& args) {
  return Amlc("secrets " + args + " --workspace " + Home(dir) + " 2>&1");
}

}  // namespace

TEST_CASE("secrets round-trip and are listed without their values", "[secrets]") {
  SpecDir dir;
  SecretStore store = OpenStore(Home(dir));
  REQUIRE(store.Set("forge-token", kValue, "alice@example.com").ok());
  REQUIRE(store.Set("empty.value_ok", "", "alice@example.com").ok());
  auto value = store.Get("forge-token");
  REQUIRE(value.ok());
  CHECK(value.value() == kValue);
  CHECK(store.Get("empty.value_ok").value().empty());

  REQUIRE(store.Set("forge-token", "rotated", "bob@example.com").ok());
  CHECK(OpenStore(Home(dir)).Get("forge-token").value() == "rotated");  // another object sees it

  auto listed = store.List();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK(listed.value()[1].name == "forge-token");
  CHECK(listed.value()[1].updated_by == "bob@example.com");
  CHECK(listed.value()[1].updated_at > 1'700'000'000'000);

  REQUIRE(store.Delete("forge-token").ok());
  auto gone = store.Get("forge-token");
  CHECK(gone.status().code() == StatusCode::kNotFound);
  CHECK(gone.status().message() ==
        "no secret 'forge-token' in the workspace; set it with: amlc secrets set forge-token");
  CHECK(store.Delete("forge-token").code() == StatusCode::kNotFound);
}

TEST_CASE("secret files are private and hold no value in clear", "[secrets]") {
  SpecDir dir;
  mode_t old_umask = umask(0);  // the modes must not depend on the caller's umask
  SecretStore store = OpenStore(Home(dir));
  REQUIRE(store.Set("forge-token", kValue, "alice").ok());
  umask(old_umask);
  fs::path secrets = Home(dir) + "/secrets";
  CHECK(Mode(secrets) == 0700);
  CHECK(Mode(secrets / "master.key") == 0600);
  CHECK(Mode(secrets / "secrets.json") == 0600);
  CHECK(fs::file_size(secrets / "master.key") == 32);
  CHECK(AllFiles(secrets).find(kValue) == std::string::npos);
  CHECK(AllFiles(secrets).find("s3cr3t") == std::string::npos);

  // A fresh nonce per value: the same value twice seals differently.
  REQUIRE(store.Set("again", kValue, "alice").ok());
  json file = json::parse(ReadFile(secrets / "secrets.json"));
  CHECK(file["secrets"]["again"]["nonce"] != file["secrets"]["forge-token"]["nonce"]);
  CHECK(file["secrets"]["again"]["ciphertext"] != file["secrets"]["forge-token"]["ciphertext"]);

  // Reopening keeps the key (created once); a key others can read is refused.
  CHECK(OpenStore(Home(dir)).Get("forge-token").value() == kValue);
  fs::permissions(secrets / "master.key", fs::perms::group_read, fs::perm_options::add);
  auto loose = SecretStore::Open(Home(dir));
  REQUIRE_FALSE(loose.ok());
  CHECK(loose.status().code() == amlc::StatusCode::kFailedPrecondition);
  CHECK(loose.status().message().find("is readable by others (mode 0640); restrict it with: chmod 600") !=
        std::string::npos);
}

TEST_CASE("a tampered store or a replaced key is detected", "[secrets]") {
  SpecDir dir;
  SecretStore store = OpenStore(Home(dir));
  REQUIRE(store.Set("forge-token", kValue, "alice").ok());
  REQUIRE(store.Set("other", "another value", "alice").ok());
  fs::path file = Home(dir) + "/secrets/secrets.json";
  const std::string kTampered =
      "secret 'forge-token' cannot be decrypted (the store was changed or its key replaced)";
  auto expect_tampered = [&](const SecretStore& s) {
    auto value = s.Get("forge-token");
    REQUIRE_FALSE(value.ok());
    CHECK(value.status().code() == StatusCode::kInternal);
    CHECK(value.status().message() == kTampered);
  };
  std::string original = ReadFile(file);

  SECTION("one bit of the ciphertext flipped") {
    json document = json::parse(original);
    std::string ciphertext = document["secrets"]["forge-token"]["ciphertext"];
    ciphertext[0] = ciphertext[0] == '0' ? '1' : '0';
    document["secrets"]["forge-token"]["ciphertext"] = ciphertext;
    WriteBytes(file, document.dump());
    expect_tampered(store);
    CHECK(store.Get("other").value() == "another value");  // the rest still reads
  }
  SECTION("the tag changed") {
    json document = json::parse(original);
    document["secrets"]["forge-token"]["tag"] = std::string(32, 'a');
    WriteBytes(file, document.dump());
    expect_tampered(store);
  }
  SECTION("another secret's sealed value moved under its name") {
    json document = json::parse(original);
    document["secrets"]["forge-token"] = document["secrets"]["other"];
    WriteBytes(file, document.dump());
    expect_tampered(store);
  }
  SECTION("a field of the wrong type") {
    json document = json::parse(original);
    document["secrets"]["forge-token"]["nonce"] = 42;
    WriteBytes(file, document.dump());
    expect_tampered(store);
  }
  SECTION("the key replaced") {
    WriteBytes(Home(dir) + "/secrets/master.key", std::string(32, 'k'));
    auto reopened = SecretStore::Open(Home(dir));
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.status().code() == StatusCode::kFailedPrecondition);
    CHECK(reopened.status().message() == "the workspace's master.key is not the key the secret store was sealed with");
  }
  SECTION("the file is not JSON") {
    WriteBytes(file, "{ not json");
    auto value = store.Get("forge-token");
    CHECK(value.status().code() == StatusCode::kInternal);
    CHECK(value.status().message().find("is not a valid secrets file") != std::string::npos);
    CHECK(store.List().status().code() == StatusCode::kInternal);
  }
}

TEST_CASE("two stores writing at once keep each other's secrets", "[secrets]") {
  SpecDir dir;
  SecretStore first = OpenStore(Home(dir));
  SecretStore second = OpenStore(Home(dir));
  auto writer = [](SecretStore& store, const std::string& prefix) {
    for (int i = 0; i < 40; ++i) {
      REQUIRE(store.Set(prefix + std::to_string(i), "value of " + prefix + std::to_string(i), prefix).ok());
    }
  };
  std::thread a(writer, std::ref(first), "a-");
  std::thread b(writer, std::ref(second), "b-");
  a.join();
  b.join();
  auto listed = OpenStore(Home(dir)).List();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 80);
  CHECK(first.Get("b-39").value() == "value of b-39");
  CHECK(second.Get("a-0").value() == "value of a-0");

  // And two processes: two shells setting through the CLI at once.
  std::string loop_a = "for i in $(seq 15); do echo v$i | " + Amlc("secrets set p-$i --workspace " + Home(dir)) +
                       " >/dev/null || exit 1; done";
  std::string loop_b = "for i in $(seq 15); do echo w$i | " + Amlc("secrets set q-$i --workspace " + Home(dir)) +
                       " >/dev/null || exit 1; done";
  REQUIRE(Run("(" + loop_a + ") & (" + loop_b + ") & wait") == 0);
  listed = first.List();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 110);
  CHECK(first.Get("p-15").value() == "v15");
  CHECK(first.Get("q-7").value() == "w7");
}

TEST_CASE("secret names are checked", "[secrets]") {
  SpecDir dir;
  SecretStore store = OpenStore(Home(dir));
  for (const std::string& bad : {std::string(), std::string("has space"), std::string("a/b"), std::string("../key"),
                                 std::string(129, 'x'), std::string("t\xc3\xb6ken"), std::string("semi;colon")}) {
    INFO("name '" << bad << "'");
    Status set = store.Set(bad, "v", "alice");
    CHECK(set.code() == StatusCode::kInvalidArgument);
    CHECK(set.message().find("use 1 to 128 letters, digits, '_', '.' or '-'") != std::string::npos);
    CHECK(store.Get(bad).status().code() == StatusCode::kInvalidArgument);
    CHECK(store.Delete(bad).code() == StatusCode::kInvalidArgument);
  }
  CHECK(store.Set(std::string(128, 'x'), "v", "alice").ok());
  CHECK(store.Set("A-z_0.9", "v", "alice").ok());
}

TEST_CASE("amlc secrets set, list and delete never print a value", "[secrets]") {
  SpecDir dir;
  std::string out;
  REQUIRE(Run("printf '" + std::string(kValue) + "\\n' | " + Secrets(dir, "set forge-token"), &out) == 0);
  CHECK(out.find("Secret 'forge-token' set") != std::string::npos);
  CHECK(out.find(kValue) == std::string::npos);
  REQUIRE(Run("FROM_ENV_TEST='env value 42' " + Secrets(dir, "set webhook --from-env FROM_ENV_TEST"), &out) == 0);
  CHECK(out.find("env value") == std::string::npos);

  SecretStore store = OpenStore(Home(dir));
  CHECK(store.Get("forge-token").value() == kValue);  // the newline is not part of it
  CHECK(store.Get("webhook").value() == "env value 42");

  REQUIRE(Run(Secrets(dir, "list"), &out) == 0);
  CHECK(out.find("forge-token") != std::string::npos);
  CHECK(out.find("webhook") != std::string::npos);
  CHECK(out.find(kValue) == std::string::npos);
  CHECK(out.find("env value") == std::string::npos);
  REQUIRE(Run(Amlc("secrets list --json --workspace " + Home(dir)), &out) == 0);
  json listed = json::parse(out);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["name"] == "forge-token");
  CHECK(listed[0].contains("updated_at"));
  CHECK(listed[0].contains("updated_by"));
  CHECK_FALSE(listed[0].contains("value"));

  REQUIRE(Run(Secrets(dir, "delete webhook"), &out) == 0);
  CHECK(out.find("Secret 'webhook' deleted") != std::string::npos);
  CHECK(Run(Secrets(dir, "delete webhook"), &out) == 2);
  CHECK(out.find("no secret 'webhook' in the workspace") != std::string::npos);
  REQUIRE(Run(Amlc("secrets list --json --workspace " + Home(dir)), &out) == 0);
  CHECK(json::parse(out).size() == 1);

  CHECK(Run(Secrets(dir, "set t --from-env AMLC_TEST_SURELY_UNSET"), &out) == 2);
  CHECK(out.find("environment variable AMLC_TEST_SURELY_UNSET is not set") != std::string::npos);
  CHECK(Run("printf 'x\\n' | " + Secrets(dir, "set 'bad name'"), &out) == 2);
  CHECK(out.find("invalid secret name 'bad name'") != std::string::npos);
  CHECK(Run("printf '\\n' | " + Secrets(dir, "set empty"), &out) == 2);
  CHECK(out.find("the value of secret 'empty' is empty") != std::string::npos);
  CHECK(Run("cat /dev/null | " + Secrets(dir, "set none"), &out) == 2);
  CHECK(out.find("no value for secret 'none' on standard input") != std::string::npos);

  SpecDir empty;
  REQUIRE(Run(Secrets(empty, "list"), &out) == 0);  // no store yet: nothing, and nothing created
  CHECK(out.find("No secrets in this workspace") != std::string::npos);
  CHECK_FALSE(fs::exists(Home(empty) + "/secrets"));
}

TEST_CASE("only owners set or delete secrets when the workspace declares roles", "[secrets]") {
  SpecDir dir;
  dir.Write("workspace.yaml",
            "$schema: workspace.schema.json\nname: team\nroles:\n  owner: [alice@example.com]\n"
            "  contributor: [bob@example.com]\n  reader: [carol@example.com]\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  INFO(out);

  REQUIRE(Run("printf 'v1\\n' | AMLC_USER=alice@example.com " + Secrets(dir, "set forge-token"), &out) == 0);
  CHECK(Run("printf 'v2\\n' | AMLC_USER=bob@example.com " + Secrets(dir, "set forge-token"), &out) == 3);
  CHECK(out.find("changing secrets in workspace team needs the owner role, and 'bob@example.com' is a contributor") !=
        std::string::npos);
  CHECK(Run("printf 'v2\\n' | AMLC_USER=mallory@example.com " + Secrets(dir, "set forge-token"), &out) == 3);
  CHECK(out.find("'mallory@example.com' holds no role there") != std::string::npos);
  CHECK(Run("AMLC_USER=carol@example.com " + Secrets(dir, "delete forge-token"), &out) == 3);
  CHECK(out.find("'carol@example.com' is a reader") != std::string::npos);
  CHECK(OpenStore(Home(dir)).Get("forge-token").value() == "v1");  // unchanged

  REQUIRE(Run("AMLC_USER=carol@example.com " + Secrets(dir, "list"), &out) == 0);  // names are readable
  CHECK(out.find("forge-token") != std::string::npos);
  CHECK(out.find("alice@example.com") != std::string::npos);
  REQUIRE(Run("AMLC_USER=alice@example.com " + Secrets(dir, "delete forge-token"), &out) == 0);
}

namespace {

SecretKeySource FromFile(const std::string& path) {
  SecretKeySource source;
  source.kind = SecretKeySource::Kind::kFile;
  source.key_file = path;
  return source;
}

SecretKeySource FromPassphrase(const std::string& passphrase) {
  SecretKeySource source;
  source.kind = SecretKeySource::Kind::kPassphrase;
  source.passphrase = passphrase;
  return source;
}

std::string OpenError(const std::string& home, const SecretKeySource& source) {
  auto store = SecretStore::Open(home, source);
  return store.ok() ? "(opened)" : store.status().message();
}

}  // namespace

TEST_CASE("the key may live in a file outside the workspace", "[secrets]") {
  SpecDir dir, keys;
  std::string key_file = keys.str() + "/amlc.key";
  WriteBytes(key_file, std::string(32, 'K'));
  fs::permissions(key_file, fs::perms(0600));
  {
    auto store = SecretStore::Open(Home(dir), FromFile(key_file));
    INFO(store.status().message());
    REQUIRE(store.ok());
    REQUIRE(store->Set("forge-token", kValue, "alice").ok());
  }
  CHECK_FALSE(fs::exists(Home(dir) + "/secrets/master.key"));  // nothing in the workspace opens it
  CHECK(AllFiles(Home(dir)).find(kValue) == std::string::npos);
  auto again = SecretStore::Open(Home(dir), FromFile(key_file));
  REQUIRE(again.ok());
  CHECK(again->Get("forge-token").value() == kValue);

  CHECK(OpenError(Home(dir), SecretKeySource{}).find(
            "the secret store's values are sealed with a key from AMLC_SECRET_KEY_FILE, but this run uses "
            "the workspace's key") == 0);
  CHECK(OpenError(Home(dir), FromFile(keys.str() + "/missing.key")) ==
        "AMLC_SECRET_KEY_FILE names " + keys.str() + "/missing.key, which does not exist; make a key with: "
        "umask 077 && openssl rand 32 > " + keys.str() + "/missing.key");
  std::string wrong = keys.str() + "/wrong.key";
  WriteBytes(wrong, std::string(32, 'W'));
  fs::permissions(wrong, fs::perms(0600));
  CHECK(OpenError(Home(dir), FromFile(wrong)) ==
        "the key in " + wrong + " is not the key the secret store was sealed with");
}

TEST_CASE("the key may be derived from a passphrase", "[secrets]") {
  SpecDir dir;
  {
    auto store = SecretStore::Open(Home(dir), FromPassphrase("correct horse battery staple"));
    INFO(store.status().message());
    REQUIRE(store.ok());
    REQUIRE(store->Set("forge-token", kValue, "alice").ok());
  }
  CHECK_FALSE(fs::exists(Home(dir) + "/secrets/master.key"));
  json document = json::parse(ReadFile(Home(dir) + "/secrets/secrets.json"));
  CHECK(document["key"]["source"] == "passphrase");
  CHECK(document["key"]["kdf"]["name"] == "scrypt");
  auto again = SecretStore::Open(Home(dir), FromPassphrase("correct horse battery staple"));
  REQUIRE(again.ok());
  CHECK(again->Get("forge-token").value() == kValue);
  CHECK(OpenError(Home(dir), FromPassphrase("wrong")) ==
        "AMLC_SECRET_PASSPHRASE is not the passphrase the secret store was sealed with");
  CHECK(OpenError(Home(dir), SecretKeySource{}).find("sealed with a key from AMLC_SECRET_PASSPHRASE") !=
        std::string::npos);
}

TEST_CASE("amlc secrets reads the key's source from the environment", "[secrets]") {
  SpecDir dir;
  std::string out;
  REQUIRE(Run("TOKEN=" + std::string(kValue) + " AMLC_SECRET_PASSPHRASE=pass " +
                  Secrets(dir, "set forge-token --from-env TOKEN"), &out) == 0);
  CHECK(Run("AMLC_SECRET_PASSPHRASE=pass " + Secrets(dir, "list"), &out) == 0);
  CHECK(out.find("forge-token") != std::string::npos);
  CHECK(Run("env -u AMLC_SECRET_PASSPHRASE -u AMLC_SECRET_KEY_FILE " + Secrets(dir, "list"), &out) != 0);
  CHECK(out.find("sealed with a key from AMLC_SECRET_PASSPHRASE") != std::string::npos);
  CHECK(Run("AMLC_SECRET_PASSPHRASE=pass AMLC_SECRET_KEY_FILE=/nonexistent " + Secrets(dir, "list"), &out) != 0);
  CHECK(out.find("both AMLC_SECRET_KEY_FILE and AMLC_SECRET_PASSPHRASE are set") != std::string::npos);
}
