#include "reconciler/git/git_source.h"

#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/url.h"
#include "reconciler/git/libgit2_init.h"

namespace amlc::reconciler {

namespace internal {

void InitLibgit2() {
  static const int initialized = git_libgit2_init();
  (void)initialized;
}

}  // namespace internal

namespace {

namespace fs = std::filesystem;

constexpr char kBranchesRefspec[] = "+refs/heads/*:refs/heads/*";
constexpr char kTagsRefspec[] = "+refs/tags/*:refs/tags/*";
// As the Linux kernel's limit: deeper chains are loops for our purposes.
constexpr int kMaxSymlinkHops = 40;
// How many branch names an unknown-branch message lists.
constexpr size_t kBranchesNamed = 10;

// ---------------------------------------------------------------------------
// Owning handles for libgit2 objects.

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* object) const { Free(object); }
};
using RepositoryPtr = std::unique_ptr<git_repository, GitFree<git_repository, git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitFree<git_remote, git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitFree<git_object, git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, GitFree<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, GitFree<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, GitFree<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, GitFree<git_blob, git_blob_free>>;
using ReferencePtr = std::unique_ptr<git_reference, GitFree<git_reference, git_reference_free>>;
using BranchIteratorPtr =
    std::unique_ptr<git_branch_iterator, GitFree<git_branch_iterator, git_branch_iterator_free>>;

// libgit2's explanation of the last failure on this thread.
std::string LastGitError() {
  const git_error* error = git_error_last();
  return error && error->message ? error->message : "unknown libgit2 error";
}

int LastGitErrorClass() {
  const git_error* error = git_error_last();
  return error ? error->klass : GIT_ERROR_NONE;
}

std::string OidHex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1] = {0};
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

std::string ShortId(const git_oid& oid) { return OidHex(oid).substr(0, 7); }

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Replaces every occurrence of `secret` in `text`: libgit2 messages may echo
// what they were given, and a password must never reach a log.
std::string Redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (size_t at = 0; (at = text.find(secret, at)) != std::string::npos; at += 3) {
    text.replace(at, secret.size(), "***");
  }
  return text;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

StatusOr<RepositoryPtr> OpenRepository(const std::string& dir) {
  internal::InitLibgit2();
  git_repository* repository = nullptr;
  if (git_repository_open_ext(&repository, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) !=
      0) {
    return Status(StatusCode::kNotFound,
                  "'" + dir + "' is not a git repository: " + LastGitError());
  }
  return RepositoryPtr(repository);
}

// ---------------------------------------------------------------------------
// Where the repository is: URL or path, and the credentials the URL carried.

struct Source {
  std::string url;  // without credentials
  std::string username;
  std::string password;
};

// "scheme://user:password@host/path" → URL without "user:password@" and the
// decoded user and password, so the password stays out of the mirror's config.
StatusOr<Source> SourceOfUrl(const std::string& text) {
  StatusOr<Url> url = ParseUrl(text);
  if (!url.ok()) return url.status();
  if (!url->userinfo) return Source{text, "", ""};
  return Source{url->ToString(/*with_userinfo=*/false), url->Username(),
                url->Password().value_or("")};
}

// "git@host:team/repo.git": a colon before any slash, and no such local path.
bool IsScpLikeUrl(const std::string& text) {
  size_t colon = text.find(':');
  size_t slash = text.find('/');
  std::error_code error;
  return colon != std::string::npos && colon > 0 && (slash == std::string::npos || colon < slash) &&
         !fs::exists(text, error);
}

// A local source checked before libgit2 sees it: a path that is gone only
// gets "unsupported URL protocol" from it.
Status CheckLocalSource(const std::string& path) {
  std::error_code error;
  if (!fs::exists(path, error)) {
    return Status(StatusCode::kNotFound,
                  "'" + path + "' does not exist; give the folder of a git repository or its URL");
  }
  if (!OpenRepository(path).ok()) {
    return Status(StatusCode::kNotFound,
                  "'" + path +
                      "' is not a git repository; give the folder holding .git "
                      "(or a bare repository) or a URL");
  }
  return Status::Ok();
}

bool IsLocalPath(const std::string& url) { return !url.empty() && url[0] == '/'; }

StatusOr<Source> ParseSource(const std::string& url_or_path) {
  if (url_or_path.empty())
    return Status(StatusCode::kInvalidArgument, "no repository URL or path given");
  if (Contains(url_or_path, "://")) return SourceOfUrl(url_or_path);
  if (IsScpLikeUrl(url_or_path)) return Source{url_or_path, "", ""};
  std::error_code error;
  std::string absolute = fs::absolute(url_or_path, error).lexically_normal().generic_string();
  while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  Status local = CheckLocalSource(absolute);
  if (!local.ok()) return local;
  return Source{absolute, "", ""};
}

