#include "runtime/artifacts/snapshot/snapshot_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/digest.h"
#include "runtime/artifacts/snapshot/ignore_rules.h"
#include "tests/test_support.h"

namespace {

namespace fs = std::filesystem;
using amlc::StatusCode;
using amlc::runtime::DigestFile;
using amlc::runtime::GlobMatch;
using amlc::runtime::IgnoreRules;
using amlc::runtime::Snapshot;
using amlc::runtime::SnapshotStore;
using amlc::testing::SpecDir;

std::vector<std::string> Paths(const Snapshot& snapshot) {
  std::vector<std::string> paths;
  for (const auto& file : snapshot.files) paths.push_back(file.path);
  return paths;
}

// Sets the mtime of one file to `age` ago.
void SetAge(const fs::path& file, std::chrono::seconds age) {
  fs::last_write_time(file, fs::file_time_type::clock::now() - age);
}

// Ages every file under `dir` by an hour, past the stat cache's racy window,
// as files are in a folder nobody is editing.
void AgeAll(const SpecDir& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    if (entry.is_regular_file()) SetAge(entry.path(), std::chrono::hours(1));
  }
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int CountFiles(const fs::path& folder) {
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    count += entry.is_regular_file();
  return count;
}

void MakeExecutable(const fs::path& file) {
  fs::permissions(file, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
}

bool IsExecutable(const fs::path& file) {
  return (fs::status(file).permissions() & fs::perms::owner_exec) != fs::perms::none;
}

// The files a Scan of a folder holding `files` keeps.
std::vector<std::string> Kept(const std::vector<std::pair<std::string, std::string>>& files) {
  SpecDir dir;
  SpecDir store_root;
  for (const auto& [path, contents] : files) dir.Write(path, contents);
  SnapshotStore store(store_root.str());
  auto snapshot = store.Scan(dir.str());
  REQUIRE(snapshot.ok());
  return Paths(*snapshot);
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("identical files are stored once", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "same");
  dir.Write("sub/b.txt", "same");
  dir.Write("c.txt", "other");
  SnapshotStore store(root.str());
  auto first = store.Take(dir.str());
  REQUIRE(first.ok());
  CHECK(Paths(*first) == Names{"a.txt", "c.txt", "sub/b.txt"});
  CHECK(first->blobs_written == 2);
  CHECK(first->total_bytes == 13);
  CHECK(CountFiles(root.path() / "blobs") == 2);
  CHECK(first->files[0].digest == amlc::Sha256Hex("same"));
  CHECK(fs::exists(root.path() / "blobs/sha256" / first->files[0].digest.substr(0, 2) /
                   first->files[0].digest));
  CHECK(fs::exists(root.path() / "trees" / (first->tree_digest + ".json")));

  auto again = store.Take(dir.str());
  REQUIRE(again.ok());
  CHECK(again->blobs_written == 0);
  CHECK(again->tree_digest == first->tree_digest);

  SpecDir copy;
  copy.Write("elsewhere/x.txt", "same");
  auto other = store.Take(copy.str());
  REQUIRE(other.ok());
  CHECK(other->blobs_written == 0);
  CHECK(CountFiles(root.path() / "blobs") == 2);
}

TEST_CASE("the tree digest ignores mtimes and follows contents, names and modes", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("train.py", "print('hello')\n");
  dir.Write("lib/util.py", "x = 1\n");
  SnapshotStore store(root.str());
  auto digest = [&] {
    auto snapshot = store.Scan(dir.str());
    REQUIRE(snapshot.ok());
    return snapshot->tree_digest;
  };
  const std::string original = digest();
  // SHA-256 over "<mode> <digest> <path>\n" per file, sorted by path.
  CHECK(original == amlc::Sha256Hex("644 " + amlc::Sha256Hex("x = 1\n") + " lib/util.py\n" +
                                    "644 " + amlc::Sha256Hex("print('hello')\n") + " train.py\n"));

  AgeAll(dir);
  CHECK(digest() == original);

  dir.Write("train.py", "print('hellO')\n");  // one byte, same size
  const std::string changed = digest();
  CHECK(changed != original);
  dir.Write("train.py", "print('hello')\n");
  CHECK(digest() == original);

  fs::rename(dir.path() / "lib/util.py", dir.path() / "lib/utils.py");
  CHECK(digest() != original);
  fs::rename(dir.path() / "lib/utils.py", dir.path() / "lib/util.py");
  CHECK(digest() == original);

  MakeExecutable(dir.path() / "train.py");
  auto executable = store.Scan(dir.str());
  REQUIRE(executable.ok());
  CHECK(executable->tree_digest != original);
  CHECK(executable->files[1].executable);

  auto taken = store.Take(dir.str());
  REQUIRE(taken.ok());
  CHECK(taken->tree_digest == executable->tree_digest);  // Scan and Take agree
}

TEST_CASE("glob matching follows gitignore", "[snapshot]") {
  CHECK(GlobMatch("*.log", "a.log"));
  CHECK_FALSE(GlobMatch("*.log", "dir/a.log"));  // '*' stays within a folder
  CHECK(GlobMatch("a?c", "abc"));
  CHECK_FALSE(GlobMatch("a?c", "a/c"));
  CHECK(GlobMatch("[a-c]x", "bx"));
  CHECK_FALSE(GlobMatch("[!a-c]x", "bx"));
  CHECK(GlobMatch("[!a-c]x", "dx"));
  CHECK(GlobMatch("[]]", "]"));
  CHECK(GlobMatch("[[:digit:]]*", "7up"));
  CHECK_FALSE(GlobMatch("[ab", "a"));  // unclosed: matches nothing
  CHECK(GlobMatch("\\*", "*"));
  CHECK_FALSE(GlobMatch("\\*", "x"));
  CHECK(GlobMatch("**/foo", "foo"));
  CHECK(GlobMatch("**/foo", "a/b/foo"));
  CHECK(GlobMatch("a/**/b", "a/b"));
  CHECK(GlobMatch("a/**/b", "a/x/y/b"));
  CHECK_FALSE(GlobMatch("a/**/b", "a/x/y/c"));
  CHECK(GlobMatch("a/**", "a/x/y"));
  CHECK_FALSE(GlobMatch("a/**", "a"));
  CHECK(GlobMatch("a**b", "axxb"));
  CHECK_FALSE(GlobMatch("a**b", "a/b"));  // not a whole segment: a plain '*'
  CHECK_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*b", std::string(200, 'a')));  // and fast
}

TEST_CASE("ignore rules: last match wins, anchoring, folders only", "[snapshot]") {
  IgnoreRules rules = IgnoreRules::Parse(
      "# comment\n"
      "\n"
      "*.log\n"
      "!keep.log\n"
      "/top.txt\n"
      "data/*.csv\n"
      "out/\n"
      "\\#hash\n"
      "trailing   \n"
      "crlf.txt\r\n");
  CHECK(rules.IsIgnored("a.log", false));
  CHECK(rules.IsIgnored("deep/a.log", false));
  CHECK_FALSE(rules.IsIgnored("keep.log", false));
  CHECK_FALSE(rules.IsIgnored("deep/keep.log", false));
  CHECK(rules.IsIgnored("top.txt", false));
  CHECK_FALSE(rules.IsIgnored("sub/top.txt", false));  // leading '/' anchors
  CHECK(rules.IsIgnored("data/a.csv", false));
  CHECK_FALSE(rules.IsIgnored("sub/data/a.csv", false));  // a middle '/' anchors too
  CHECK_FALSE(rules.IsIgnored("data/x/a.csv", false));
  CHECK(rules.IsIgnored("out", true));
  CHECK(rules.IsIgnored("sub/out", true));
  CHECK_FALSE(rules.IsIgnored("out", false));  // a file named like an ignored folder
  CHECK(rules.IsIgnored("#hash", false));
  CHECK(rules.IsIgnored("trailing", false));
  CHECK(rules.IsIgnored("crlf.txt", false));
  CHECK_FALSE(rules.IsIgnored("comment", false));
  CHECK(IgnoreRules::Parse("\n# only comments\n").empty());
}

TEST_CASE(".amlignore leaves matching files out of the snapshot", "[snapshot]") {
  CHECK(Kept({{".amlignore", "*.log\n!keep.log\nbuild/\n/notes.txt\ndocs/**/*.tmp\n**/cache\n"},
              {"train.py", "1"},
              {"run.log", "1"},
              {"keep.log", "1"},
              {"sub/debug.log", "1"},
              {"build/out.o", "1"},
              {"src/build/out.o", "1"},
              {"notes.txt", "1"},
              {"src/notes.txt", "1"},
              {"docs/a.tmp", "1"},
              {"docs/x/y/b.tmp", "1"},
              {"docs/x/y/b.md", "1"},
              {"cache/1", "1"},
              {"src/cache/2", "1"}}) ==
        Names{".amlignore", "docs/x/y/b.md", "keep.log", "src/notes.txt", "train.py"});
}

TEST_CASE(".amlignore: a file in an ignored folder cannot be re-included", "[snapshot]") {
  // As in git: "logs/" stops the walk at the folder, so the negation never
  // sees logs/keep.txt; "cache/**" ignores the contents only, so it can.
  CHECK(Kept({{".amlignore", "logs/\n!logs/keep.txt\ncache/**\n!cache/keep.txt\n"},
              {"logs/keep.txt", "1"},
              {"logs/other.txt", "1"},
              {"cache/keep.txt", "1"},
              {"cache/other.txt", "1"}}) == Names{".amlignore", "cache/keep.txt"});
}

TEST_CASE(".amlignore: folder-only patterns and ignoring itself", "[snapshot]") {
  CHECK(Kept({{".amlignore", ".amlignore\nout/\n"},
              {"out/a", "1"},         // the folder 'out' goes
              {"x/out/b", "1"},       // at any depth
              {"y/out", "file"},      // a file named 'out' stays
              {"output/c", "1"}}) ==  // and so does 'output'
        Names{"output/c", "y/out"});
}

TEST_CASE(".gitignore applies when there is no .amlignore", "[snapshot]") {
  CHECK(Kept({{".gitignore", "*.pyc\n"}, {"a.py", "1"}, {"a.pyc", "1"}}) ==
        Names{".gitignore", "a.py"});
  // With an .amlignore, the .gitignore is just another file.
  CHECK(
      Kept(
          {{".gitignore", "*.pyc\n"}, {".amlignore", "*.csv\n"}, {"a.pyc", "1"}, {"b.csv", "1"}}) ==
      Names{".amlignore", ".gitignore", "a.pyc"});
}

TEST_CASE(".git and .amlc are never snapshotted", "[snapshot]") {
  CHECK(Kept({{"train.py", "1"},
              {".git/HEAD", "ref"},
              {"sub/.git", "gitdir: ../.git/modules/sub"},
              {".amlc/state.db", "x"},
              {".github/ci.yml", "x"}}) == Names{".github/ci.yml", "train.py"});
}

TEST_CASE("a store inside the folder is not snapshotted", "[snapshot]") {
  SpecDir dir;
  dir.Write("train.py", "1");
  SnapshotStore store((dir.path() / "store").string());
  REQUIRE(store.Take(dir.str()).ok());
  auto again = store.Take(dir.str());
  REQUIRE(again.ok());
  CHECK(Paths(*again) == Names{"train.py"});
}

TEST_CASE("symlinks are refused, naming each one", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "1");
  dir.Write("sub/b.txt", "1");
  fs::create_symlink("a.txt", dir.path() / "link.txt");
  fs::create_symlink("/etc", dir.path() / "sub/etc");
  fs::create_symlink("../../outside", dir.path() / "sub/up");
  SnapshotStore store(root.str());
  for (bool take : {false, true}) {
    auto snapshot = take ? store.Take(dir.str()) : store.Scan(dir.str());
    REQUIRE_FALSE(snapshot.ok());
    CHECK(snapshot.status().code() == StatusCode::kInvalidArgument);
    const std::string& message = snapshot.status().message();
    CHECK_THAT(message, Catch::Contains("'link.txt' is a symlink to 'a.txt'"));
    CHECK_THAT(message, Catch::Contains("'sub/etc' is a symlink to '/etc', outside the folder"));
    CHECK_THAT(message, Catch::Contains("'sub/up' is a symlink to '../../outside', outside"));
    CHECK_THAT(message, !Catch::Contains("'link.txt' is a symlink to 'a.txt', outside"));
  }
  CHECK_FALSE(fs::exists(root.path() / "trees"));

  dir.Write(".amlignore", "link.txt\nsub/etc\nup\n");  // ignored links are no problem
  auto snapshot = store.Take(dir.str());
  REQUIRE(snapshot.ok());
  CHECK(Paths(*snapshot) == Names{".amlignore", "a.txt", "sub/b.txt"});
}

TEST_CASE("special files are refused", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "1");
  REQUIRE(mkfifo((dir.path() / "pipe").c_str(), 0600) == 0);
  auto snapshot = SnapshotStore(root.str()).Scan(dir.str());
  REQUIRE_FALSE(snapshot.ok());
  CHECK(snapshot.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(snapshot.status().message(), Catch::Contains("'pipe' is a fifo"));
}

TEST_CASE("a missing folder or a file is not snapshotted", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "1");
  SnapshotStore store(root.str());
  CHECK(store.Scan((dir.path() / "missing").string()).status().code() == StatusCode::kNotFound);
  CHECK(store.Scan((dir.path() / "a.txt").string()).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("the stat cache spares reading unchanged files", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  for (int i = 0; i < 20; ++i) dir.Write("f" + std::to_string(i) + ".txt", std::to_string(i));
  AgeAll(dir);
  SnapshotStore store(root.str());
  auto cold = store.Scan(dir.str());
  REQUIRE(cold.ok());
  CHECK(cold->files_hashed == 20);

  auto warm = store.Scan(dir.str());
  REQUIRE(warm.ok());
  CHECK(warm->files_hashed == 0);
  CHECK(warm->tree_digest == cold->tree_digest);

  // An unchanged scan leaves the cache file alone (a rewrite is a rename).
  fs::path cache = fs::directory_iterator(root.path() / "statcache")->path();
  struct stat before, after;
  REQUIRE(stat(cache.c_str(), &before) == 0);
  REQUIRE(store.Scan(dir.str()).ok());
  REQUIRE(stat(cache.c_str(), &after) == 0);
  CHECK(before.st_ino == after.st_ino);

  SetAge(dir.path() / "f3.txt", std::chrono::minutes(30));  // touched, not changed
  auto touched = store.Scan(dir.str());
  REQUIRE(touched.ok());
  CHECK(touched->files_hashed == 1);
  CHECK(touched->tree_digest == cold->tree_digest);
  CHECK(store.Scan(dir.str())->files_hashed == 0);

  dir.Write("f4.txt", "X");  // same size, new contents, fresh mtime
  auto edited = store.Scan(dir.str());
  REQUIRE(edited.ok());
  CHECK(edited->files_hashed == 1);
  CHECK(edited->tree_digest != cold->tree_digest);
}

TEST_CASE("the stat cache is kept per folder", "[snapshot]") {
  SpecDir first;
  SpecDir second;
  SpecDir root;
  first.Write("train.py", "first");
  second.Write("train.py", "other");  // same name, size, maybe even inode reuse
  AgeAll(first);
  AgeAll(second);
  SnapshotStore store(root.str());
  auto a = store.Scan(first.str());
  REQUIRE(a.ok());
  auto b = store.Scan(second.str());
  REQUIRE(b.ok());
  CHECK(b->files_hashed == 1);
  CHECK(a->tree_digest != b->tree_digest);
  CHECK(store.Scan(first.str())->files_hashed == 0);
  CHECK(store.Scan(second.str())->files_hashed == 0);
}

TEST_CASE("Take rewrites a blob torn by a crash", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "contents");
  AgeAll(dir);
  SnapshotStore store(root.str());
  auto taken = store.Take(dir.str());
  REQUIRE(taken.ok());
  const std::string& digest = taken->files[0].digest;
  fs::path blob = root.path() / "blobs/sha256" / digest.substr(0, 2) / digest;
  fs::resize_file(blob, 0);  // what a power loss can leave of an unsynced file
  auto again = store.Take(dir.str());
  REQUIRE(again.ok());
  CHECK(again->files_hashed == 1);
  CHECK(again->blobs_written == 1);
  CHECK(ReadAll(blob) == "contents");
}

TEST_CASE("the stat cache never answers for a file modified in the last seconds", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("old.txt", "old");
  AgeAll(dir);
  dir.Write("fresh.txt", "fresh");  // its mtime is now: racy
  SnapshotStore store(root.str());
  CHECK(store.Scan(dir.str())->files_hashed == 2);
  CHECK(store.Scan(dir.str())->files_hashed == 1);
  CHECK(store.Scan(dir.str())->files_hashed == 1);
}

TEST_CASE("Take stores what a Scan saw but did not store", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "a");
  dir.Write("b.txt", "b");
  AgeAll(dir);
  SnapshotStore store(root.str());
  REQUIRE(store.Scan(dir.str()).ok());
  CHECK_FALSE(fs::exists(root.path() / "blobs"));
  auto taken = store.Take(dir.str());
  REQUIRE(taken.ok());
  CHECK(taken->blobs_written == 2);
  CHECK(store.Take(dir.str())->files_hashed == 0);
  REQUIRE(store.Materialize(taken->tree_digest, (root.path() / "out").string()).ok());
}

