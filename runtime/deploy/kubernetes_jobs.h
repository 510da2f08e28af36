#ifndef AMLC_RUNTIME_DEPLOY_KUBERNETES_JOBS_H_
#define AMLC_RUNTIME_DEPLOY_KUBERNETES_JOBS_H_

// Training jobs on a `kubernetes` compute, rendered as batch/v1 Jobs for
// `amlc render --target kubernetes`, beside the web services' manifests.
// No cluster is reachable from amlc here, so nothing claims to run them:
// plan and apply list such jobs as "not carried out", and this renderer is
// how they reach a cluster (kubectl apply -k).
//
// Per job J: a ConfigMap J-code with the code folder (mounted at
// /amlc/code, the working folder), a Job J (the environment's image, the
// command with its inputs' literal values and outputs under /amlc/outputs,
// an emptyDir each), and for instance_count > 1 an Indexed Job (completions
// = parallelism = instance_count) with a headless Service J so pods reach
// each other as J-INDEX.J, and the variables the distribution's framework
// reads: pytorch MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, NODE_RANK,
// LOCAL_RANK; tensorflow TF_CONFIG; mpi the OMPI_/PMI_ rank and size.

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "compiler/ir/graph.h"
#include "runtime/deploy/kubernetes_manifests.h"

namespace amlc::runtime::deploy {

/// One command job on a kubernetes compute.
struct TrainingJobInput {
  const compiler::ir::Resource* job = nullptr;  // lowered (Resource::effective set)
  std::string namespace_name;                   // the compute's `namespace` ("" = the kubeconfig's)
  std::string image;                            // the environment's image
  std::vector<std::pair<std::string, std::string>> code_files;  // the code folder: path, contents
};

/// The objects of each job, appended to `result` and their file names to
/// `resources` (the kustomization's list). kInvalidArgument when a job has
/// no image to run in, or its code does not fit a ConfigMap (1 MiB).
Status RenderTrainingJobs(const std::vector<TrainingJobInput>& jobs, RenderResult& result,
                          std::vector<std::string>& resources);

}  // namespace amlc::runtime::deploy

#endif  // AMLC_RUNTIME_DEPLOY_KUBERNETES_JOBS_H_
