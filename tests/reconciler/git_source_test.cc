// The reconciler's git source on real repositories made with the git CLI: a
// bare "origin" pushed to from a working clone, mirrored into a cache, and
// a small smart-HTTP server (git http-backend behind Basic auth) for the
// credentials paths.
#include "reconciler/git/git_source.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "compiler/compile.h"
#include "compiler/ir/graph.h"
#include "tests/test_support.h"

namespace {

namespace fs = std::filesystem;
using amlc::StatusCode;
using amlc::reconciler::CommitInfo;
using amlc::reconciler::GitMirror;
using amlc::testing::Run;
using amlc::testing::SpecDir;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Runs git in `dir` with a fixed identity; fails the test when git does.
std::string Git(const fs::path& dir, const std::string& args) {
  std::string out;
  int code =
      Run("git -C '" + dir.string() +
              "' -c user.name=t -c user.email=t@e -c init.defaultBranch=main " + args + " 2>&1",
          &out);
  INFO("git " << args << "\n" << out);
  REQUIRE(code == 0);
  return Trimmed(out);
}

// A bare origin and a working clone pushing to it, both in one temp folder.
class Repos {
 public:
  Repos() {
    fs::create_directories(work());
    Git(dir_.path(), "init -q --bare origin.git");
    Git(dir_.path(), "--git-dir=origin.git symbolic-ref HEAD refs/heads/main");
    Git(work(), "init -q -b main");
    Git(work(), "remote add origin '" + origin().string() + "'");
  }

  fs::path origin() const { return dir_.path() / "origin.git"; }
  fs::path work() const { return dir_.path() / "work"; }
  fs::path cache() const { return dir_.path() / "cache" / "mirror"; }
  fs::path temp(const std::string& name) const { return dir_.path() / name; }

  void Write(const std::string& relative, const std::string& contents) {
    fs::path file = work() / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << contents;
  }

  // Commits everything in the working clone and pushes it to main (forced
  // when asked); returns the new commit id.
  std::string CommitAndPush(const std::string& message, bool force = false) {
    Git(work(), "add -A");
    Git(work(), "commit -q --allow-empty -m '" + message + "'");
    Git(work(), std::string("push -q ") + (force ? "-f " : "") + "origin HEAD:main");
    return Git(work(), "rev-parse HEAD");
  }

 private:
  SpecDir dir_;
};

std::unique_ptr<GitMirror> OpenMirror(const std::string& url, const std::string& cache) {
  auto mirror = GitMirror::Open(url, cache);
  INFO(mirror.status().message());
  REQUIRE(mirror.ok());
  return std::move(mirror.value());
}

std::string ResolvedBranch(const GitMirror& mirror, const std::string& branch) {
  auto id = mirror.ResolveBranch(branch);
  INFO(id.status().message());
  REQUIRE(id.ok());
  return id.value();
}

std::unique_ptr<amlc::compiler::SourceTree> Tree(const GitMirror& mirror, const std::string& commit,
                                                 const std::string& subdir) {
  auto tree = mirror.TreeAt(commit, subdir);
  INFO(tree.status().message());
  REQUIRE(tree.ok());
  return std::move(tree.value());
}

std::vector<std::string> SpecFiles(const amlc::compiler::SourceTree& tree) {
  auto files = tree.ListSpecFiles();
  INFO(files.status().message());
  REQUIRE(files.ok());
  return files.value();
}

std::string Read(const amlc::compiler::SourceTree& tree, const std::string& path) {
  auto contents = tree.ReadFile(path);
  INFO(contents.status().message());
  REQUIRE(contents.ok());
  return contents.value();
}

// No AMLC_GIT_* credentials from the environment running the tests.
void ClearCredentialEnv() {
  unsetenv("AMLC_GIT_USERNAME");
  unsetenv("AMLC_GIT_PASSWORD");
}

// Smart HTTP over git http-backend, answering 401 unless the request carries
// Basic credentials USER:PASSWORD. Serves the repositories under ROOT.
const char* kHttpServer = R"PY(
import base64, http.server, os, subprocess, sys
root, user, password, port_file = sys.argv[1:5]
expected = 'Basic ' + base64.b64encode(f'{user}:{password}'.encode()).decode()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *args): pass
    def do_GET(self): self.serve()
    def do_POST(self): self.serve()
    def body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', ''):
            data = b''
            while True:
                size = int(self.rfile.readline().strip().split(b';')[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get('Content-Length') or 0))
    def serve(self):
        body = self.body()
        if self.headers.get('Authorization') != expected:
            self.send_response(401)
            self.send_header('WWW-Authenticate', 'Basic realm="amlc"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        path, _, query = self.path.partition('?')
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL='1', PATH_INFO=path,
                   QUERY_STRING=query, REQUEST_METHOD=self.command, REMOTE_USER=user,
                   CONTENT_TYPE=self.headers.get('Content-Type', ''), CONTENT_LENGTH=str(len(body)),
                   HTTP_CONTENT_ENCODING=self.headers.get('Content-Encoding', ''),
                   GIT_PROTOCOL=self.headers.get('Git-Protocol', ''))
        out = subprocess.run(['git', 'http-backend'], input=body, env=env, capture_output=True).stdout
        separator = b'\r\n\r\n' if b'\r\n\r\n' in out else b'\n\n'
        head, _, payload = out.partition(separator)
        status, headers = 200, []
        for line in head.decode().splitlines():
            name, _, value = line.partition(':')
            if name.lower() == 'status':
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(port_file + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + '.tmp', port_file)
server.serve_forever()
)PY";

