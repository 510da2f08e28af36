#ifndef AMLC_RUNTIME_COMPUTE_CURATED_ENVIRONMENTS_H_
#define AMLC_RUNTIME_COMPUTE_CURATED_ENVIRONMENTS_H_

// Azure ML's curated environments (AzureML-sklearn-1.5@latest,
// azureml://registries/azureml/environments/sklearn-1.5/labels/latest, ...)
// are container images on Azure. Here each name maps, through a catalog, to
// a local environment: an interpreter that has the environment's packages
// (checked by importing its modules) or an OCI image. The catalog built into
// amlc maps the common ones to Debian's python3; a JSON file named by
// $AMLC_CURATED_ENVIRONMENTS adds entries and overrides built-in ones:
//
//   {"sklearn-1.5": {"python": "/opt/sk15/bin/python3", "modules": ["sklearn"]},
//    "pytorch-*":   {"image": "oci:/srv/images:torch-2.2"}}
//
// A key ending in '*' matches every name it starts (exact names win).

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace amlc::runtime {

struct CuratedEnvironment {
  std::string name;                  // the catalog's name for it ("sklearn-1.5")
  std::string python;                // the interpreter to run with; "" for an image
  std::vector<std::string> modules;  // what that interpreter must import
  std::string image;                 // an OCI image reference, instead of an interpreter
  std::string source;                // "built-in" or the override file's path
  std::string Digest() const;        // what a run key takes of it
};

/// The catalog's entry for `name`: the override file's, else the built-in
/// one. kNotFound naming the catalog when neither has it; kInvalidArgument
/// when the override file cannot be read or parsed.
StatusOr<CuratedEnvironment> LookupCurated(const std::string& name);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_CURATED_ENVIRONMENTS_H_