// ---------------------------------------------------------------------------
// Fetching.

// What the credentials callback did, to explain a failure afterwards.
struct CredentialState {
  std::string username;
  std::string password;
  int offered = 0;
  bool refused = false;  // the server asked again after what was offered
  bool asked_without_credentials = false;
};

int SupplyCredentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                      unsigned int allowed_types, void* payload) {
  auto* state = static_cast<CredentialState*>(payload);
  std::string username = !state->username.empty() ? state->username
                         : username_from_url      ? username_from_url
                                                  : "";
  if (allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
    if (state->password.empty()) {
      state->asked_without_credentials = true;
      return GIT_PASSTHROUGH;
    }
    // libgit2 asks again after every 401; offering the same thing twice would loop.
    if (state->offered++ > 0) {
      state->refused = true;
      return GIT_EAUTH;
    }
    return git_credential_userpass_plaintext_new(out, username.empty() ? "git" : username.c_str(),
                                                 state->password.c_str());
  }
  if (allowed_types & GIT_CREDENTIAL_SSH_KEY) {
    if (state->offered++ > 0) {
      state->refused = true;
      return GIT_EAUTH;
    }
    return git_credential_ssh_key_from_agent(out, username.empty() ? "git" : username.c_str());
  }
  if (allowed_types & GIT_CREDENTIAL_USERNAME) {
    return git_credential_username_new(out, username.empty() ? "git" : username.c_str());
  }
  state->asked_without_credentials = true;
  return GIT_PASSTHROUGH;
}

// Turns a failed fetch into a Status that says what to do about it.
Status FetchError(int code, const CredentialState& credentials, const std::string& url) {
  std::string detail = Redact(LastGitError(), credentials.password);
  int error_class = LastGitErrorClass();
  std::string lower = detail;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  // libgit2 has no message of its own when the callback gives up, so these
  // are said in full here.
  if (credentials.refused ||
      (credentials.offered > 0 && (Contains(lower, "401") || Contains(lower, "403")))) {
    return Status(StatusCode::kFailedPrecondition,
                  "'" + url +
                      "' refused the credentials offered; check AMLC_GIT_USERNAME and "
                      "AMLC_GIT_PASSWORD (or the user:token in the URL)");
  }
  if (credentials.asked_without_credentials || code == GIT_EAUTH) {
    return Status(
        StatusCode::kFailedPrecondition,
        "'" + url +
            "' requires authentication; set AMLC_GIT_USERNAME and AMLC_GIT_PASSWORD "
            "(a token) for the reconciler, or give the URL as https://user:token@host/...");
  }
  if (Contains(lower, "could not find repository") || Contains(lower, "not found") ||
      Contains(lower, "404") || Contains(lower, "not a git repository") ||
      Contains(lower, "does not appear to be a git repository")) {
    return Status(StatusCode::kNotFound,
                  "'" + url + "' is not a git repository (" + detail + "); check the URL or path");
  }
  if (error_class == GIT_ERROR_NET || error_class == GIT_ERROR_OS || error_class == GIT_ERROR_SSL ||
      error_class == GIT_ERROR_HTTP || error_class == GIT_ERROR_SSH) {
    return Status(StatusCode::kUnavailable, "cannot reach '" + url + "' (" + detail +
                                                "); check the address and that the server is up");
  }
  return Status(StatusCode::kUnavailable, "fetching '" + url + "' failed: " + detail);
}

// Points the mirror's HEAD at the remote's default branch, as a clone does,
// so "HEAD" names the branch people see first. Best effort.
void FollowRemoteHead(git_repository* repository, git_remote* remote) {
  git_buf branch = GIT_BUF_INIT;
  if (git_remote_default_branch(&branch, remote) == 0)
    git_repository_set_head(repository, branch.ptr);
  git_buf_dispose(&branch);
}

// A remote for `url` in `repository` built from the URL alone. libgit2 1.5
// leaks a PCRE2 match (about 20 KB) for every config entry a regex fails to
// match, and looking up a named remote or applying url.*.insteadOf runs such
// regexes over the whole config: a reconciler fetching every minute would
// grow without end. This path reads no config by regex.
StatusOr<RemotePtr> AnonymousRemote(git_repository* repository, const std::string& url) {
  git_remote_create_options options = GIT_REMOTE_CREATE_OPTIONS_INIT;
  options.repository = repository;
  options.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  git_remote* remote = nullptr;
  if (git_remote_create_with_opts(&remote, url.c_str(), &options) != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot use '" + url + "' as a git remote: " + LastGitError());
  }
  return RemotePtr(remote);
}