// The server above, started on a free port and stopped (by its pid) at the end.
class HttpGitServer {
 public:
  HttpGitServer(const fs::path& root, const std::string& user, const std::string& password) {
    fs::path script = dir_.path() / "server.py";
    std::ofstream(script) << kHttpServer;
    fs::path port_file = dir_.path() / "port";
    std::string out;
    REQUIRE(Run("python3 '" + script.string() + "' '" + root.string() + "' '" + user + "' '" +
                    password + "' '" + port_file.string() + "' >/dev/null 2>&1 & echo $!",
                &out) == 0);
    pid_ = std::stoi(out);
    for (int i = 0; i < 100 && !fs::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(fs::exists(port_file));
    port_ = Trimmed(amlc::testing::ReadFile(port_file));
  }
  ~HttpGitServer() {
    if (pid_ > 0) kill(pid_, SIGTERM);
  }
  std::string Url(const std::string& userinfo, const std::string& repository) const {
    return "http://" + userinfo + "127.0.0.1:" + port_ + "/" + repository;
  }

 private:
  SpecDir dir_;
  int pid_ = -1;
  std::string port_;
};

}  // namespace

TEST_CASE("a git mirror is cloned into its cache once and then reused", "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("job.yaml", "name: a\n");
  std::string first = repos.CommitAndPush("first");

  auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());
  CHECK(ResolvedBranch(*mirror, "main") == first);
  CHECK(mirror->url() == repos.origin().string());
  CHECK(fs::exists(repos.cache() / "HEAD"));        // a bare repository...
  CHECK_FALSE(fs::exists(repos.cache() / ".git"));  // ...with no checkout
  CHECK(ResolvedBranch(*mirror, "refs/heads/main") == first);

  std::string second = repos.CommitAndPush("second");
  // Reopening reuses the mirror as it is: no clone, no fetch until asked.
  auto reopened = OpenMirror(repos.origin().string() + "/", repos.cache().string());
  CHECK(ResolvedBranch(*reopened, "main") == first);
  REQUIRE(reopened->Fetch().ok());
  CHECK(ResolvedBranch(*reopened, "main") == second);
  CHECK(ResolvedBranch(*mirror, "main") == second);  // one mirror on disk

  // The same cache for another repository is refused, not overwritten.
  Repos other;
  other.Write("x.yaml", "x: 1\n");
  other.CommitAndPush("other");
  auto wrong = GitMirror::Open(other.origin().string(), repos.cache().string());
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == StatusCode::kFailedPrecondition);
  CHECK(Contains(wrong.status().message(), "mirrors '" + repos.origin().string() + "'"));

  // A file:// URL mirrors as well (in a cache of its own).
  auto by_url = OpenMirror("file://" + repos.origin().string(), repos.temp("cache-url").string());
  CHECK(ResolvedBranch(*by_url, "main") == second);
  // No staging folders are left beside the caches.
  for (const auto& entry : fs::directory_iterator(repos.cache().parent_path())) {
    CHECK_FALSE(Contains(entry.path().filename().string(), ".tmp-"));
  }
}

