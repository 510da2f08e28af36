#ifndef AMLC_CLI_BUILD_INFO_H_
#define AMLC_CLI_BUILD_INFO_H_

namespace amlc::cli {

/// The project's version (CMake's PROJECT_VERSION), e.g. "0.1.0".
extern const char* const kBuildVersion;
/// The git commit the binary was built from ("…-dirty" with uncommitted
/// changes to tracked files; "unknown" outside git), written at build time.
extern const char* const kBuildCommit;

}  // namespace amlc::cli

#endif  // AMLC_CLI_BUILD_INFO_H_