// The value of config key `name` in `repository` ("" when unset), read by
// exact name (see AnonymousRemote for why not by regex).
std::string ConfigString(git_repository* repository, const char* name) {
  git_config* config = nullptr;
  if (git_repository_config_snapshot(&config, repository) != 0) return "";
  git_buf value = GIT_BUF_INIT;
  std::string text;
  if (git_config_get_string_buf(&value, config, name) == 0) text.assign(value.ptr, value.size);
  git_buf_dispose(&value);
  git_config_free(config);
  return text;
}

// Fetches origin's branches and tags into the bare repository at `dir`.
Status FetchInto(const std::string& dir, const Source& source) {
  if (IsLocalPath(source.url)) {
    Status local = CheckLocalSource(source.url);
    if (!local.ok()) return local;
  }
  StatusOr<RepositoryPtr> repository = OpenRepository(dir);
  if (!repository.ok()) return repository.status();
  StatusOr<RemotePtr> remote = AnonymousRemote(repository->get(), source.url);
  if (!remote.ok()) return remote.status();
  // The URL's own credentials win over the environment's.
  CredentialState credentials;
  credentials.username = source.username.empty() ? EnvOr("AMLC_GIT_USERNAME", "") : source.username;
  credentials.password = source.password.empty() ? EnvOr("AMLC_GIT_PASSWORD", "") : source.password;
  git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
  options.prune = GIT_FETCH_PRUNE;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // the tags refspec fetches them, forced
  options.update_fetchhead = 0;
  options.proxy_opts.type = GIT_PROXY_AUTO;
  options.callbacks.credentials = SupplyCredentials;
  options.callbacks.payload = &credentials;
  git_error_clear();  // so a failure below never reports an older, unrelated error
  char* refspecs[] = {const_cast<char*>(kBranchesRefspec), const_cast<char*>(kTagsRefspec)};
  git_strarray refspec_array = {refspecs, 2};
  int code = git_remote_fetch(remote->get(), &refspec_array, &options, "amlc fetch");
  if (code != 0) return FetchError(code, credentials, source.url);
  FollowRemoteHead(repository->get(), remote->get());
  return Status::Ok();
}

// A fresh bare repository at `dir` whose origin is `url`, fetching branches
// and tags as a mirror does. The remote in the config records the URL (and
// lets people run git in the mirror); amlc's fetches name their refspecs.
Status InitMirror(const std::string& dir, const std::string& url) {
  internal::InitLibgit2();
  git_repository* raw_repository = nullptr;
  if (git_repository_init(&raw_repository, dir.c_str(), /*is_bare=*/1) != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot create a git mirror in '" + dir + "': " + LastGitError());
  }
  RepositoryPtr repository(raw_repository);
  git_config* config = nullptr;
  if (git_repository_config(&config, repository.get()) != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot write the config of '" + dir + "': " + LastGitError());
  }
  // Set by key rather than through git_remote_create (see AnonymousRemote);
  // the second fetch refspec needs the one regex, once per clone.
  bool written = git_config_set_string(config, "remote.origin.url", url.c_str()) == 0 &&
                 git_config_set_string(config, "remote.origin.fetch", kBranchesRefspec) == 0 &&
                 git_config_set_multivar(config, "remote.origin.fetch", "^$", kTagsRefspec) == 0;
  std::string error = written ? "" : LastGitError();
  git_config_free(config);
  if (!written)
    return Status(StatusCode::kUnavailable, "cannot write the config of '" + dir + "': " + error);
  return Status::Ok();
}

