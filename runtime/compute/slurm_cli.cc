// Why scontrol and not squeue for the state: squeue drops a job the moment it
// leaves the queue, scontrol keeps it (with its exit code and reason) for
// MinJobAge seconds; sacct then covers clusters with accounting (slurmdbd):
// once scontrol says "Invalid job id", sacct -X gives the allocation's
// State, ExitCode, NodeList and Reason. Without accounting sacct fails and
// the job is unknown. tests/runtime/slurm_target_test.cc runs this path
// against a real slurmdbd with MinJobAge lowered to 2 s. Errors are
// told apart by scontrol's own words: "Invalid job id" means the controller
// answered and does not know the job; anything else (a restarting
// slurmctld, a timeout) means ask again.
#include "runtime/compute/slurm_cli.h"

#include <algorithm>
#include <sstream>

#include "base/process.h"

namespace amlc::runtime::slurm {

namespace {

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!Trim(line).empty()) lines.push_back(Trim(line));
  }
  return lines;
}

void ReadExitCode(const std::string& text, JobState& job) {
  size_t colon = text.find(':');
  try {
    job.exit_code = std::stoi(text.substr(0, colon));
    if (colon != std::string::npos) job.signal = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
    // an unreadable exit code stays 0; the state still tells how it ended
  }
}

// sacct -P: State|ExitCode|NodeList|Reason of the job's allocation (-X).
std::optional<JobState> FromAccounting(const std::string& job_id) {
  int code = 0;
  auto out = RunCapture({"sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State,ExitCode,NodeList,Reason"}, code);
  if (!out.ok() || code != 0) return std::nullopt;
  for (const std::string& line : Lines(out.value())) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string field; std::getline(in, field, '|');) fields.push_back(field);
    if (fields.size() < 3) continue;
    JobState job;
    job.state = fields[0].substr(0, fields[0].find(' '));  // "CANCELLED by 0"
    ReadExitCode(fields[1], job);
    job.nodes = fields[2] == "None assigned" ? "" : fields[2];
    if (fields.size() > 3 && fields[3] != "None") job.reason = fields[3];
    // sacct's Reason is the job's last pending reason ("None" once it ran);
    // scontrol names a non-zero exit this way, so the run reads the same.
    if (job.reason.empty() && job.state == "FAILED" && job.exit_code != 0) job.reason = "NonZeroExitCode";
    return job;
  }
  return std::nullopt;
}

std::vector<std::string> SinfoColumn(const char* format) {
  int code = 0;
  auto out = RunCapture({"sinfo", "-h", "-o", format}, code);
  std::vector<std::string> values;
  if (!out.ok() || code != 0) return values;
  for (std::string line : Lines(out.value())) {
    if (!line.empty() && line.back() == '*') line.pop_back();  // the default partition
    std::istringstream in(line);
    for (std::string value; std::getline(in, value, ',');) {
      if (!value.empty() && value != "(null)" && std::find(values.begin(), values.end(), value) == values.end()) {
        values.push_back(value);
      }
    }
  }
  return values;
}

}  // namespace

JobState ParseScontrolLine(const std::string& line) {
  JobState job;
  std::istringstream in(line);
  for (std::string word; in >> word;) {
    size_t equals = word.find('=');
    if (equals == std::string::npos) continue;
    std::string key = word.substr(0, equals), value = word.substr(equals + 1);
    if (key == "JobState") job.state = value;
    else if (key == "Reason") job.reason = value == "None" ? "" : value;
    else if (key == "ExitCode") ReadExitCode(value, job);
    else if (key == "NodeList") job.nodes = value == "(null)" ? "" : value;
  }
  return job;
}

StatusOr<std::string> Submit(const std::vector<std::string>& options, const std::string& script) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(script);
  int code = 0;
  auto out = RunCapture(argv, code);
  if (!out.ok()) {
    return Status(StatusCode::kUnavailable, "cannot run sbatch (is Slurm's client installed?): " + out.status().message());
  }
  // --parsable prints "ID" or "ID;CLUSTER"; warnings may come before it.
  std::vector<std::string> lines = Lines(out.value());
  if (code == 0 && !lines.empty()) {
    std::string id = lines.back().substr(0, lines.back().find(';'));
    if (!id.empty() && std::all_of(id.begin(), id.end(), ::isdigit)) return id;
  }
  return Status(StatusCode::kUnavailable, "sbatch refused the job: " + Trim(out.value()));
}

Query QueryJob(const std::string& job_id) {
  Query query;
  int code = 0;
  auto out = RunCapture({"scontrol", "show", "job", "-o", job_id}, code);
  if (!out.ok()) {
    query.error = out.status().message();
    return query;
  }
  if (code == 0) {
    query.answer = Answer::kKnown;
    query.job = ParseScontrolLine(out.value());
    if (!query.job.state.empty()) return query;
  }
  query.error = Trim(out.value());
  if (query.error.find("Invalid job id") == std::string::npos) {
    query.answer = Answer::kUnreachable;
    return query;
  }
  if (std::optional<JobState> accounted = FromAccounting(job_id)) {
    query.answer = Answer::kKnown;
    query.job = *accounted;
    return query;
  }
  query.answer = Answer::kUnknownJob;
  return query;
}

Status Cancel(const std::string& job_id) {
  int code = 0;
  auto out = RunCapture({"scancel", job_id}, code);
  if (!out.ok()) return Status(StatusCode::kUnavailable, "cannot run scancel: " + out.status().message());
  if (code != 0) return Status(StatusCode::kUnavailable, "scancel " + job_id + ": " + Trim(out.value()));
  return Status::Ok();
}

std::optional<std::string> FindJobByName(const std::string& name) {
  int code = 0;
  auto out = RunCapture({"squeue", "-h", "-n", name, "-o", "%i"}, code);
  if (!out.ok() || code != 0) return std::nullopt;
  std::vector<std::string> lines = Lines(out.value());
  if (lines.empty()) return std::nullopt;
  return lines.front();
}

std::vector<std::string> Partitions() { return SinfoColumn("%R"); }
std::vector<std::string> NodeFeatures() { return SinfoColumn("%f"); }

bool IsFinal(const std::string& state) {
  static const char* const kLive[] = {"PENDING",   "RUNNING",  "CONFIGURING", "COMPLETING", "SUSPENDED",
                                      "REQUEUED",  "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SIGNALING",
                                      "STAGE_OUT", "STOPPED",  "RESV_DEL_HOLD", "SPECIAL_EXIT"};
  return std::none_of(std::begin(kLive), std::end(kLive), [&](const char* live) { return state == live; });
}

}  // namespace amlc::runtime::slurm
