#include "runtime/compute/containers.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "base/process.h"

#ifndef AMLC_SOURCE_SCRIPTS_DIR
#define AMLC_SOURCE_SCRIPTS_DIR "scripts"
#endif

namespace amlc::runtime {

namespace {

// Runs the wrapper with `args`; its exit code (-1 when it cannot start).
int RunPodman(const std::vector<std::string>& args) {
  ProcessSpec spec;
  spec.argv = {PodmanCommand()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output_file = "/dev/null";
  auto process = Spawn(spec);
  if (!process.ok()) return -1;
  int status = WaitForChild(process->pid());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string PodmanCommand() {
  if (const char* command = std::getenv("AMLC_PODMAN"); command && *command) return command;
  return std::string(AMLC_SOURCE_SCRIPTS_DIR) + "/podman.sh";
}

std::optional<std::string> ImageUnusable(const std::string& image) {
  static std::mutex mutex;
  static std::map<std::string, std::optional<std::string>> answers;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto known = answers.find(image); known != answers.end()) return known->second;
  std::optional<std::string> why;
  if (!FindProgram("podman", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin")) {
    why = "podman is not installed (scripts/install-deps.sh installs it)";
  } else if (access(PodmanCommand().c_str(), X_OK) != 0) {
    why = "the podman wrapper " + PodmanCommand() + " is missing (set AMLC_PODMAN)";
  } else if (RunPodman({"image", "exists", image}) != 0) {
    why = "image '" + image + "' is not in podman's store, and amlc pulls nothing (load it: podman load, "
          "podman import, or podman pull oci:LAYOUT)";
  }
  answers[image] = why;
  return why;
}

std::string ContainerName(const std::string& run_id) { return "amlc-" + run_id; }

std::vector<std::string> ContainerRunArgv(const std::string& run_id, const std::string& image,
                                          const std::string& command, const std::string& work,
                                          const std::vector<std::string>& mounts,
                                          const std::map<std::string, std::string>& env,
                                          const std::vector<std::string>& passthrough) {
  std::vector<std::string> argv = {PodmanCommand(), "run", "--rm", "--name", ContainerName(run_id),
                                   "--network=host", "--workdir", work};
  for (const std::string& folder : mounts) argv.insert(argv.end(), {"--volume", folder + ":" + folder});
  for (const auto& [name, value] : env) argv.insert(argv.end(), {"--env", name + "=" + value});
  for (const std::string& name : passthrough) argv.insert(argv.end(), {"--env", name});
  argv.insert(argv.end(), {image, "/bin/sh", "-c", command});
  return argv;
}

void RemoveContainer(const std::string& run_id) { RunPodman({"rm", "--force", "--ignore", ContainerName(run_id)}); }

}  // namespace amlc::runtime