// Folders written beside their final place and renamed into it: unique per
// process and call, so concurrent writers never share one.
std::string StagingPath(const std::string& dest) {
  static std::atomic<unsigned> counter{0};
  return dest + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

bool IsEmptyOrMissingFolder(const std::string& dir) {
  std::error_code error;
  if (!fs::exists(dir, error)) return true;
  return fs::is_directory(dir, error) && fs::is_empty(dir, error);
}

// Clones `source` into `cache_dir` (staged, then renamed into place).
Status CloneMirror(const Source& source, const std::string& cache_dir) {
  std::error_code error;
  fs::path parent = fs::path(cache_dir).parent_path();
  if (!parent.empty()) fs::create_directories(parent, error);
  std::string staging = StagingPath(cache_dir);
  Status status = InitMirror(staging, source.url);
  if (status.ok()) status = FetchInto(staging, source);
  if (status.ok() && std::rename(staging.c_str(), cache_dir.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    // Another process cloning the same mirror got there first: use its clone.
    if (IsEmptyOrMissingFolder(cache_dir)) {
      status = Status(StatusCode::kUnavailable,
                      "cannot move the new mirror into '" + cache_dir + "': " + reason);
    }
  }
  fs::remove_all(staging, error);
  return status;
}

// Checks that the existing mirror in `cache_dir` is one of `url`.
Status CheckMirror(const std::string& cache_dir, const std::string& url) {
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir);
  if (!repository.ok() || !git_repository_is_bare(repository->get())) {
    return Status(StatusCode::kFailedPrecondition,
                  "'" + cache_dir +
                      "' exists and is not an amlc git mirror; remove it "
                      "or choose another cache folder");
  }
  std::string mirrored = ConfigString(repository->get(), "remote.origin.url");
  if (mirrored.empty()) {
    return Status(
        StatusCode::kFailedPrecondition,
        "the mirror '" + cache_dir + "' has no remote 'origin'; remove it so amlc clones afresh");
  }
  if (mirrored != url) {
    return Status(StatusCode::kFailedPrecondition,
                  "'" + cache_dir + "' mirrors '" + mirrored + "', not '" + url +
                      "'; remove it or choose another cache folder");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Revisions.

StatusOr<git_oid> PeelToCommit(git_object* object, const std::string& revision) {
  git_object* commit = nullptr;
  if (git_object_peel(&commit, object, GIT_OBJECT_COMMIT) != 0) {
    return Status(StatusCode::kInvalidArgument, "'" + revision + "' does not name a commit");
  }
  git_oid id = *git_object_id(commit);
  git_object_free(commit);
  return id;
}

// A reference's commit (branches and tags alike, annotated tags peeled).
StatusOr<git_oid> ReferenceCommit(git_repository* repository, const std::string& name) {
  git_reference* raw_reference = nullptr;
  int code = git_reference_lookup(&raw_reference, repository, name.c_str());
  if (code == GIT_EINVALIDSPEC) {
    return Status(StatusCode::kInvalidArgument, "'" + name + "' is not a valid git reference name");
  }
  if (code != 0) return Status(StatusCode::kNotFound, "no reference '" + name + "'");
  ReferencePtr reference(raw_reference);
  git_object* raw_object = nullptr;
  if (git_reference_peel(&raw_object, reference.get(), GIT_OBJECT_COMMIT) != 0) {
    return Status(StatusCode::kInvalidArgument, "'" + name + "' does not point at a commit");
  }
  ObjectPtr object(raw_object);
  return *git_object_id(object.get());
}

std::vector<std::string> BranchNames(git_repository* repository) {
  std::vector<std::string> names;
  git_branch_iterator* raw_iterator = nullptr;
  if (git_branch_iterator_new(&raw_iterator, repository, GIT_BRANCH_LOCAL) != 0) return names;
  BranchIteratorPtr iterator(raw_iterator);
  git_reference* reference = nullptr;
  git_branch_t type;
  while (git_branch_next(&reference, &type, iterator.get()) == 0) {
    const char* name = nullptr;
    if (git_branch_name(&name, reference) == 0 && name) names.push_back(name);
    git_reference_free(reference);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string DescribeBranches(const std::vector<std::string>& names) {
  if (names.empty()) return "it has no branches yet";
  std::string text = "branches: ";
  for (size_t i = 0; i < names.size() && i < kBranchesNamed; ++i)
    text += (i ? ", " : "") + names[i];
  if (names.size() > kBranchesNamed) text += ", …";
  return text;
}

// A branch first (so a branch named like a tag wins, as the reconciler
// watches branches), then anything git's revision syntax accepts.
StatusOr<git_oid> ResolveCommit(git_repository* repository, const std::string& revision,
                                const std::string& url) {
  if (revision.empty()) return Status(StatusCode::kInvalidArgument, "no revision given");
  if (revision.rfind("refs/", 0) != 0) {
    StatusOr<git_oid> branch = ReferenceCommit(repository, "refs/heads/" + revision);
    if (branch.ok()) return branch;
  }
  git_object* raw_object = nullptr;
  int code = git_revparse_single(&raw_object, repository, revision.c_str());
  if (code == GIT_EAMBIGUOUS) {
    return Status(StatusCode::kInvalidArgument, "'" + revision + "' is ambiguous in '" + url +
                                                    "'; give more digits of the commit id");
  }
  if (code == GIT_EINVALIDSPEC) {
    return Status(StatusCode::kInvalidArgument, "'" + revision + "' is not a valid git revision");
  }
  if (code != 0) {
    return Status(StatusCode::kNotFound,
                  "no branch, tag or commit '" + revision + "' in '" + url +
                      "' (fetched last: a new commit may need a fetch first)");
  }
  ObjectPtr object(raw_object);
  return PeelToCommit(object.get(), revision);
}

StatusOr<CommitPtr> LookupCommit(git_repository* repository, const std::string& revision,
                                 const std::string& url) {
  StatusOr<git_oid> id = ResolveCommit(repository, revision, url);
  if (!id.ok()) return id.status();
  git_commit* commit = nullptr;
  if (git_commit_lookup(&commit, repository, &id.value()) != 0) {
    return Status(StatusCode::kInternal,
                  "cannot read commit " + OidHex(*id) + ": " + LastGitError());
  }
  return CommitPtr(commit);
}

std::string FirstLine(const std::string& message) {
  size_t start = message.find_first_not_of("\r\n");
  if (start == std::string::npos) return "";
  size_t end = message.find_first_of("\r\n", start);
  return message.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// ---------------------------------------------------------------------------
// Paths inside a commit.

// `path` made relative to the repository's root, '/'-separated, without "."
// or ".." ("" for the root); nullopt when it is absolute or climbs above the root.
std::optional<std::string> NormalizeRepoPath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return std::nullopt;
  std::string normal = fs::path(path).lexically_normal().generic_string();
  while (!normal.empty() && normal.back() == '/') normal.pop_back();
  if (normal == "." || normal.empty()) return std::string();
  if (normal == ".." || normal.rfind("../", 0) == 0) return std::nullopt;
  return normal;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  for (size_t start = 0; start < path.size();) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string JoinPath(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

bool IsFileMode(git_filemode_t mode) {
  return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}
bool IsFolderMode(git_filemode_t mode) {
  return mode == GIT_FILEMODE_TREE || mode == GIT_FILEMODE_COMMIT;
}

StatusOr<std::string> ReadBlob(git_repository* repository, const git_oid& id) {
  git_blob* raw_blob = nullptr;
  if (git_blob_lookup(&raw_blob, repository, &id) != 0) {
    return Status(StatusCode::kInternal, "cannot read blob " + OidHex(id) + ": " + LastGitError());
  }
  BlobPtr blob(raw_blob);
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<size_t>(git_blob_rawsize(blob.get())));
}

// One entry of a commit's tree, found by path with symlinks followed.
struct FoundEntry {
  git_oid id;
  git_filemode_t mode;
};

// Finds `repo_path` (normalized) in `root`, following symlinks inside the
// repository as the file system would. nullopt when nothing is there.
std::optional<FoundEntry> FindEntry(git_repository* repository, const git_tree* root,
                                    const std::string& repo_path) {
  std::vector<std::string> parts = SplitPath(repo_path);
  std::string walked;  // the resolved folder reached so far
  int hops = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string candidate = JoinPath(walked, parts[i]);
    git_tree_entry* raw_entry = nullptr;
    if (git_tree_entry_bypath(&raw_entry, root, candidate.c_str()) != 0) return std::nullopt;
    TreeEntryPtr entry(raw_entry);
    git_filemode_t mode = git_tree_entry_filemode(entry.get());
    bool last = i + 1 == parts.size();
    if (mode == GIT_FILEMODE_LINK) {
      StatusOr<std::string> target = ReadBlob(repository, *git_tree_entry_id(entry.get()));
      // Absolute targets lie outside the repository: nothing there.
      if (++hops > kMaxSymlinkHops || !target.ok() || target->empty() || (*target)[0] == '/') {
        return std::nullopt;
      }
      std::string rest = *target;
      for (size_t j = i + 1; j < parts.size(); ++j) rest += "/" + parts[j];
      std::optional<std::string> next = NormalizeRepoPath(JoinPath(walked, rest));
      if (!next) return std::nullopt;
      parts = SplitPath(*next);
      walked.clear();
      i = static_cast<size_t>(-1);  // walk the new path from the root
      if (parts.empty()) break;
      continue;
    }
    if (!last && mode != GIT_FILEMODE_TREE) return std::nullopt;  // a file used as a folder
    if (last) return FoundEntry{*git_tree_entry_id(entry.get()), mode};
    walked = candidate;
  }
  return FoundEntry{*git_tree_id(root), GIT_FILEMODE_TREE};
}

StatusOr<TreePtr> LookupTree(git_repository* repository, const git_oid& id) {
  git_tree* tree = nullptr;
  if (git_tree_lookup(&tree, repository, &id) != 0) {
    return Status(StatusCode::kInternal, "cannot read tree " + OidHex(id) + ": " + LastGitError());
  }
  return TreePtr(tree);
}

// ---------------------------------------------------------------------------
// The spec tree of one commit.

// Reads specs straight from git objects. libgit2 objects are not safe to
// share between threads, so every read holds `mutex_`; the compiler reads
// serially today, but parses in parallel and may read in parallel tomorrow.
class GitSourceTree final : public compiler::SourceTree {
 public:
  GitSourceTree(RepositoryPtr repository, TreePtr root, std::string subdir, std::string short_id)
      : repository_(std::move(repository)),
        root_(std::move(root)),
        subdir_(std::move(subdir)),
        short_id_(std::move(short_id)) {}

  StatusOr<std::vector<std::string>> ListSpecFiles() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<FoundEntry> folder = FindEntry(repository_.get(), root_.get(), subdir_);
    if (!folder || folder->mode != GIT_FILEMODE_TREE) {
      return Status(StatusCode::kNotFound, "no folder '" + subdir_ + "' in commit " + short_id_);
    }
    std::vector<std::string> files;
    Status status = CollectSpecFiles(folder->id, subdir_, "", &files);
    if (!status.ok()) return status;
    std::sort(files.begin(), files.end());
    return files;
  }

  StatusOr<std::string> ReadFile(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<FoundEntry> entry = Find(path);
    if (!entry || !IsFileMode(entry->mode)) {
      return Status(StatusCode::kNotFound,
                    "cannot read '" + DisplayPath(path) + "': no such file in commit " + short_id_);
    }
    return ReadBlob(repository_.get(), entry->id);
  }

  bool IsFile(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<FoundEntry> entry = Find(path);
    return entry && IsFileMode(entry->mode);
  }

  bool IsDirectory(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<FoundEntry> entry = Find(path);
    return entry && IsFolderMode(entry->mode);
  }

  // A path outside --path but inside the commit ships with it (the tree is
  // exported whole for runs to snapshot from).
  bool Contains(const std::string& path) const override {
    return (path.empty() || path[0] != '/') && NormalizeRepoPath(JoinPath(subdir_, path)).has_value();
  }

  std::string DisplayPath(const std::string& path) const override {
    if (subdir_.empty()) return path;
    std::string shown = (fs::path(subdir_) / path).lexically_normal().generic_string();
    while (shown.size() > 1 && shown.back() == '/') shown.pop_back();
    return shown;
  }

 private:
  // `path` is relative to the root folder; callers hold `mutex_`.
  std::optional<FoundEntry> Find(const std::string& path) const {
    std::optional<std::string> repo_path = NormalizeRepoPath(JoinPath(subdir_, path));
    if (!repo_path) return std::nullopt;
    return FindEntry(repository_.get(), root_.get(), *repo_path);
  }

  // Adds the spec files under tree `id` (at `repo_folder` in the repository,
  // `folder` under the root) to `files`, skipping hidden entries as
  // DiskSourceTree does. Symlinks count when they lead to a file.
  Status CollectSpecFiles(const git_oid& id, const std::string& repo_folder,
                          const std::string& folder, std::vector<std::string>* files) const {
    StatusOr<TreePtr> tree = LookupTree(repository_.get(), id);
    if (!tree.ok()) return tree.status();
    for (size_t i = 0, n = git_tree_entrycount(tree->get()); i < n; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree->get(), i);
      std::string name = git_tree_entry_name(entry);
      if (name.empty() || name[0] == '.') continue;
      git_filemode_t mode = git_tree_entry_filemode(entry);
      if (mode == GIT_FILEMODE_TREE) {
        Status status = CollectSpecFiles(*git_tree_entry_id(entry), JoinPath(repo_folder, name),
                                         JoinPath(folder, name), files);
        if (!status.ok()) return status;
      } else if (compiler::IsSpecFileName(name) && LeadsToFile(mode, JoinPath(repo_folder, name))) {
        files->push_back(JoinPath(folder, name));
      }
    }
    return Status::Ok();
  }

  bool LeadsToFile(git_filemode_t mode, const std::string& repo_path) const {
    if (IsFileMode(mode)) return true;
    if (mode != GIT_FILEMODE_LINK) return false;
    std::optional<FoundEntry> target = FindEntry(repository_.get(), root_.get(), repo_path);
    return target && IsFileMode(target->mode);
  }

  mutable std::mutex mutex_;
  RepositoryPtr repository_;
  TreePtr root_;
  std::string subdir_;  // normalized, "" for the repository's root
  std::string short_id_;
};

// ---------------------------------------------------------------------------
// Exporting a tree as files.

bool IsSafeEntryName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name != ".git" &&
         name.find('/') == std::string::npos;
}

Status WriteFileExclusive(const std::string& path, const std::string& contents, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return Status(StatusCode::kUnavailable,
                  "cannot create '" + path + "': " + std::strerror(errno));
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      return Status(StatusCode::kUnavailable,
                    "cannot write '" + path + "': " + std::strerror(saved));
    }
    written += static_cast<size_t>(n);
  }
  // Explicit modes, not the umask's: the export feeds content digests.
  bool ok = fchmod(fd, mode) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok)
    return Status(StatusCode::kUnavailable, "cannot write '" + path + "': " + std::strerror(errno));
  return Status::Ok();
}

