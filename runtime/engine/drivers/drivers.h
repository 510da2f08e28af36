#ifndef AMLC_RUNTIME_ENGINE_DRIVERS_DRIVERS_H_
#define AMLC_RUNTIME_ENGINE_DRIVERS_DRIVERS_H_

// The built-in drivers, one per kind (see RegisterBuiltinDrivers), and what
// several of them share.

#include <map>
#include <memory>
#include <string>

#include "runtime/artifacts/registry/image_packaging.h"
#include "runtime/engine/driver.h"
#include "runtime/engine/engine_context.h"

namespace amlc::runtime {

std::unique_ptr<Driver> MakeModelDriver(EngineContext& context);
std::unique_ptr<Driver> MakeImageDriver(EngineContext& context);
std::unique_ptr<Driver> MakeEndpointDriver(EngineContext& context);
std::unique_ptr<Driver> MakeDeploymentDriver(EngineContext& context);
/// Resources that are records in the state store (workspace, datastore,
/// compute, environment, experiment, ...), with the checks their kind needs.
std::unique_ptr<Driver> MakeRecordDriver(EngineContext& context);

/// What an image spec packages: its models resolved against the registry,
/// its scoring code and environment, its base image. kFailedPrecondition
/// when a model it names has no registered version yet.
StatusOr<ImageInputs> ImageInputsOf(EngineContext& context, const compiler::ir::Resource& image);

/// What follows the kind in a resource id: "iris" of "model/iris", "iris:3" of "model/iris:3".
std::string NameOf(const std::string& resource_id);
/// A map of a spec's strings (others as their JSON), e.g. tags.
std::map<std::string, std::string> StringMap(const compiler::ir::Value* value);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVERS_DRIVERS_H_
