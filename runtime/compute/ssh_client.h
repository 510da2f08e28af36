#ifndef AMLC_RUNTIME_COMPUTE_SSH_CLIENT_H_
#define AMLC_RUNTIME_COMPUTE_SSH_CLIENT_H_

// The `ssh` compute target talks to its host through the OpenSSH client
// (/usr/bin/ssh), one process per exchange. Why the client and not libssh2:
// it checks host keys exactly as the user's own ssh does (every key type,
// hashed and [host]:port entries, @revoked and @cert-authority lines), a
// hung or broken connection is a process amlc can kill rather than a call
// blocking one of its threads, and keepalives (ServerAliveInterval) tell a
// dead connection from a quiet one. The cost is one key exchange (about
// 0.4 s of CPU) per exchange, and a run needs four: check blobs, send and
// start, follow, collect (one more for its inputs' blobs, one for a venv).

#include <string>
#include <vector>

#include "base/process.h"
#include "base/byte_progress.h"
#include "base/status.h"

namespace amlc::runtime {

class Workspace;

/// How to reach an ssh compute target.
struct SshEndpoint {
  std::string host;
  int port = 22;
  std::string user;
  std::string key_file;     // the private key, on disk readable by the owner only
  std::string known_hosts;  // the host's key must be in it (no trust on first use)
  std::string remote_root;  // the folder on the host for blobs and runs ("" = ~/.amlc-remote)
  /// "root@127.0.0.1:2222", for messages.
  std::string Display() const;
};

/// The endpoint a compute spec (canonical JSON) describes: host/address,
/// port/ssh_port, user/admin_username, key_secret (a secret in the
/// workspace's store holding the private key; written to HOME/ssh/keys/NAME,
/// 0600) or key_file/ssh_private_key_file, known_hosts (default
/// HOME/ssh/known_hosts), work_dir. kInvalidArgument naming what is missing.
StatusOr<SshEndpoint> SshEndpointOf(Workspace& workspace, const std::string& compute_name,
                                    const std::string& spec_json);

/// What a command run on the host left.
struct SshResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class SshClient {
 public:
  explicit SshClient(SshEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  /// Runs `script` with /bin/sh on the host, `input_file` on its stdin ("" =
  /// none). A connection that cannot be made, a key refused and a host key
  /// that is unknown or changed are errors saying which (kUnavailable for the
  /// first, which is worth retrying; kFailedPrecondition for the others); the
  /// script's own exit code is in the result.
  /// With `output_file`, stdout goes there instead of into the result.
  /// `input_bytes` hears how much of `input_file` ssh has read to send
  /// (its stdin's offset, sampled every 20 ms; "upload NAME to HOST").
  StatusOr<SshResult> Exec(const std::string& script, const std::string& input_file = "",
                           int timeout_seconds = 300, const std::string& output_file = "",
                           const ByteSink& input_bytes = {});
  /// Starts `script` on the host with its stdout on `stdout_fd` (a pipe the
  /// caller reads) and its stderr appended to `stderr_file`.
  StatusOr<Process> Start(const std::string& script, int stdout_fd, const std::string& stderr_file);

  /// Whether the host's key is in the known_hosts file at all; the message
  /// says how to add it after checking its fingerprint.
  Status CheckHostKnown() const;
  const SshEndpoint& endpoint() const { return endpoint_; }
  /// Why ssh failed (it exits 255), from what it wrote to stderr.
  Status Explain(const std::string& err) const;

 private:
  std::vector<std::string> Argv(const std::string& script) const;

  SshEndpoint endpoint_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_SSH_CLIENT_H_
