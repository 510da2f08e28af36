#ifndef AMLC_RUNTIME_ENGINE_DRIVERS_JOB_SPEC_H_
#define AMLC_RUNTIME_ENGINE_DRIVERS_JOB_SPEC_H_

#include "compiler/ir/graph.h"

namespace amlc::runtime {

/// A job's spec as it runs: a pipeline step takes its component's command,
/// code, environment and input defaults, then its own fields;
/// ${{parent.inputs.X}} becomes the pipeline's input and
/// ${{parent.jobs.S.outputs.O}} a reference to step S's output. A sweep's
/// code, command and environment are its trial's.
compiler::ir::Value EffectiveSpec(const compiler::ir::Graph& graph, const compiler::ir::Resource& job);

/// A sweep's trial: its inline trial or the component it names, with the
/// sweep's inputs (which hold ${{search_space.X}}) and compute.
compiler::ir::Value TrialSpec(const compiler::ir::Graph& graph, const compiler::ir::Resource& sweep);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVERS_JOB_SPEC_H_
