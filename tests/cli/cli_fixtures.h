#ifndef AMLC_TESTS_CLI_CLI_FIXTURES_H_
#define AMLC_TESTS_CLI_CLI_FIXTURES_H_

// Small spec folders the CLI tests apply through the amlc binary.
#include <filesystem>
#include <string>

#include "tests/test_support.h"

namespace amlc::testing {

/// A local compute, a python environment and a job `ok` that prints a line;
/// with `failing`, also a job `bad` that exits 3.
inline void WriteSmallSpecs(SpecDir& dir, bool failing = false) {
  const std::string job = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
  dir.Write("src/ok.py", "print('fine')\n");
  dir.Write("ok.yaml", job + "name: ok\ncode: src\ncommand: python ok.py\nenvironment: azureml:py:1\n");
  if (failing) {
    dir.Write("src/bad.py", "import sys\nsys.exit(3)\n");
    dir.Write("bad.yaml", job + "name: bad\ncode: src\ncommand: python bad.py\nenvironment: azureml:py:1\n");
  }
}

/// The build folder of the amlc binary under test (BUILD/cli/amlc).
inline std::filesystem::path BuildDir() {
  return std::filesystem::path(AMLC_BINARY).parent_path().parent_path();
}

}  // namespace amlc::testing

#endif  // AMLC_TESTS_CLI_CLI_FIXTURES_H_