TEST_CASE("a git mirror fetches new commits and describes them", "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("job.yaml", "name: a\n");
  repos.CommitAndPush("first");
  auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());

  repos.Write("job.yaml", "name: b\n");
  Git(repos.work(), "add -A");
  Git(repos.work(),
      "-c user.name='Ada Lovelace' -c user.email=ada@example.com commit -q "
      "-m 'Train on more data' -m 'Second paragraph.'");
  Git(repos.work(), "push -q origin HEAD:main");
  std::string head = Git(repos.work(), "rev-parse HEAD");
  REQUIRE(mirror->Fetch().ok());
  REQUIRE(ResolvedBranch(*mirror, "main") == head);

  auto info = mirror->Commit(head);
  REQUIRE(info.ok());
  CHECK(info->id == head);
  CHECK(info->author_name == "Ada Lovelace");
  CHECK(info->author_email == "ada@example.com");
  CHECK(info->summary == "Train on more data");
  CHECK(info->message == "Train on more data\n\nSecond paragraph.\n");
  CHECK(info->time == std::stoll(Git(repos.work(), "log -1 --format=%ct")));

  auto tree_id = mirror->CommitTreeId(head);
  REQUIRE(tree_id.ok());
  CHECK(tree_id.value() == Git(repos.work(), "rev-parse HEAD^{tree}"));
  auto by_prefix = mirror->Commit(head.substr(0, 10));
  REQUIRE(by_prefix.ok());
  CHECK(by_prefix->id == head);
}

TEST_CASE("a force-push is fetched and is not a descendant of the old tip", "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("job.yaml", "name: base\n");
  std::string base = repos.CommitAndPush("base");
  repos.Write("job.yaml", "name: old\n");
  std::string old_tip = repos.CommitAndPush("old");
  Git(repos.work(), "push -q origin HEAD:dev");
  auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());
  REQUIRE(ResolvedBranch(*mirror, "main") == old_tip);
  REQUIRE(ResolvedBranch(*mirror, "dev") == old_tip);

  Git(repos.work(), "reset -q --hard HEAD~1");
  repos.Write("job.yaml", "name: rewritten\n");
  std::string new_tip = repos.CommitAndPush("rewritten", /*force=*/true);
  Git(repos.work(), "push -q origin :dev");  // and a branch deleted
  REQUIRE(mirror->Fetch().ok());

  CHECK(ResolvedBranch(*mirror, "main") == new_tip);
  CHECK_FALSE(mirror->IsAncestor(old_tip, new_tip));
  CHECK(mirror->IsAncestor(base, new_tip));
  CHECK(mirror->IsAncestor(base, old_tip));
  CHECK(mirror->IsAncestor(new_tip, new_tip));
  CHECK_FALSE(mirror->IsAncestor(new_tip, base));
  CHECK_FALSE(mirror->IsAncestor("0123456789012345678901234567890123456789", new_tip));
  auto pruned = mirror->ResolveBranch("dev");
  REQUIRE_FALSE(pruned.ok());
  CHECK(pruned.status().code() == StatusCode::kNotFound);
  // The old tip's objects stay readable: a run recorded at it can still be explained.
  auto old_info = mirror->Commit(old_tip);
  REQUIRE(old_info.ok());
  CHECK(old_info->summary == "old");
  CHECK(Read(*Tree(*mirror, old_tip, ""), "job.yaml") == "name: old\n");
}

