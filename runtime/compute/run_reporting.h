#ifndef AMLC_RUNTIME_COMPUTE_RUN_REPORTING_H_
#define AMLC_RUNTIME_COMPUTE_RUN_REPORTING_H_

// Training scripts that report over HTTP. A script whose compute does not
// share the workspace folder (ssh, slurm, kubernetes) cannot be read
// through a tracking file on this machine; when `amlc server` serves the
// workspace, the engine gives such a script the server's URL and a
// run-scoped token (AMLC_SERVER, AMLC_RUN_TOKEN; python/README.md) that may
// write only that run and its child runs, and revokes it when the run ends.
//
// The server says where it listens in HOME/server.json while it runs.

#include <cstdint>
#include <string>

#include "base/status.h"
#include "runtime/compute/compute_target.h"

namespace amlc::runtime {

/// Records that a workspace server serving `home` answers at `url`
/// ("http://127.0.0.1:8443"); written by `amlc server` when it starts.
Status AnnounceServer(const std::string& home, const std::string& url);
/// Removes the record when it still names `url` (another server may have
/// taken over since).
void WithdrawServer(const std::string& home, const std::string& url);
/// The URL a server serving `home` announced; "" when none runs.
std::string AnnouncedServer(const std::string& home);

/// Whether runs on compute of `type` see the workspace folder (and report
/// through the tracking file).
bool SharesWorkspaceFolder(const std::string& compute_type);

/// A run's reporting over HTTP, for as long as the object lives: made before
/// the run starts, it mints the token and puts it in the request's
/// environment when the run needs one; destroyed when the run has ended, it
/// revokes the token.
class RunReporting {
 public:
  /// Nothing is minted for compute sharing the folder, or when no server
  /// serves the workspace; a token that cannot be minted is reported in
  /// `warning` and the run goes on without it.
  RunReporting(Workspace& workspace, const RunRecord& run, RunRequest& request);
  ~RunReporting();
  RunReporting(const RunReporting&) = delete;
  RunReporting& operator=(const RunReporting&) = delete;

  bool active() const { return !run_id_.empty(); }
  const std::string& warning() const { return warning_; }

 private:
  std::string state_db_;
  std::string run_id_;  // "" when no token was minted
  std::string warning_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_RUN_REPORTING_H_