Status WriteTree(git_repository* repository, const git_oid& tree_id, const std::string& dir,
                 const std::string& commit_short) {
  StatusOr<TreePtr> tree = LookupTree(repository, tree_id);
  if (!tree.ok()) return tree.status();
  for (size_t i = 0, n = git_tree_entrycount(tree->get()); i < n; ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree->get(), i);
    std::string name = git_tree_entry_name(entry);
    if (!IsSafeEntryName(name)) {
      return Status(
          StatusCode::kFailedPrecondition,
          "commit " + commit_short + " holds an unsafe path '" + name + "'; it is not exported");
    }
    std::string path = dir + "/" + name;
    const git_oid& id = *git_tree_entry_id(entry);
    Status status;
    switch (git_tree_entry_filemode(entry)) {
      case GIT_FILEMODE_TREE:
      case GIT_FILEMODE_COMMIT:  // a submodule: an empty folder, as a checkout without --recursive
        if (mkdir(path.c_str(), 0755) != 0) {
          return Status(StatusCode::kUnavailable,
                        "cannot create '" + path + "': " + std::strerror(errno));
        }
        if (git_tree_entry_filemode(entry) == GIT_FILEMODE_TREE) {
          status = WriteTree(repository, id, path, commit_short);
        }
        break;
      case GIT_FILEMODE_LINK: {
        StatusOr<std::string> target = ReadBlob(repository, id);
        if (!target.ok()) return target.status();
        if (symlink(target->c_str(), path.c_str()) != 0) {
          return Status(StatusCode::kUnavailable,
                        "cannot create '" + path + "': " + std::strerror(errno));
        }
        break;
      }
      default: {
        StatusOr<std::string> contents = ReadBlob(repository, id);
        if (!contents.ok()) return contents.status();
        mode_t mode = git_tree_entry_filemode(entry) == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
        status = WriteFileExclusive(path, *contents, mode);
      }
    }
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// GitMirror.

StatusOr<std::unique_ptr<GitMirror>> GitMirror::Open(const std::string& url_or_path,
                                                     const std::string& cache_dir) {
  internal::InitLibgit2();
  if (cache_dir.empty())
    return Status(StatusCode::kInvalidArgument, "no cache folder given for the git mirror");
  StatusOr<Source> source = ParseSource(url_or_path);
  if (!source.ok()) return source.status();
  std::string cache = cache_dir;
  while (cache.size() > 1 && cache.back() == '/') cache.pop_back();
  Status status =
      IsEmptyOrMissingFolder(cache) ? CloneMirror(*source, cache) : CheckMirror(cache, source->url);
  if (!status.ok()) return status;
  return std::unique_ptr<GitMirror>(
      new GitMirror(source->url, source->username, source->password, cache));
}

Status GitMirror::Fetch() {
  // Two fetches into one mirror would fight over its ref locks.
  std::lock_guard<std::mutex> lock(fetch_mutex_);
  return FetchInto(cache_dir_, Source{url_, username_, password_});
}

StatusOr<std::string> GitMirror::ResolveBranch(const std::string& branch) const {
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir_);
  if (!repository.ok()) return repository.status();
  if (branch.empty()) return Status(StatusCode::kInvalidArgument, "no branch given");
  std::string ref = branch.rfind("refs/", 0) == 0 ? branch : "refs/heads/" + branch;
  StatusOr<git_oid> id = ReferenceCommit(repository->get(), ref);
  if (id.ok()) return OidHex(*id);
  if (id.status().code() != StatusCode::kNotFound) return id.status();
  return Status(StatusCode::kNotFound, "no branch '" + branch + "' in '" + url_ + "' (" +
                                           DescribeBranches(BranchNames(repository->get())) + ")");
}

