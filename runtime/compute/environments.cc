#include "runtime/compute/environments.h"

#include <fstream>

#include "base/process.h"
#include "runtime/compute/run_folder.h"

namespace amlc::runtime {

namespace {

// The check run inside the venv: each requirement's installed version must
// satisfy its specifier (PEP 440 comparisons for ==, >=, <=, >, <, !=, ~=).
constexpr char kCheckScript[] = R"PY(
import importlib.metadata as metadata, re, sys
def key(v):
    return [int(p) if p.isdigit() else p for p in re.split(r'[.+-]', v)]
def ok(have, op, want):
    h, w = key(have), key(want)
    if op == '==': return h[:len(w)] == w if want.endswith('*') is False else True
    if op == '!=': return h != w
    if op == '>=': return h >= w
    if op == '<=': return h <= w
    if op == '>': return h > w
    if op == '<': return h < w
    if op == '~=': return h >= w and h[:len(w) - 1] == w[:-1]
    return True
missing = []
for line in sys.argv[1:]:
    m = re.match(r'^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$', line)
    name, spec = m.group(1), m.group(3).split(';')[0].strip()
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        missing.append(f'{line.strip()}: not installed'); continue
    for part in filter(None, (s.strip() for s in spec.split(','))):
        op = re.match(r'(==|!=|>=|<=|~=|>|<)', part)
        if op and not ok(have, op.group(1), part[len(op.group(1)):].strip()):
            missing.append(f'{line.strip()}: {have} is installed')
if missing:
    print('\n'.join(missing)); sys.exit(1)
)PY";

}  // namespace

StatusOr<std::vector<std::string>> ReadRequirements(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(StatusCode::kNotFound, "cannot read requirements file '" + path + "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() && line[0] != '-') lines.push_back(line);
  }
  return lines;
}

Status CheckImports(const std::string& python, const std::vector<std::string>& modules) {
  if (modules.empty()) return Status::Ok();
  std::vector<std::string> argv = {python, "-c",
                                   "import importlib.util, sys\n"
                                   "missing = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]\n"
                                   "print(' '.join(missing)); sys.exit(1 if missing else 0)\n"};
  argv.insert(argv.end(), modules.begin(), modules.end());
  int code = 0;
  auto checked = RunCapture(argv, code);
  if (!checked.ok()) return Status(StatusCode::kFailedPrecondition, python + ": " + checked.status().message());
  if (code == 0) return Status::Ok();
  std::string missing = checked.value();
  while (!missing.empty() && (missing.back() == '\n' || missing.back() == ' ')) missing.pop_back();
  return Status(StatusCode::kFailedPrecondition, python + " cannot import " + missing);
}

std::string VenvScript(const std::string& venv, const std::string& base_python,
                       const std::vector<std::string>& requirements) {
  std::string check = ShellQuote(venv + "/bin/python") + " -c " + ShellQuote(kCheckScript);
  for (const std::string& line : requirements) check += " " + ShellQuote(line);
  std::string dir = ShellQuote(venv);
  // The lock: two runs of one environment (sweep trials) make its venv once.
  return "mkdir -p \"$(dirname " + dir + ")\" || exit 2\n"
         "exec 9>" + ShellQuote(venv + ".lock") + "\n"
         "flock 9 2>/dev/null || true\n"
         "if [ -f " + dir + "/.ready ]; then exit 0; fi\n"
         "rm -rf " + dir + "\n" +
         base_python + " -m venv --system-site-packages --without-pip " + dir + " 2>&1 || exit 2\n" +
         "if ! " + check + "; then rm -rf " + dir + "; exit 1; fi\n"
         "touch " + dir + "/.ready\n";
}

Status VenvFailure(int code, const std::string& output, const std::string& where) {
  std::string text = output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (code == 2) return Status(StatusCode::kFailedPrecondition, "cannot make a virtual environment" + where + ": " + text);
  return Status(StatusCode::kFailedPrecondition,
                "requirements not met" + where + ", and amlc downloads no packages (install them as Debian "
                "packages, e.g. python3-NAME):\n" + text);
}

StatusOr<std::string> PrepareVenv(const std::string& home, const std::string& digest,
                                  const std::vector<std::string>& requirements) {
  std::string venv = home + "/envs/" + digest;
  int code = 0;
  auto made = RunCapture({"/bin/sh", "-c", VenvScript(venv, "/usr/bin/python3", requirements)}, code);
  if (!made.ok()) return Status(StatusCode::kFailedPrecondition, "cannot make a virtual environment: " + made.status().message());
  if (code != 0) return VenvFailure(code, made.value(), "");
  return venv + "/bin/python";
}

}  // namespace amlc::runtime