TEST_CASE("a git mirror resolves tags, refs, HEAD and commit id prefixes", "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("job.yaml", "name: a\n");
  std::string first = repos.CommitAndPush("first");
  Git(repos.work(), "tag -a v1 -m 'release 1'");
  Git(repos.work(), "tag light");
  repos.Write("job.yaml", "name: b\n");
  std::string second = repos.CommitAndPush("second");
  Git(repos.work(), "push -q origin --tags");
  auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());

  auto resolve = [&](const std::string& revision) {
    auto id = mirror->ResolveRevision(revision);
    INFO(revision << ": " << id.status().message());
    REQUIRE(id.ok());
    return id.value();
  };
  CHECK(resolve("main") == second);
  CHECK(resolve("refs/heads/main") == second);
  CHECK(resolve("HEAD") == second);
  CHECK(resolve("v1") == first);  // annotated tag peeled to its commit
  CHECK(resolve("refs/tags/v1") == first);
  CHECK(resolve("light") == first);
  CHECK(resolve(first.substr(0, 8)) == first);
  CHECK(resolve(second) == second);
  CHECK(resolve("main~1") == first);

  auto unknown = mirror->ResolveRevision("no-such-thing");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotFound);
  CHECK(Contains(unknown.status().message(), "'no-such-thing'"));
  auto empty = mirror->ResolveRevision("");
  CHECK(empty.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a commit's tree reads specs without a checkout", "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("top.yaml", "top: 1\n");
  repos.Write("notes.txt", "not a spec\n");
  repos.Write(".hidden/skip.yaml", "skip: 1\n");
  repos.Write("shared/conda.yaml", "dependencies: [python]\n");
  repos.Write("ml/job.yaml", "name: job\n");
  repos.Write("ml/b.yml", "name: b\n");
  repos.Write("ml/pipeline.aml", "job x {}\n");
  repos.Write("ml/.dot.yaml", "hidden: 1\n");
  repos.Write("ml/.cache/c.yaml", "hidden: 1\n");
  repos.Write("ml/deep/d.yaml", "name: d\n");
  repos.Write("ml/src/train.py", "print('hi')\n");
  fs::create_symlink("job.yaml", repos.work() / "ml" / "alias.yaml");
  fs::create_symlink("../shared", repos.work() / "ml" / "shared-link");
  fs::create_symlink("/etc/passwd", repos.work() / "ml" / "outside.yaml");
  std::string commit = repos.CommitAndPush("specs");
  auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());

  auto root = Tree(*mirror, commit, "");
  CHECK(SpecFiles(*root) == std::vector<std::string>{"ml/alias.yaml", "ml/b.yml", "ml/deep/d.yaml",
                                                     "ml/job.yaml", "ml/pipeline.aml",
                                                     "shared/conda.yaml", "top.yaml"});
  // The same listing as the folder on disk (the checkout, .git skipped as hidden)
  // but for the symlink to /etc/passwd, which leaves the repository.
  fs::remove(repos.work() / "ml" / "outside.yaml");
  auto disk = amlc::compiler::DiskSourceTree::Open(repos.work().string());
  REQUIRE(disk.ok());
  CHECK(SpecFiles(*root) == SpecFiles(disk.value()));
  CHECK(root->DisplayPath("ml/job.yaml") == "ml/job.yaml");

  auto ml = Tree(*mirror, commit, "ml/");
  CHECK(SpecFiles(*ml) ==
        std::vector<std::string>{"alias.yaml", "b.yml", "deep/d.yaml", "job.yaml", "pipeline.aml"});
  CHECK(Read(*ml, "job.yaml") == "name: job\n");
  CHECK(Read(*ml, "alias.yaml") == "name: job\n");
  CHECK(Read(*ml, "./deep/../job.yaml") == "name: job\n");
  CHECK(Read(*ml, "../shared/conda.yaml") ==
        "dependencies: [python]\n");  // climbing out of the root
  CHECK(Read(*ml, "shared-link/conda.yaml") == "dependencies: [python]\n");
  CHECK(ml->IsFile("../shared/conda.yaml"));
  CHECK(ml->IsFile("src/train.py"));
  CHECK_FALSE(ml->IsFile("src"));
  CHECK(ml->IsDirectory("src"));
  CHECK(ml->IsDirectory("."));
  CHECK(ml->IsDirectory("../shared"));
  CHECK(ml->IsDirectory("shared-link"));
  CHECK_FALSE(ml->IsDirectory("job.yaml"));
  CHECK_FALSE(ml->IsFile("missing.yaml"));
  CHECK_FALSE(ml->IsFile("job.yaml/x"));
  CHECK_FALSE(ml->IsFile("../../etc/passwd"));  // above the repository's root: nothing
  CHECK_FALSE(ml->IsFile("outside.yaml"));      // a symlink out of the repository: nothing
  CHECK_FALSE(ml->IsFile("/etc/passwd"));
  CHECK(ml->DisplayPath("job.yaml") == "ml/job.yaml");
  CHECK(ml->DisplayPath("../shared/conda.yaml") == "shared/conda.yaml");
  CHECK(ml->DisplayPath(".") == "ml");

  auto missing = ml->ReadFile("missing.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        "cannot read 'ml/missing.yaml': no such file in commit " + commit.substr(0, 7));
  CHECK(ml->ReadFile("../../x.yaml").status().code() == StatusCode::kNotFound);
  CHECK(ml->ReadFile("deep").status().code() == StatusCode::kNotFound);

  auto no_folder = mirror->TreeAt(commit, "nope");
  REQUIRE_FALSE(no_folder.ok());
  CHECK(no_folder.status().code() == StatusCode::kNotFound);
  CHECK(no_folder.status().message() == "no folder 'nope' in commit " + commit.substr(0, 7));
  CHECK(mirror->TreeAt(commit, "top.yaml").status().code() == StatusCode::kNotFound);
  CHECK(mirror->TreeAt(commit, "../x").status().code() == StatusCode::kNotFound);
  CHECK(mirror->TreeAt("0000000", "").status().code() == StatusCode::kNotFound);

  // The tree outlives its mirror object and serves several threads at once.
  mirror.reset();
  std::vector<std::thread> readers;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto text = ml->ReadFile(i % 2 ? "../shared/conda.yaml" : "alias.yaml");
        good += text.ok() && ml->IsDirectory("deep") && ml->ListSpecFiles().ok();
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  CHECK(good == 800);
}

