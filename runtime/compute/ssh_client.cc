#include "runtime/compute/ssh_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/compute/run_folder.h"
#include "runtime/workspace/secret_store.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string Field(const nlohmann::json& spec, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (spec.contains(name) && spec[name].is_string()) return spec[name].get<std::string>();
  }
  const nlohmann::json* settings = spec.contains("ssh_settings") ? &spec["ssh_settings"] : nullptr;
  if (!settings || !settings->is_object()) return "";
  for (const char* name : names) {
    if (settings->contains(name) && (*settings)[name].is_string()) return (*settings)[name].get<std::string>();
  }
  return "";
}

int PortOf(const nlohmann::json& spec) {
  if (spec.contains("port") && spec["port"].is_number_integer()) return spec["port"].get<int>();
  if (spec.contains("ssh_settings") && spec["ssh_settings"].contains("ssh_port") &&
      spec["ssh_settings"]["ssh_port"].is_number_integer()) {
    return spec["ssh_settings"]["ssh_port"].get<int>();
  }
  return 22;
}

// The secret's value as a key file only the owner reads; rewritten only when it changed.
StatusOr<std::string> WriteKeyFromSecret(Workspace& workspace, const std::string& compute,
                                         const std::string& secret) {
  auto store = SecretStore::Open(workspace.home());
  if (!store.ok()) return store.status();
  auto key = store->Get(secret);
  if (!key.ok()) {
    return Status(StatusCode::kFailedPrecondition,
                  "compute " + compute + ": key_secret '" + secret + "' cannot be read: " + key.status().message() +
                      " (store the private key with: KEY=\"$(cat KEYFILE)\" amlc secrets set " + secret + " --from-env KEY)");
  }
  std::string value = key.value();
  if (value.empty() || value.back() != '\n') value += '\n';  // OpenSSH refuses a key without its last newline
  std::string dir = workspace.home() + "/ssh/keys";
  std::error_code error;
  fs::create_directories(dir, error);
  fs::permissions(workspace.home() + "/ssh", fs::perms::owner_all, error);
  fs::permissions(dir, fs::perms::owner_all, error);
  std::string path = dir + "/" + compute;
  if (ReadAll(path) == value) return path;
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    fs::permissions(temporary, fs::perms::owner_read | fs::perms::owner_write, error);
    out << value;
  }
  fs::rename(temporary, path, error);
  if (error) return Status(StatusCode::kInternal, "cannot write " + path + ": " + error.message());
  return path;
}

// How far process `pid` has read its stdin (a file): the offset in
// /proc/PID/fdinfo/0; nullopt once it is gone.
std::optional<uint64_t> StdinOffset(pid_t pid) {
  std::ifstream info("/proc/" + std::to_string(pid) + "/fdinfo/0");
  std::string key;
  uint64_t value = 0;
  while (info >> key >> value) {
    if (key == "pos:") return value;
  }
  return std::nullopt;
}

}  // namespace

std::string SshEndpoint::Display() const {
  return (user.empty() ? "" : user + "@") + host + ":" + std::to_string(port);
}

StatusOr<SshEndpoint> SshEndpointOf(Workspace& workspace, const std::string& compute_name,
                                    const std::string& spec_json) {
  nlohmann::json spec = nlohmann::json::parse(spec_json, nullptr, false);
  if (!spec.is_object()) spec = nlohmann::json::object();
  SshEndpoint endpoint;
  endpoint.host = Field(spec, {"host", "address"});
  endpoint.port = PortOf(spec);
  endpoint.user = Field(spec, {"user", "admin_username"});
  endpoint.remote_root = Field(spec, {"work_dir"});
  std::string where = "compute " + compute_name + ": ";
  if (endpoint.host.empty()) {
    return Status(StatusCode::kInvalidArgument, where + "an ssh target needs `host` (or ssh_settings.address)");
  }
  if (std::string secret = Field(spec, {"key_secret"}); !secret.empty()) {
    auto key = WriteKeyFromSecret(workspace, compute_name, secret);
    if (!key.ok()) return key.status();
    endpoint.key_file = key.value();
  } else {
    endpoint.key_file = Field(spec, {"key_file", "ssh_private_key_file"});
  }
  if (endpoint.key_file.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  where + "an ssh target needs a private key: `key_secret: NAME` after `amlc secrets set NAME`");
  }
  endpoint.known_hosts = Field(spec, {"known_hosts"});
  if (endpoint.known_hosts.empty()) endpoint.known_hosts = workspace.home() + "/ssh/known_hosts";
  return endpoint;
}

std::vector<std::string> SshClient::Argv(const std::string& script) const {
  std::vector<std::string> argv = {
      "ssh", "-F", "/dev/null", "-T",
      "-o", "BatchMode=yes",
      "-o", "StrictHostKeyChecking=yes",  // never add a key: an unknown or changed host is refused
      "-o", "UserKnownHostsFile=" + endpoint_.known_hosts,
      "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "IdentitiesOnly=yes",
      "-o", "IdentityAgent=none",
      "-o", "ConnectTimeout=10",
      "-o", "ServerAliveInterval=5",
      "-o", "ServerAliveCountMax=3",
      "-o", "LogLevel=ERROR",
      "-i", endpoint_.key_file,
      "-p", std::to_string(endpoint_.port)};
  if (!endpoint_.user.empty()) argv.insert(argv.end(), {"-l", endpoint_.user});
  argv.push_back(endpoint_.host);
  argv.push_back("/bin/sh -c " + ShellQuote(script));
  return argv;
}

