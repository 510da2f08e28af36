#!/usr/bin/env python3
"""Writes a folder of amlc specs with exactly N resources, for benchmarks.

    gen_specs.py N OUTDIR [--files F] [--seed S] [--chain L] [--fan-out K]
                 [--fan-in K] [--pipe-steps S] [--no-pipeline-refs]

The folder mixes YAML files (many `---`-separated documents each) and DSL
(.aml) files, alternately, and holds:

  * one workspace, compute targets, environments and experiments, spread over
    the files, so jobs refer to them across files and across formats;
  * command jobs in chains (job i reads job i-1's output), where each chain
    starts from the end of the previous chain (usually in another file);
  * fan-out: a hub job read by many jobs, and one root job ('ingest') read by
    every hub (its fan-out grows with N);
  * fan-in: jobs with many data inputs from jobs picked at random anywhere in
    the folder, and pipeline jobs (with their own experiment_name and
    settings.default_compute) whose steps read such jobs and whose 'merge'
    step reads every sibling step (${{parent.jobs.STEP.outputs.out}});
  * models registered from job outputs (azureml://jobs/JOB/outputs/out,
    job.JOB.outputs.out in the DSL).

N counts what `amlc validate` counts: every declared resource, and each
pipeline step as one resource. Every job's code is ./src (written here), every
job declares `outputs: {out: {type: uri_folder}}`, and commands use only the
inputs and outputs they declare, so the folder validates with no problems.
Output is deterministic for a given N, F and seed. Python 3 standard library
only.
"""

import argparse
import os
import random
import shutil
import sys

MARKER = ".gen_specs"  # amlc skips dot-files; marks a folder this script may wipe

# Default shape of the job graph (per motif); see the command-line options.
CHAIN_LEN = 10        # jobs in one chain
FAN_OUT = 10          # readers of one hub job
FAN_IN = 12           # data inputs of one fan-in job
PIPE_STEPS = 8        # reading steps of a pipeline (plus its merge step)
MODELS = 2            # models registered per fan-in motif
PER_FILE = 200        # default resources per file

AZ = "https://azuremlschemas.azureedge.net/latest/"


class Spec:
    """One resource, format-neutral; rendered as YAML or DSL later."""

    def __init__(self, kind, name, **fields):
        self.kind = kind
        self.name = name
        self.f = fields

    def count(self):
        return 1 + len(self.f.get("steps", ())) if self.kind == "pipeline" else 1