TEST_CASE("ExportTree writes a commit's files with their modes and symlinks", "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("src/train.py", "print('train')\n");
  repos.Write("src/run.sh", "#!/bin/sh\necho run\n");
  fs::permissions(repos.work() / "src" / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("train.py", repos.work() / "src" / "main.py");
  repos.Write("job.yaml", "name: a\n");
  Git(repos.work(), "add -A");
  // A submodule (a gitlink entry): exported as an empty folder.
  Git(repos.work(),
      "update-index --add --cacheinfo 160000,0123456789012345678901234567890123456789,vendor/lib");
  Git(repos.work(), "commit -q -m code");  // not CommitAndPush: add -A would drop the gitlink
  Git(repos.work(), "push -q origin HEAD:main");
  std::string commit = Git(repos.work(), "rev-parse HEAD");
  auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());
  CHECK(Tree(*mirror, commit, "")->IsDirectory("vendor/lib"));

  fs::path dest = repos.temp("exports") / commit;
  REQUIRE(mirror->ExportTree(commit, dest.string()).ok());
  CHECK(amlc::testing::ReadFile(dest / "src" / "train.py") == "print('train')\n");
  CHECK(amlc::testing::ReadFile(dest / "job.yaml") == "name: a\n");
  struct stat info {};
  REQUIRE(stat((dest / "src" / "run.sh").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0755);
  REQUIRE(stat((dest / "src" / "train.py").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0644);
  REQUIRE(fs::is_symlink(dest / "src" / "main.py"));
  CHECK(fs::read_symlink(dest / "src" / "main.py") == "train.py");
  CHECK_FALSE(fs::exists(dest / ".git"));
  CHECK(fs::is_directory(dest / "vendor" / "lib"));
  CHECK(fs::is_empty(dest / "vendor" / "lib"));
  std::string out;
  CHECK(Run("sh '" + (dest / "src" / "run.sh").string() + "'", &out) == 0);
  CHECK(out == "run\n");

  // Keyed by commit: an existing export is left as it is.
  std::ofstream(dest / "marker") << "kept";
  REQUIRE(mirror->ExportTree(commit, dest.string()).ok());
  CHECK(fs::exists(dest / "marker"));
  std::vector<std::string> beside;
  for (const auto& entry : fs::directory_iterator(dest.parent_path())) {
    beside.push_back(entry.path().filename().string());
  }
  CHECK(beside == std::vector<std::string>{commit});  // no staging folder left

  // Exporters racing for one commit all succeed, and one tree is left.
  fs::path raced = repos.temp("exports") / "raced";
  std::vector<std::thread> exporters;
  std::atomic<int> exported{0};
  for (int t = 0; t < 4; ++t) {
    exporters.emplace_back([&] { exported += mirror->ExportTree(commit, raced.string()).ok(); });
  }
  for (std::thread& exporter : exporters) exporter.join();
  CHECK(exported == 4);
  CHECK(amlc::testing::ReadFile(raced / "src" / "train.py") == "print('train')\n");
  for (const auto& entry : fs::directory_iterator(raced.parent_path())) {
    CHECK_FALSE(Contains(entry.path().filename().string(), ".tmp-"));
  }

  auto unknown = mirror->ExportTree("no-such-branch", (repos.temp("exports") / "x").string());
  CHECK(unknown.code() == StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(repos.temp("exports") / "x"));
}

TEST_CASE("git source errors are clear Status values", "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("job.yaml", "name: a\n");
  repos.CommitAndPush("first");
  Git(repos.work(), "push -q origin HEAD:dev");

  SECTION("a folder that is not a repository") {
    SpecDir plain;
    auto mirror = GitMirror::Open(plain.str(), repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    CHECK(mirror.status().code() == StatusCode::kNotFound);
    CHECK(Contains(mirror.status().message(), "'" + plain.str() + "' is not a git repository"));
    CHECK_FALSE(fs::exists(repos.cache()));
  }
  SECTION("a path that does not exist") {
    auto mirror = GitMirror::Open(repos.temp("missing").string(), repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    CHECK(mirror.status().code() == StatusCode::kNotFound);
    CHECK(Contains(mirror.status().message(), "does not exist"));
  }
  SECTION("a file:// URL that is not a repository") {
    SpecDir plain;
    auto mirror = GitMirror::Open("file://" + plain.str(), repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    INFO(mirror.status().message());
    CHECK(mirror.status().code() == StatusCode::kNotFound);
    CHECK(Contains(mirror.status().message(),
                   "'file://" + plain.str() + "' is not a git repository"));
    CHECK_FALSE(fs::exists(repos.cache()));  // a failed clone leaves nothing behind
  }
  SECTION("an unknown branch names the branches there are") {
    auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());
    auto branch = mirror->ResolveBranch("mian");
    REQUIRE_FALSE(branch.ok());
    CHECK(branch.status().code() == StatusCode::kNotFound);
    CHECK(branch.status().message() ==
          "no branch 'mian' in '" + repos.origin().string() + "' (branches: dev, main)");
    CHECK(mirror->ResolveBranch("bad..name").status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("an unreachable URL") {
    auto mirror = GitMirror::Open("http://127.0.0.1:1/x.git", repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    INFO(mirror.status().message());
    CHECK(mirror.status().code() == StatusCode::kUnavailable);
    CHECK(Contains(mirror.status().message(), "cannot reach 'http://127.0.0.1:1/x.git'"));
    CHECK_FALSE(fs::exists(repos.cache()));
  }
  SECTION("a URL's password never shows in a message") {
    auto mirror = GitMirror::Open("http://bob:s3cret-pw@127.0.0.1:1/x.git", repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    CHECK(Contains(mirror.status().message(), "http://127.0.0.1:1/x.git"));
    CHECK_FALSE(Contains(mirror.status().message(), "s3cret-pw"));
    CHECK_FALSE(Contains(mirror.status().message(), "bob"));
  }
  SECTION("a cache folder holding something else") {
    fs::create_directories(repos.cache());
    std::ofstream(repos.cache() / "precious.txt") << "mine";
    auto mirror = GitMirror::Open(repos.origin().string(), repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    CHECK(mirror.status().code() == StatusCode::kFailedPrecondition);
    CHECK(Contains(mirror.status().message(), "is not an amlc git mirror"));
    CHECK(fs::exists(repos.cache() / "precious.txt"));
  }
  SECTION("a mirror whose origin went away") {
    auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());
    fs::remove_all(repos.origin());
    amlc::Status fetched = mirror->Fetch();
    REQUIRE_FALSE(fetched.ok());
    INFO(fetched.message());
    CHECK(fetched.code() == StatusCode::kNotFound);
    CHECK(Contains(fetched.message(), repos.origin().string()));
    CHECK(ResolvedBranch(*mirror, "main").size() == 40);  // what was fetched stays usable
  }
}

TEST_CASE("a git mirror authenticates over HTTP with the URL's or the environment's credentials",
          "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  repos.Write("job.yaml", "name: a\n");
  std::string head = repos.CommitAndPush("first");
  HttpGitServer server(repos.origin().parent_path(), "alice", "s3cr@t");

  SECTION("user and password in the URL (percent-encoded), kept out of the mirror's config") {
    auto mirror = OpenMirror(server.Url("alice:s3cr%40t@", "origin.git"), repos.cache().string());
    CHECK(ResolvedBranch(*mirror, "main") == head);
    CHECK(mirror->url() == server.Url("", "origin.git"));
    CHECK_FALSE(Contains(amlc::testing::ReadFile(repos.cache() / "config"), "s3cr"));
    repos.Write("job.yaml", "name: b\n");
    std::string second = repos.CommitAndPush("second");
    REQUIRE(mirror->Fetch().ok());
    CHECK(ResolvedBranch(*mirror, "main") == second);
  }
  SECTION("AMLC_GIT_USERNAME and AMLC_GIT_PASSWORD") {
    setenv("AMLC_GIT_USERNAME", "alice", 1);
    setenv("AMLC_GIT_PASSWORD", "s3cr@t", 1);
    auto mirror = OpenMirror(server.Url("", "origin.git"), repos.cache().string());
    ClearCredentialEnv();
    CHECK(ResolvedBranch(*mirror, "main") == head);
  }
  SECTION("no credentials") {
    auto mirror = GitMirror::Open(server.Url("", "origin.git"), repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    INFO(mirror.status().message());
    CHECK(mirror.status().code() == StatusCode::kFailedPrecondition);
    CHECK(Contains(mirror.status().message(), "requires authentication"));
    CHECK(Contains(mirror.status().message(), "AMLC_GIT_PASSWORD"));
  }
  SECTION("refused credentials, without the password in the message") {
    setenv("AMLC_GIT_USERNAME", "alice", 1);
    setenv("AMLC_GIT_PASSWORD", "wr0ng-pw", 1);
    auto mirror = GitMirror::Open(server.Url("", "origin.git"), repos.cache().string());
    ClearCredentialEnv();
    REQUIRE_FALSE(mirror.ok());
    INFO(mirror.status().message());
    CHECK(mirror.status().code() == StatusCode::kFailedPrecondition);
    CHECK(Contains(mirror.status().message(), "refused the credentials"));
    CHECK_FALSE(Contains(mirror.status().message(), "wr0ng-pw"));
    CHECK_FALSE(fs::exists(repos.cache()));
  }
  SECTION("a repository the server does not have") {
    auto mirror =
        GitMirror::Open(server.Url("alice:s3cr%40t@", "nothing.git"), repos.cache().string());
    REQUIRE_FALSE(mirror.ok());
    INFO(mirror.status().message());
    CHECK(mirror.status().code() == StatusCode::kNotFound);
    CHECK_FALSE(Contains(mirror.status().message(), "s3cr"));
  }
}

TEST_CASE("the quickstart compiled from a commit equals the quickstart compiled from disk",
          "[reconciler][git]") {
  ClearCredentialEnv();
  Repos repos;
  fs::copy(amlc::testing::SourcePath("examples/quickstart"), repos.work() / "quickstart",
           fs::copy_options::recursive);
  std::string commit = repos.CommitAndPush("quickstart");
  auto mirror = OpenMirror(repos.origin().string(), repos.cache().string());

  auto tree = Tree(*mirror, commit, "quickstart");
  auto from_git = amlc::compiler::Compile(*tree);
  INFO(amlc::testing::Rendered(*from_git));
  REQUIRE_FALSE(from_git->diagnostics.has_errors());
  auto from_disk = amlc::testing::CompilePath((repos.work() / "quickstart").string());
  REQUIRE(from_disk);
  REQUIRE_FALSE(from_disk->diagnostics.has_errors());
  CHECK(from_git->spec_files == from_disk->spec_files);
  CHECK(from_git->graph.size() > 0);
  // The graph JSON holds no source locations, so the two compare whole.
  CHECK(amlc::compiler::ir::GraphToJson(from_git->graph) ==
        amlc::compiler::ir::GraphToJson(from_disk->graph));
  // Diagnostics and source buffers name files from the repository's root.
  CHECK(from_git->sources.path(0).rfind("quickstart/", 0) == 0);
}
