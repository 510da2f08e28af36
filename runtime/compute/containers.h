#ifndef AMLC_RUNTIME_COMPUTE_CONTAINERS_H_
#define AMLC_RUNTIME_COMPUTE_CONTAINERS_H_

// Runs in an environment's image, on the local target, with podman through
// scripts/podman.sh (its two workarounds: rlimits and cgroups, see the
// script). Only images already on this machine are used: podman's store
// (podman load / import / pull oci:LAYOUT), never a pull from a registry.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace amlc::runtime {

/// The podman wrapper amlc runs: $AMLC_PODMAN, else the source tree's scripts/podman.sh.
std::string PodmanCommand();

/// Why runs cannot use `image` here ("podman is not installed", "... is not
/// in podman's store"), or nullopt when they can. Asked once per image per
/// process.
std::optional<std::string> ImageUnusable(const std::string& image);

/// The name of a run's container.
std::string ContainerName(const std::string& run_id);

/// `podman run` of `command` (for /bin/sh -c) in `image`: the host's network,
/// `mounts` (host folder -> same path inside), `env`, working folder `work`,
/// and the variables named in `passthrough` with the values they have where
/// podman starts (a distributed task's RANK, set by srun).
std::vector<std::string> ContainerRunArgv(const std::string& run_id, const std::string& image,
                                          const std::string& command, const std::string& work,
                                          const std::vector<std::string>& mounts,
                                          const std::map<std::string, std::string>& env,
                                          const std::vector<std::string>& passthrough = {});

/// Removes a run's container if it is still there (a killed podman client
/// leaves it running); waits for podman.
void RemoveContainer(const std::string& run_id);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_CONTAINERS_H_
