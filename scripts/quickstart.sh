#!/usr/bin/env bash
# The quickstart, end to end on the embedded defaults, as far as amlc goes
# today: install, build, check the specs, print their dependency graph, train,
# register the model, build its image, serve it behind a live endpoint.
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
echo "== amlc models list (registered from the run, since its accuracy passed register_when)"
./build/cli/amlc models list
echo "== amlc images list (model + scoring code + environment as an OCI image)"
./build/cli/amlc images list
echo "== skopeo inspect of the image's OCI layout"
image_ref=$(./build/cli/amlc images show iris-image --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["oci_reference"])')
skopeo inspect "$image_ref" > build/quickstart-image.json
head -n 20 build/quickstart-image.json
echo "== the endpoint answers: amlc endpoints invoke (its address and key looked up in the workspace)"
./build/cli/amlc deployments list
./build/cli/amlc endpoints invoke iris --request-file examples/quickstart/sample-request.json
echo "== applying again changes nothing"
./build/cli/amlc apply examples/quickstart --auto-approve
echo "== the endpoint keeps serving; stop it (and its replicas) with:"
echo "   AMLC_WORKSPACE=$AMLC_WORKSPACE ./build/cli/amlc destroy examples/quickstart --auto-approve"