class Generator:
    def __init__(self, n, seed, chain=CHAIN_LEN, fan_out=FAN_OUT, fan_in=FAN_IN,
                 pipe_steps=PIPE_STEPS, pipeline_refs=True):
        self.n = n
        self.rng = random.Random(seed)
        self.chain, self.fan_out, self.fan_in, self.pipe_steps = chain, fan_out, fan_in, pipe_steps
        self.pipeline_refs = pipeline_refs
        self.fixed = []      # workspace, computes, environments, experiments
        self.motifs = []     # (kind, Specs kept together in one file)
        self.jobs = []       # names of jobs with an output 'out' (no steps)
        self.used = 0

    def build(self):
        side = max(2, self.n // 2000)
        self.fixed.append(Spec("workspace", "bench", description="amlc compile benchmark"))
        self.computes = ["cpu-%d" % i for i in range(side)]
        self.envs = ["env-%d" % i for i in range(side)]
        self.experiments = ["exp-%d" % i for i in range(side)]
        for i, name in enumerate(self.computes):
            self.fixed.append(Spec("compute", name, slurm=(i % 2 == 1)))
        for name in self.envs:
            self.fixed.append(Spec("environment", name))
        for name in self.experiments:
            self.fixed.append(Spec("experiment", name))
        self.used = len(self.fixed)
        if self.used + 1 > self.n:
            sys.exit("gen_specs: N must be at least %d" % (self.used + 1))  # + the root job

        root = self.job("ingest", {})
        self.motifs.append(("root", [root]))
        self.used += 1
        chain_end = "ingest"
        kinds = ["chain", "fanout", "fanin", "chain", "pipeline"]
        m = 0
        while self.left() > 0:
            kind = kinds[m % len(kinds)]
            size = {"chain": self.chain, "fanout": 1 + self.fan_out, "fanin": 1 + MODELS,
                    "pipeline": self.pipe_steps + 2}[kind]
            if size > self.left():
                kind, size = "chain", self.left()
            motif = []
            if kind == "chain":
                prev = chain_end
                for i in range(min(size, self.chain)):
                    motif.append(self.job("c%d-%d" % (m, i), {"data": prev}, lr=True))
                    prev = motif[-1].name
                chain_end = prev
            elif kind == "fanout":
                hub = self.job("h%d" % m, {"data": "ingest"})
                motif.append(hub)
                for i in range(self.fan_out):
                    motif.append(self.job("r%d-%d" % (m, i), {"data": hub.name}, lr=True))
            elif kind == "fanin":
                picks = self.pick(self.fan_in)
                fan = self.job("f%d" % m, {"in%d" % i: p for i, p in enumerate(picks)})
                motif.append(fan)
                motif.append(Spec("model", "m%d-0" % m, job=fan.name))
                motif.append(Spec("model", "m%d-1" % m, job=self.rng.choice(self.jobs)))
            else:
                steps = [("s%d" % i, p) for i, p in enumerate(self.pick(self.pipe_steps))]
                motif.append(Spec("pipeline", "pipe%d" % m, steps=steps + [("merge", None)],
                                  compute=self.rng.choice(self.computes),
                                  env=self.rng.choice(self.envs),
                                  refs=self.pipeline_refs,
                                  experiment=self.rng.choice(self.experiments)))
                self.jobs.append("pipe%d" % m)
            self.used += sum(s.count() for s in motif)
            self.motifs.append((kind, motif))
            m += 1
        assert self.used == self.n, (self.used, self.n)

    def left(self):
        return self.n - self.used

    def pick(self, k):
        pool = self.jobs
        return self.rng.sample(pool, k) if len(pool) >= k else [self.rng.choice(pool) for _ in range(k)]

    def job(self, name, data_inputs, lr=False):
        spec = Spec("job", name, inputs=data_inputs, lr=lr,
                    compute=self.rng.choice(self.computes), env=self.rng.choice(self.envs),
                    experiment=self.rng.choice(self.experiments) if self.rng.random() < 0.5 else None)
        self.jobs.append(name)
        return spec


# ---------------------------------------------------------------- rendering

def command(inputs, dsl, extra=()):
    names = list(inputs) + list(extra)
    o, c = ("${", "}") if dsl else ("${{", "}}")
    args = "".join(" --%s %sinputs.%s%s" % (n, o, n, c) for n in names)
    return "python train.py%s --out %soutputs.out%s" % (args, o, c)


def yaml_doc(s, schema_dir):
    f = s.f
    if s.kind == "workspace":
        return ["$schema: %sworkspace.schema.json" % AZ, "name: " + s.name,
                "description: " + f["description"],
                "roles:", "  owner: [owner@example.com]", "  reader: [reader@example.com]"]
    if s.kind == "compute":
        if f["slurm"]:
            return ["$schema: %samlCompute.schema.json" % AZ, "name: " + s.name,
                    "type: amlcompute", "size: batch", "min_instances: 0", "max_instances: 4"]
        return ["$schema: %s/compute.schema.json" % schema_dir, "name: " + s.name,
                "type: local", "max_concurrent: 2"]
    if s.kind == "environment":
        return ["$schema: %senvironment.schema.json" % AZ, "name: " + s.name,
                "version: 1", "python: /usr/bin/python3"]
    if s.kind == "experiment":
        return ["$schema: %s/experiment.schema.json" % schema_dir, "name: " + s.name,
                "description: benchmark experiment", "tags:", "  team: bench"]
    if s.kind == "model":
        return ["$schema: %smodel.schema.json" % AZ, "name: " + s.name,
                "path: azureml://jobs/%s/outputs/out" % f["job"], "type: custom_model",
                "framework: scikit-learn", "register_when: metrics.accuracy >= 0.5"]
    if s.kind == "job":
        extra = ["lr"] if f["lr"] else []
        out = ["$schema: %scommandJob.schema.json" % AZ, "type: command", "name: " + s.name]
        if f["experiment"]:
            out.append("experiment_name: " + f["experiment"])
        out += ["compute: azureml:" + f["compute"], "environment: azureml:%s:1" % f["env"],
                "code: ./src", "command: " + command(f["inputs"], False, extra)]
        if f["inputs"] or extra:
            out.append("inputs:")
            for name, job in f["inputs"].items():
                out += ["  %s:" % name, "    type: uri_folder",
                        "    path: azureml://jobs/%s/outputs/out" % job]
            if extra:
                out.append("  lr: 0.01")
        out += ["outputs:", "  out:", "    type: uri_folder"]
        return out
    if s.kind == "pipeline":
        out = ["$schema: %spipelineJob.schema.json" % AZ, "type: pipeline", "name: " + s.name,
               "description: fan-in pipeline"]
        if f["refs"]:
            out += ["experiment_name: " + f["experiment"],
                    "settings:", "  default_compute: azureml:" + f["compute"]]
        out += ["outputs:", "  out:", "    type: uri_folder", "jobs:"]
        readers = [step for step, _ in f["steps"] if step != "merge"]
        for step, job in f["steps"]:
            inputs = {"data": job} if job else {r: r for r in readers}
            out += ["  %s:" % step, "    type: command", "    code: ./src",
                    "    compute: azureml:" + f["compute"],
                    "    environment: azureml:%s:1" % f["env"],
                    "    command: " + command(inputs, False), "    inputs:"]
            for name, src in inputs.items():
                if job:
                    out += ["      %s:" % name, "        type: uri_folder",
                            "        path: azureml://jobs/%s/outputs/out" % src]
                else:
                    out.append("      %s: ${{parent.jobs.%s.outputs.out}}" % (name, src))
            out += ["    outputs:", "      out:", "        type: uri_folder"]
        return out
    raise ValueError(s.kind)


def dsl_block(s):
    f = s.f
    q = '"%s"'
    if s.kind == "workspace":
        return ['workspace "%s" {' % s.name, "  description = " + q % f["description"],
                '  roles { owner = ["owner@example.com"]  reader = ["reader@example.com"] }', "}"]
    if s.kind == "compute":
        if f["slurm"]:
            return ['compute "%s" {' % s.name, "  type = amlcompute  size = \"batch\"",
                    "  min_instances = 0  max_instances = 4", "}"]
        return ['compute "%s" { type = local  max_concurrent = 2 }' % s.name]
    if s.kind == "environment":
        return ['environment "%s" { version = 1  python = "/usr/bin/python3" }' % s.name]
    if s.kind == "experiment":
        return ['experiment "%s" {' % s.name, '  description = "benchmark experiment"',
                '  tags { team = "bench" }', "}"]
    if s.kind == "model":
        return ['model "%s" {' % s.name, "  path = job.%s.outputs.out" % f["job"],
                "  type = custom_model", '  framework = "scikit-learn"',
                '  register_when = "metrics.accuracy >= 0.5"', "}"]
    if s.kind == "job":
        extra = ["lr"] if f["lr"] else []
        out = ['job "%s" {' % s.name, "  type = command"]
        if f["experiment"]:
            out.append('  experiment_name = "%s"' % f["experiment"])
        out += ["  compute = compute." + f["compute"], "  environment = environment." + f["env"],
                '  code = "./src"', "  command = " + q % command(f["inputs"], True, extra)]
        if f["inputs"] or extra:
            out.append("  inputs {")
            for name, job in f["inputs"].items():
                out.append("    %s { type = uri_folder  path = job.%s.outputs.out }" % (name, job))
            if extra:
                out.append("    lr = 0.01")
            out.append("  }")
        out += ["  outputs { out { type = uri_folder } }", "}"]
        return out
    if s.kind == "pipeline":
        out = ['job "%s" {' % s.name, "  type = pipeline", '  description = "fan-in pipeline"']
        if f["refs"]:
            out += ['  experiment_name = "%s"' % f["experiment"],
                    "  settings { default_compute = compute.%s }" % f["compute"]]
        out += ["  outputs { out { type = uri_folder } }", "  jobs {"]
        readers = [step for step, _ in f["steps"] if step != "merge"]
        for step, job in f["steps"]:
            inputs = {"data": job} if job else {r: r for r in readers}
            out += ["    %s {" % step, "      type = command", '      code = "./src"',
                    "      compute = compute." + f["compute"],
                    "      environment = environment." + f["env"],
                    "      command = " + q % command(inputs, True), "      inputs {"]
            for name, src in inputs.items():
                if job:
                    out.append("        %s { type = uri_folder  path = job.%s.outputs.out }"
                               % (name, src))
                else:
                    out.append('        %s = "${parent.jobs.%s.outputs.out}"' % (name, src))
            out += ["      }", "      outputs { out { type = uri_folder } }", "    }"]
        out += ["  }", "}"]
        return out
    raise ValueError(s.kind)


TRAIN_PY = '''"""Benchmark job: copies nothing, writes a marker into its output folder."""
import argparse
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
args, _ = parser.parse_known_args()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "done"), "w") as f:
    f.write(" ".join(sys.argv[1:]))
'''


def prepare(outdir):
    if os.path.isdir(outdir) and os.listdir(outdir):
        if not os.path.exists(os.path.join(outdir, MARKER)):
            sys.exit("gen_specs: %s is not empty and was not written by gen_specs.py; "
                     "refusing to overwrite it" % outdir)
        shutil.rmtree(outdir)
    os.makedirs(os.path.join(outdir, "src"))
    with open(os.path.join(outdir, MARKER), "w") as f:
        f.write("written by bench/gen_specs.py; deleted and rewritten on the next run\n")
    with open(os.path.join(outdir, "src", "train.py"), "w") as f:
        f.write(TRAIN_PY)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="resources in total (as amlc counts them)")
    parser.add_argument("outdir")
    parser.add_argument("--files", type=int, default=0,
                        help="spec files (half YAML, half DSL); default max(4, N/%d)" % PER_FILE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chain", type=int, default=CHAIN_LEN, help="jobs per chain")
    parser.add_argument("--fan-out", type=int, default=FAN_OUT, help="readers per hub job")
    parser.add_argument("--fan-in", type=int, default=FAN_IN, help="data inputs per fan-in job")
    parser.add_argument("--pipe-steps", type=int, default=PIPE_STEPS,
                        help="reading steps per pipeline (its merge step reads them all)")
    parser.add_argument("--no-pipeline-refs", dest="pipeline_refs", action="store_false",
                        help="leave out the pipelines' own experiment_name and "
                             "settings.default_compute (amlc before commit c4f35d1 aborts on them)")
    args = parser.parse_args()
    if min(args.chain, args.fan_out, args.fan_in, args.pipe_steps) < 1:
        parser.error("--chain, --fan-out, --fan-in and --pipe-steps must be at least 1")

    gen = Generator(args.n, args.seed, args.chain, args.fan_out, args.fan_in, args.pipe_steps,
                    args.pipeline_refs)
    gen.build()
    files = args.files or max(4, -(-args.n // PER_FILE))
    files = max(2, files)
    buckets = [[] for _ in range(files)]
    # The workspace in the first (YAML) file; the rest round-robin, so jobs
    # refer to computes, environments and each other across files and formats.
    buckets[0].append(gen.fixed[0])
    for i, spec in enumerate(gen.fixed[1:]):
        buckets[(i + 1) % files].append(spec)
    # Each kind of motif goes round the files on its own, so every file (YAML
    # and DSL alike) gets chains, fan-outs, fan-ins and pipelines, and
    # successive chains land in different files.
    turn = {"root": 0, "chain": 0, "fanout": 1, "fanin": 2, "pipeline": 3}
    for kind, motif in gen.motifs:
        buckets[turn[kind] % files].extend(motif)
        turn[kind] += 1

    prepare(args.outdir)
    repo_specs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "specs")
    schema_dir = os.path.relpath(repo_specs, os.path.abspath(args.outdir)).replace(os.sep, "/")
    total_bytes = 0
    counts = {}
    width = len(str(files - 1))
    for i, bucket in enumerate(buckets):
        dsl = i % 2 == 1
        name = "specs-%0*d.%s" % (width, i, "aml" if dsl else "yaml")
        if dsl:
            text = "# generated by bench/gen_specs.py\n\n" + "\n\n".join(
                "\n".join(dsl_block(s)) for s in bucket) + "\n"
        else:
            text = "# generated by bench/gen_specs.py\n" + "".join(
                "---\n" + "\n".join(yaml_doc(s, schema_dir)) + "\n" for s in bucket)
        with open(os.path.join(args.outdir, name), "w") as f:
            f.write(text)
        total_bytes += len(text.encode())
        for s in bucket:
            counts[s.kind] = counts.get(s.kind, 0) + 1
            if s.kind == "pipeline":
                counts["step"] = counts.get("step", 0) + len(s.f["steps"])
    yaml_files = (files + 1) // 2
    detail = ", ".join("%d %s" % (counts[k], k) for k in sorted(counts))
    print("%s: %d resources in %d files (%d yaml, %d aml), %d bytes: %s"
          % (args.outdir, gen.used, files, yaml_files, files - yaml_files, total_bytes, detail))


if __name__ == "__main__":
    main()
