#ifndef AMLC_RUNTIME_VIEWS_RUN_FILES_H_
#define AMLC_RUNTIME_VIEWS_RUN_FILES_H_

// The files `amlc runs download` writes: a run's outputs (outputs/NAME/...)
// and its logs (logs/...), where they are stored and where they go, for the
// CLI on a local folder and for the server's /api/v1/runs/{id}/files.

#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

struct RunFile {
  std::string stored;  // the file in the workspace
  std::string path;    // where it goes under the download folder: "outputs/model/model.pkl", "logs/output.log"
};

/// Every file of run `run_id`'s outputs, only output `output_name`'s when it
/// is not "" (then no logs). kNotFound for an unknown run ("no run 'ID' in this
/// workspace (amlc runs list)") or output (naming the run's outputs).
StatusOr<std::vector<RunFile>> RunDownloadFiles(Workspace& workspace, const std::string& run_id,
                                                const std::string& output_name);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_VIEWS_RUN_FILES_H_