TEST_CASE("Load reads a snapshot back", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "a");
  dir.Write("bin/run.sh", "#!/bin/sh\n");
  MakeExecutable(dir.path() / "bin/run.sh");
  SnapshotStore store(root.str());
  auto taken = store.Take(dir.str());
  REQUIRE(taken.ok());
  auto loaded = store.Load(taken->tree_digest);
  REQUIRE(loaded.ok());
  CHECK(loaded->tree_digest == taken->tree_digest);
  CHECK(loaded->total_bytes == taken->total_bytes);
  REQUIRE(loaded->files.size() == 2);
  CHECK(loaded->files[1].path == "bin/run.sh");
  CHECK(loaded->files[1].executable);
  CHECK(loaded->files[1].digest == taken->files[1].digest);

  CHECK(store.Load(std::string(64, '0')).status().code() == StatusCode::kNotFound);
  CHECK(store.Load("../../etc/passwd").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Materialize round-trips contents and executable bits", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  SpecDir out;
  std::string big(200 * 1024 + 7, 'x');  // several read buffers
  for (size_t i = 0; i < big.size(); i += 101) big[i] = static_cast<char>('a' + i % 26);
  dir.Write("train.py", "print(1)\n");
  dir.Write("scripts/run.sh", "#!/bin/sh\necho hi\n");
  dir.Write("data/big.bin", big);
  dir.Write("empty.txt", "");
  MakeExecutable(dir.path() / "scripts/run.sh");
  SnapshotStore store(root.str());
  auto taken = store.Take(dir.str());
  REQUIRE(taken.ok());

  fs::path destination = out.path() / "run-1";
  REQUIRE(store.Materialize(taken->tree_digest, destination.string()).ok());
  CHECK(ReadAll(destination / "train.py") == "print(1)\n");
  CHECK(ReadAll(destination / "scripts/run.sh") == "#!/bin/sh\necho hi\n");
  CHECK(ReadAll(destination / "data/big.bin") == big);
  CHECK(ReadAll(destination / "empty.txt").empty());
  CHECK(IsExecutable(destination / "scripts/run.sh"));
  CHECK_FALSE(IsExecutable(destination / "train.py"));
  auto again = store.Scan(destination.string());
  REQUIRE(again.ok());
  CHECK(again->tree_digest == taken->tree_digest);

  // A copy, not a link: a run writing to its files leaves the store intact.
  struct stat copy_info;
  REQUIRE(stat((destination / "train.py").c_str(), &copy_info) == 0);
  CHECK(copy_info.st_nlink == 1);
  std::ofstream(destination / "train.py") << "overwritten";
  CHECK(store.Load(taken->tree_digest).ok());
  REQUIRE(store.Materialize(taken->tree_digest, (out.path() / "run-2").string()).ok());
  CHECK(ReadAll(out.path() / "run-2/train.py") == "print(1)\n");

  auto busy = store.Materialize(taken->tree_digest, destination.string());
  CHECK(busy.code() == StatusCode::kAlreadyExists);
}