StatusOr<std::string> GitMirror::ResolveRevision(const std::string& revision) const {
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir_);
  if (!repository.ok()) return repository.status();
  StatusOr<git_oid> id = ResolveCommit(repository->get(), revision, url_);
  if (!id.ok()) return id.status();
  return OidHex(*id);
}

StatusOr<CommitInfo> GitMirror::Commit(const std::string& id) const {
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir_);
  if (!repository.ok()) return repository.status();
  StatusOr<CommitPtr> commit = LookupCommit(repository->get(), id, url_);
  if (!commit.ok()) return commit.status();
  CommitInfo info;
  info.id = OidHex(*git_commit_id(commit->get()));
  const git_signature* author = git_commit_author(commit->get());
  info.author_name = author && author->name ? author->name : "";
  info.author_email = author && author->email ? author->email : "";
  const char* message = git_commit_message(commit->get());
  info.message = message ? message : "";
  info.summary = FirstLine(info.message);
  info.time = static_cast<int64_t>(git_commit_time(commit->get()));
  return info;
}

StatusOr<std::string> GitMirror::CommitTreeId(const std::string& commit) const {
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir_);
  if (!repository.ok()) return repository.status();
  StatusOr<CommitPtr> found = LookupCommit(repository->get(), commit, url_);
  if (!found.ok()) return found.status();
  return OidHex(*git_commit_tree_id(found->get()));
}

