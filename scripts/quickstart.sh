#!/usr/bin/env bash
# The quickstart, end to end on the embedded defaults, as far as amlc goes
# today: install, build, check the specs, print their dependency graph.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo "== amlc validate examples/quickstart"
./build/cli/amlc validate examples/quickstart
echo "== amlc graph examples/quickstart --format dot (rendered to build/quickstart.svg)"
./build/cli/amlc graph examples/quickstart --format dot | tee build/quickstart.dot | dot -Tsvg > build/quickstart.svg
echo "== the DSL twin compiles to the identical graph"
diff <(./build/cli/amlc graph examples/quickstart) <(./build/cli/amlc graph examples/quickstart-dsl) \
  && echo "identical"
echo "== amlc apply examples/quickstart (workspace in build/quickstart-workspace)"
export AMLC_WORKSPACE="$PWD/build/quickstart-workspace"
./build/cli/amlc apply examples/quickstart --auto-approve
echo "== amlc runs list"
./build/cli/amlc runs list
echo "== applying again changes nothing"
./build/cli/amlc apply examples/quickstart --auto-approve