TEST_CASE("Materialize detects a damaged blob", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("a.txt", "original");
  SnapshotStore store(root.str());
  auto taken = store.Take(dir.str());
  REQUIRE(taken.ok());
  const std::string& digest = taken->files[0].digest;
  fs::path blob = root.path() / "blobs/sha256" / digest.substr(0, 2) / digest;
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(blob) << "tampered";
  auto status = store.Materialize(taken->tree_digest, (root.path() / "out").string());
  CHECK(status.code() == StatusCode::kInternal);
  CHECK_THAT(status.message(), Catch::Contains("damaged"));
}

TEST_CASE("ExportZip writes a zip that unzip and zipfile read", "[snapshot]") {
  SpecDir dir;
  SpecDir root;
  dir.Write("train.py", "print('zip')\n");
  dir.Write("conf/params.yaml", "C: 1.0\n");
  dir.Write("bin/go.sh", "#!/bin/sh\n");
  MakeExecutable(dir.path() / "bin/go.sh");
  SnapshotStore store(root.str());
  auto taken = store.Take(dir.str());
  REQUIRE(taken.ok());
  std::string zip = (root.path() / "snap.zip").string();
  REQUIRE(store.ExportZip(taken->tree_digest, zip).ok());

  std::string listing;
  REQUIRE(amlc::testing::Run("unzip -Z1 '" + zip + "'", &listing) == 0);
  CHECK(listing == "bin/go.sh\nconf/params.yaml\ntrain.py\n");
  REQUIRE(amlc::testing::Run("unzip -l '" + zip + "'", &listing) == 0);
  CHECK_THAT(listing, Catch::Contains("conf/params.yaml"));
  std::string contents;
  REQUIRE(amlc::testing::Run("unzip -p '" + zip + "' train.py", &contents) == 0);
  CHECK(contents == "print('zip')\n");

  std::string python;
  REQUIRE(amlc::testing::Run(
              "python3 -c \"import sys, zipfile\n"
              "z = zipfile.ZipFile(sys.argv[1])\n"
              "assert z.testzip() is None\n"
              "for i in z.infolist(): print(i.filename, oct(i.external_attr >> 16 & 0o777), "
              "z.read(i).decode().strip())\" '" +
                  zip + "'",
              &python) == 0);
  CHECK(python ==
        "bin/go.sh 0o755 #!/bin/sh\n"
        "conf/params.yaml 0o644 C: 1.0\n"
        "train.py 0o644 print('zip')\n");

  std::string second = (root.path() / "again.zip").string();
  REQUIRE(store.ExportZip(taken->tree_digest, second).ok());
  CHECK(ReadAll(zip) == ReadAll(second));  // one tree, one zip
}

TEST_CASE("DigestFile streams one file", "[snapshot]") {
  SpecDir dir;
  dir.Write("abc", "abc");
  std::string big(300 * 1024, 'q');
  dir.Write("big", big);
  auto abc = DigestFile((dir.path() / "abc").string());
  REQUIRE(abc.ok());
  CHECK(*abc == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(*DigestFile((dir.path() / "big").string()) == amlc::Sha256Hex(big));
  CHECK(DigestFile((dir.path() / "nope").string()).status().code() == StatusCode::kNotFound);
  CHECK(DigestFile(dir.str()).status().code() == StatusCode::kInvalidArgument);
}
