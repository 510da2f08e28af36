#ifndef AMLC_RECONCILER_GIT_GIT_SOURCE_H_
#define AMLC_RECONCILER_GIT_GIT_SOURCE_H_

// The reconciler's view of the repository it watches: a bare mirror kept in
// a cache folder, fetched on every trigger, from which commits are resolved
// and spec trees read without a checkout. libgit2 stays inside this adapter.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "compiler/support/source_tree.h"
#include "base/status.h"

namespace amlc::reconciler {

/// What a commit says about itself.
struct CommitInfo {
  std::string id;  // 40 hex digits
  std::string author_name;
  std::string author_email;
  std::string summary;  // the message's first line
  std::string message;  // the whole message
  int64_t time = 0;     // committer time, unix seconds
};

/// A bare mirror of one repository (every branch and tag, force-updated and
/// pruned as on the remote) in a cache folder the reconciler owns.
///
/// Every method opens its own libgit2 handle, so a GitMirror may be used from
/// several threads at once, and a Fetch may run while trees are being read.
class GitMirror {
 public:
  /// Mirrors `url_or_path` (a local repository folder, file://, http(s)://
  /// or ssh URL) in `cache_dir`: clones it there on first use (fetching every
  /// branch), reuses the mirror when `cache_dir` already holds one of the
  /// same URL. Credentials in the URL ("https://user:token@host/repo.git")
  /// are kept in memory only, never written to the mirror's config; without
  /// them AMLC_GIT_USERNAME and AMLC_GIT_PASSWORD are offered when the
  /// server asks. Fails with kNotFound when the source is not a repository,
  /// kFailedPrecondition when authentication is refused or `cache_dir` holds
  /// something else, kUnavailable when the remote cannot be reached.
  static StatusOr<std::unique_ptr<GitMirror>> Open(const std::string& url_or_path,
                                                   const std::string& cache_dir);

  /// Fetches every branch and tag, forced and with prune: a force-push that
  /// rewrote history replaces the old branch tip, a deleted branch goes.
  /// Errors as for Open.
  Status Fetch();

  /// The commit (40 hex) branch `branch` ("main" or "refs/heads/main")
  /// points at after the last fetch. kNotFound naming the branches there are.
  StatusOr<std::string> ResolveBranch(const std::string& branch) const;
  /// A branch, a tag, "HEAD" (the remote's default branch), a commit id or a
  /// unique prefix of one, or any git revision expression, as a commit id.
  StatusOr<std::string> ResolveRevision(const std::string& revision) const;

  /// Author, message and time of commit `id` (any revision is accepted).
  StatusOr<CommitInfo> Commit(const std::string& id) const;
  /// The id of the root tree of `commit`: equal ids mean equal contents.
  StatusOr<std::string> CommitTreeId(const std::string& commit) const;
  /// True when `descendant` has `ancestor` in its history (or they are the
  /// same commit); false when it does not, or either is unknown. A branch
  /// whose new tip does not descend from its old one was force-pushed.
  bool IsAncestor(const std::string& ancestor, const std::string& descendant) const;

  /// The spec tree of `commit` rooted at folder `subdir` ("" or "." for the
  /// repository's root), read straight from git objects. Paths may climb out
  /// of `subdir` with ".." but not out of the repository. DisplayPath shows
  /// paths from the repository's root ("ml/train.yaml"). Safe to use from
  /// several threads; it stays valid after the GitMirror goes. kNotFound
  /// when `commit` is unknown or has no folder `subdir`.
  StatusOr<std::unique_ptr<compiler::SourceTree>> TreeAt(const std::string& commit,
                                                         const std::string& subdir) const;

  /// Writes the whole tree of `commit` into folder `dest` (file modes kept,
  /// symlinks as symlinks, submodules as empty folders). `dest` appears
  /// whole or not at all (written beside it, then renamed); when it exists
  /// already nothing is done, so key it by commit.
  Status ExportTree(const std::string& commit, const std::string& dest) const;

  /// The URL fetched from, without credentials (local paths made absolute).
  const std::string& url() const { return url_; }
  /// The mirror's folder.
  const std::string& cache_dir() const { return cache_dir_; }

 private:
  GitMirror(std::string url, std::string username, std::string password, std::string cache_dir)
      : url_(std::move(url)),
        username_(std::move(username)),
        password_(std::move(password)),
        cache_dir_(std::move(cache_dir)) {}

  std::string url_;
  std::string username_;  // from the URL; empty: AMLC_GIT_USERNAME when asked
  std::string password_;  // from the URL; empty: AMLC_GIT_PASSWORD when asked
  std::string cache_dir_;
  std::mutex fetch_mutex_;
};

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_GIT_GIT_SOURCE_H_