Status SshClient::CheckHostKnown() const {
  std::error_code error;
  if (!fs::exists(endpoint_.known_hosts, error)) {
    return Status(StatusCode::kFailedPrecondition,
                  "no known_hosts file at " + endpoint_.known_hosts + " for " + endpoint_.Display() +
                      ": amlc does not trust a host on first use; check the host's fingerprint, then add its key: "
                      "ssh-keyscan -p " + std::to_string(endpoint_.port) + " " + endpoint_.host + " >> " +
                      endpoint_.known_hosts);
  }
  return Status::Ok();
}

Status SshClient::Explain(const std::string& err) const {
  std::string where = endpoint_.Display();
  auto has = [&](const char* text) { return err.find(text) != std::string::npos; };
  if (has("IDENTIFICATION HAS CHANGED") || has("Host key for") || has("key mismatch")) {
    return Status(StatusCode::kFailedPrecondition,
                  "host key of " + where + " does not match the one in " + endpoint_.known_hosts +
                      ": refused (the host was reinstalled, or someone is in between); if the change is expected, "
                      "check the new fingerprint and replace the line");
  }
  if (has("Host key verification failed") || has("No ED25519 host key") || has("host key is not known")) {
    return Status(StatusCode::kFailedPrecondition,
                  "host key of " + where + " is not in " + endpoint_.known_hosts +
                      ": amlc does not trust a host on first use; check its fingerprint, then add it: ssh-keyscan -p " +
                      std::to_string(endpoint_.port) + " " + endpoint_.host + " >> " + endpoint_.known_hosts);
  }
  if (has("Permission denied")) {
    return Status(StatusCode::kFailedPrecondition,
                  where + " refused the key " + endpoint_.key_file + " (is its public half in authorized_keys?)");
  }
  std::string first = err.substr(0, err.find('\n'));
  return Status(StatusCode::kUnavailable, "cannot reach " + where + ": " + (first.empty() ? "ssh failed" : first));
}

StatusOr<SshResult> SshClient::Exec(const std::string& script, const std::string& input_file, int timeout_seconds,
                                    const std::string& output_file, const ByteSink& input_bytes) {
  if (Status known = CheckHostKnown(); !known.ok()) return known;
  char out_template[] = "/tmp/amlc-ssh-out-XXXXXX";
  char err_template[] = "/tmp/amlc-ssh-err-XXXXXX";
  int out_fd = output_file.empty() ? mkstemp(out_template)
                                   : ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (!output_file.empty()) std::snprintf(out_template, sizeof out_template, "%s", "/dev/null");
  int err_fd = mkstemp(err_template);
  if (out_fd < 0 || err_fd < 0) {
    if (out_fd >= 0) close(out_fd);
    if (out_fd >= 0 && output_file.empty()) unlink(out_template);
    if (err_fd >= 0) close(err_fd), unlink(err_template);
    return Status(StatusCode::kUnavailable, "cannot make temporary files for ssh");
  }
  ProcessSpec spec;
  spec.argv = Argv(script);
  if (!input_file.empty()) {
    // stdin from a file: through /bin/sh, since a spawned child gets /dev/null.
    std::vector<std::string> wrapped = {"/bin/sh", "-c", "exec \"$@\" < \"$0\"", input_file};
    wrapped.insert(wrapped.end(), spec.argv.begin(), spec.argv.end());
    spec.argv = std::move(wrapped);
  }
  spec.stdout_fd = out_fd;
  spec.stderr_fd = err_fd;
  StatusOr<Process> process = Spawn(spec);
  close(out_fd);
  close(err_fd);
  auto cleanup = [&] {
    if (output_file.empty()) unlink(out_template);
    unlink(err_template);
  };
  if (!process.ok()) {
    cleanup();
    return Status(StatusCode::kFailedPrecondition, "cannot start ssh: " + process.status().message() +
                                                      " (install openssh-client)");
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::error_code size_error;
  uint64_t input_size = input_file.empty() ? 0 : fs::file_size(input_file, size_error);
  ByteReporter sent(input_file.empty() ? ByteSink() : input_bytes,
                    "upload " + fs::path(input_file).filename().string() + " to " + endpoint_.Display(), input_size);
  std::optional<int> ended;
  while (!(ended = ReapIfEnded(process->pid()))) {
    if (std::optional<uint64_t> read = StdinOffset(process->pid())) sent.Reached(*read);
    if (std::chrono::steady_clock::now() > deadline) {
      process->SignalGroup(SIGKILL);
      WaitForChild(process->pid());
      cleanup();
      return Status(StatusCode::kUnavailable, "ssh to " + endpoint_.Display() + " gave no answer in " +
                                                  std::to_string(timeout_seconds) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  SshResult result;
  if (output_file.empty()) result.out = ReadAll(out_template);
  result.err = ReadAll(err_template);
  cleanup();
  result.exit_code = WIFEXITED(*ended) ? WEXITSTATUS(*ended) : 255;
  if (result.exit_code == 255) return Explain(result.err);
  sent.Reached(input_size);  // ssh ended well: it read its stdin to the end
  sent.Finish();
  return result;
}

StatusOr<Process> SshClient::Start(const std::string& script, int stdout_fd, const std::string& stderr_file) {
  if (Status known = CheckHostKnown(); !known.ok()) return known;
  ProcessSpec spec;
  spec.argv = Argv(script);
  spec.stdout_fd = stdout_fd;
  int err_fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  spec.stderr_fd = err_fd;
  StatusOr<Process> process = Spawn(spec);
  if (err_fd >= 0) close(err_fd);
  return process;
}

}  // namespace amlc::runtime