bool GitMirror::IsAncestor(const std::string& ancestor, const std::string& descendant) const {
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir_);
  if (!repository.ok()) return false;
  StatusOr<git_oid> old_id = ResolveCommit(repository->get(), ancestor, url_);
  StatusOr<git_oid> new_id = ResolveCommit(repository->get(), descendant, url_);
  if (!old_id.ok() || !new_id.ok()) return false;
  if (git_oid_equal(&old_id.value(), &new_id.value())) return true;
  return git_graph_descendant_of(repository->get(), &new_id.value(), &old_id.value()) == 1;
}

StatusOr<std::unique_ptr<compiler::SourceTree>> GitMirror::TreeAt(const std::string& commit,
                                                                  const std::string& subdir) const {
  // The tree keeps a repository handle of its own: it may outlive this
  // mirror object and be read while a Fetch runs.
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir_);
  if (!repository.ok()) return repository.status();
  StatusOr<CommitPtr> found = LookupCommit(repository->get(), commit, url_);
  if (!found.ok()) return found.status();
  std::string short_id = ShortId(*git_commit_id(found->get()));
  git_tree* raw_tree = nullptr;
  if (git_commit_tree(&raw_tree, found->get()) != 0) {
    return Status(StatusCode::kInternal,
                  "cannot read the tree of commit " + short_id + ": " + LastGitError());
  }
  TreePtr tree(raw_tree);
  std::optional<std::string> folder = NormalizeRepoPath(subdir);
  std::optional<FoundEntry> entry;
  if (folder) entry = FindEntry(repository->get(), tree.get(), *folder);
  if (!entry || entry->mode != GIT_FILEMODE_TREE) {
    return Status(StatusCode::kNotFound, "no folder '" + subdir + "' in commit " + short_id);
  }
  return std::unique_ptr<compiler::SourceTree>(
      new GitSourceTree(std::move(repository.value()), std::move(tree), *folder, short_id));
}

