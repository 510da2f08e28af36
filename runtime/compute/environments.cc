#include "runtime/compute/environments.h"

#include <filesystem>
#include <fstream>

#include "base/process.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

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

StatusOr<std::string> PrepareVenv(const std::string& home, const std::string& digest,
                                  const std::vector<std::string>& requirements) {
  std::string venv = home + "/envs/" + digest;
  std::string python = venv + "/bin/python";
  if (fs::exists(venv + "/.ready")) return python;  // made before for this digest
  std::error_code error;
  fs::remove_all(venv, error);
  fs::create_directories(fs::path(venv).parent_path(), error);
  int code = 0;
  auto made = RunCapture({"/usr/bin/python3", "-m", "venv", "--system-site-packages", "--without-pip", venv}, code);
  if (!made.ok() || code != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot make a virtual environment: " + (made.ok() ? made.value() : made.status().message()));
  }
  std::vector<std::string> check = {python, "-c", kCheckScript};
  check.insert(check.end(), requirements.begin(), requirements.end());
  auto checked = RunCapture(check, code);
  if (!checked.ok() || code != 0) {
    fs::remove_all(venv, error);
    return Status(StatusCode::kFailedPrecondition,
                  "requirements not met, and this machine cannot download packages (install them as "
                  "Debian packages, e.g. python3-NAME):\n" + (checked.ok() ? checked.value() : checked.status().message()));
  }
  std::ofstream(venv + "/.ready") << digest << "\n";
  return python;
}

}  // namespace amlc::runtime