Status GitMirror::ExportTree(const std::string& commit, const std::string& dest) const {
  std::error_code error;
  if (fs::exists(dest, error)) return Status::Ok();  // keyed by commit: already written whole
  StatusOr<RepositoryPtr> repository = OpenRepository(cache_dir_);
  if (!repository.ok()) return repository.status();
  StatusOr<CommitPtr> found = LookupCommit(repository->get(), commit, url_);
  if (!found.ok()) return found.status();
  fs::path parent = fs::path(dest).parent_path();
  if (!parent.empty()) fs::create_directories(parent, error);
  std::string staging = StagingPath(dest);
  if (mkdir(staging.c_str(), 0755) != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot create '" + staging + "': " + std::strerror(errno));
  }
  Status status = WriteTree(repository->get(), *git_commit_tree_id(found->get()), staging,
                            ShortId(*git_commit_id(found->get())));
  if (status.ok() && std::rename(staging.c_str(), dest.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    // Another exporter of the same commit got there first: its tree is ours.
    if (!fs::exists(dest, error)) {
      status = Status(StatusCode::kUnavailable,
                      "cannot move the exported tree into '" + dest + "': " + reason);
    }
  }
  fs::remove_all(staging, error);  // left only when the export failed or another won the race
  return status;
}

}  // namespace amlc::reconciler
