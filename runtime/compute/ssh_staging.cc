#include "runtime/compute/ssh_staging.h"

#include <sys/wait.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/process.h"
#include "runtime/compute/run_folder.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

std::string Export(const std::string& name, const std::string& value) {
  return "export " + name + "=" + ShellQuote(value) + "\n";
}

Status WriteFile(const std::string& path, const std::string& text, bool executable = false) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status(StatusCode::kInternal, "cannot write " + path);
  std::error_code error;
  if (executable) fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, error);
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> MissingBlobs(SshClient& ssh, const std::vector<std::string>& digests,
                                   std::vector<std::string>& missing, const std::string& scratch_dir) {
  std::string list = scratch_dir + "/digests";
  std::string text;
  for (const std::string& digest : digests) text += digest + "\n";
  if (Status written = WriteFile(list, text); !written.ok()) return written;
  std::string root = ssh.endpoint().remote_root.empty() ? ".amlc-remote" : ssh.endpoint().remote_root;
  std::string script = "set -e; mkdir -p " + ShellQuote(root) + "/blobs; cd " + ShellQuote(root) +
                       "; pwd -P; while read -r d; do [ -f \"blobs/$d\" ] || echo \"$d\"; done";
  auto result = ssh.Exec(script, list);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return Status(StatusCode::kFailedPrecondition, "cannot make the folder " + root + " on " +
                                                       ssh.endpoint().Display() + ": " + result->err);
  }
  std::istringstream lines(result->out);
  std::string absolute, line;
  std::getline(lines, absolute);
  while (std::getline(lines, line)) {
    if (!line.empty()) missing.push_back(line);
  }
  if (absolute.empty() || absolute[0] != '/') {
    return Status(StatusCode::kFailedPrecondition, "the host " + ssh.endpoint().Display() +
                                                       " did not say where " + root + " is");
  }
  return absolute;
}

std::string RunScript(const RunRequest& request, const std::string& remote_run, const std::string& run_id,
                      const std::string& experiment) {
  std::string script = "#!/bin/sh\n";
  // `python` means the environment's interpreter (an absolute path on the
  // host), else the host's python3, found before .amlc-bin (whose wrappers
  // run $AMLC_PYTHON) is put first on PATH.
  script += request.python.empty() ? "export AMLC_PYTHON=\"$(command -v python3 || echo /usr/bin/python3)\"\n"
                                   : Export("AMLC_PYTHON", request.python);
  script += "export PATH=\"" + remote_run + "/work/.amlc-bin:$PATH\"\n";
  script += "export PYTHONPATH=\"" + remote_run + "/python${PYTHONPATH:+:$PYTHONPATH}\"\n";
  script += Export("AMLC_RUN_ID", run_id);
  script += Export("AMLC_EXPERIMENT", experiment);
  script += Export("AMLC_TRACKING_FILE", remote_run + "/tracking.jsonl");
  script += Export("AMLC_OUTPUTS_DIR", remote_run + "/work/outputs");
  for (const auto& [name, value] : request.env) script += Export(name, value);
  script += "cd " + ShellQuote(remote_run + "/work") + " || exit 1\n";
  script += "( " + request.command + "\n)\ncode=$?\n";
  script += "echo $code > " + ShellQuote(remote_run + "/exit_code.tmp") + " && mv " +
            ShellQuote(remote_run + "/exit_code.tmp") + " " + ShellQuote(remote_run + "/exit_code") + "\n";
  script += "exit $code\n";
  return script;
}

StatusOr<StagedInputs> StageInputs(SnapshotStore& store, const std::vector<RunInput>& inputs,
                                   const std::string& remote_run) {
  StagedInputs staged;
  for (const RunInput& input : inputs) {
    std::string dest = "inputs/" + input.name;
    std::error_code error;
    if (fs::is_directory(input.path, error)) {
      auto folder = store.Scan(input.path);
      if (!folder.ok()) return Status(folder.status().code(), "input '" + input.name + "': " + folder.status().message());
      for (const SnapshotFile& f : folder->files) {
        staged.files.push_back({f.digest, f.executable, dest + "/" + f.path, input.path + "/" + f.path});
      }
      staged.folders.push_back(dest);
      staged.paths.push_back({input.path, remote_run + "/" + dest});
      continue;
    }
    auto digest = DigestFile(input.path);
    if (!digest.ok()) {
      return Status(StatusCode::kNotFound, "input '" + input.name + "': cannot read " + input.path + " to send it: " +
                                               digest.status().message());
    }
    std::string file = dest + "/" + fs::path(input.path).filename().string();
    bool executable = (fs::status(input.path, error).permissions() & fs::perms::owner_exec) != fs::perms::none;
    staged.files.push_back({digest.value(), executable, file, input.path});
    staged.paths.push_back({input.path, remote_run + "/" + file});
  }
  return staged;
}

std::string RewritePaths(std::string command, const std::vector<std::pair<std::string, std::string>>& paths) {
  auto part_of_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; };
  for (const auto& [local, there] : paths) {
    for (size_t at = 0; (at = command.find(local, at)) != std::string::npos;) {
      size_t end = at + local.size();
      if (end < command.size() && part_of_name(command[end])) {  // /data/a is not /data/ab
        at = end;
        continue;
      }
      command.replace(at, local.size(), there);
      at += there.size();
    }
  }
  return command;
}

Status WriteStagingTar(const SnapshotStore& store, const std::vector<std::string>& missing,
                       const std::vector<StagedFile>& files, const std::vector<std::string>& extra_folders,
                       const RunRequest& request, const std::string& run_script, const std::string& scratch_dir,
                       const std::string& tar_path) {
  std::string stage = scratch_dir + "/stage";
  std::error_code error;
  fs::remove_all(stage, error);
  fs::create_directories(stage + "/blobs", error);
  std::map<std::string, std::string> sources;  // an input's blob comes from its own file
  for (const StagedFile& file : files) {
    if (!file.source.empty()) sources[file.digest] = file.source;
  }
  for (const std::string& digest : missing) {
    auto source = sources.find(digest);
    fs::create_symlink(source == sources.end() ? store.BlobPath(digest) : source->second, stage + "/blobs/" + digest,
                       error);
    if (error) return Status(StatusCode::kInternal, "cannot stage blob " + digest + ": " + error.message());
  }
  std::string manifest;
  for (const StagedFile& file : files) manifest += file.digest + (file.executable ? " x " : " - ") + file.dest + "\n";
  std::string folders = "mkdir -p work/outputs work/logs work/.amlc-bin python\n";
  for (const std::string& name : request.output_names) folders += "mkdir -p " + ShellQuote("work/outputs/" + name) + "\n";
  for (const std::string& folder : extra_folders) folders += "mkdir -p " + ShellQuote(folder) + "\n";
  std::string start =
      "set -e\n"
      "while IFS=' ' read -r digest mode dest; do\n"
      "  mkdir -p \"$(dirname \"$dest\")\"\n"
      "  cp \"$AMLC_ROOT/blobs/$digest\" \"$dest\"\n"
      "  if [ \"$mode\" = x ]; then chmod +x \"$dest\"; fi\n"
      "done < in/manifest\n" +
      folders +
      "printf '#!/bin/sh\\nexec \"$AMLC_PYTHON\" \"$@\"\\n' > work/.amlc-bin/python\n"
      "cp work/.amlc-bin/python work/.amlc-bin/python3\n"
      "chmod +x work/.amlc-bin/python work/.amlc-bin/python3\n"
      "mv in/run.sh run.sh\n"
      "rm -rf in\n"
      // setsid: its own session and process group, whose id is the pid printed.
      "setsid sh ./run.sh > output.log 2>&1 < /dev/null &\n"
      "echo $! > pid\n"
      "echo $!\n";
  for (auto [name, text] : {std::pair<std::string, std::string>{"manifest", manifest},
                            {"run.sh", run_script}, {"start.sh", start}}) {
    if (Status written = WriteFile(stage + "/" + name, text); !written.ok()) return written;
  }
  ProcessSpec tar;
  tar.argv = {"tar", "-chf", tar_path, "-C", stage, "."};
  auto process = Spawn(tar);
  if (!process.ok()) return process.status();
  int status = WaitForChild(process->pid());
  fs::remove_all(stage, error);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status(StatusCode::kInternal, "tar could not pack the run's files: " + DescribeWaitStatus(status));
  }
  return Status::Ok();
}

std::string UnpackAndStartScript(const std::string& remote_root, const std::string& remote_run) {
  std::string root = ShellQuote(remote_root);
  std::string run = ShellQuote(remote_run);
  return "set -e; export AMLC_ROOT=" + root + "; rm -rf " + run + "; mkdir -p " + run + "/in; tar -xf - -C " + run +
         "/in; for f in " + run + "/in/blobs/*; do if [ -f \"$f\" ]; then mv -f \"$f\" " + root +
         "/blobs/; fi; done; cd " + run + "; sh in/start.sh";
}

std::string StreamScript(const std::string& remote_run, uint64_t log_offset, uint64_t tracking_offset) {
  return "cd " + ShellQuote(remote_run) +
         " 2>/dev/null || { echo 'E the run folder is gone from the host'; exit 0; }\n"
         "lo=" + std::to_string(log_offset) + "; to=" + std::to_string(tracking_offset) + "; beat=0\n"
         "while :; do\n"
         "  code=''; if [ -f exit_code ]; then code=$(cat exit_code); fi\n"
         "  n=$(stat -c %s output.log 2>/dev/null || echo 0)\n"
         "  if [ \"$n\" -gt \"$lo\" ]; then echo \"L $((n-lo))\"; tail -c +$((lo+1)) output.log | head -c $((n-lo)); "
         "lo=$n; fi\n"
         "  n=$(stat -c %s tracking.jsonl 2>/dev/null || echo 0)\n"
         "  if [ \"$n\" -gt \"$to\" ]; then echo \"T $((n-to))\"; tail -c +$((to+1)) tracking.jsonl | head -c $((n-to)); "
         "to=$n; fi\n"
         "  if [ -n \"$code\" ]; then echo \"X $code\"; exit 0; fi\n"
         "  if ! kill -0 \"$(cat pid 2>/dev/null)\" 2>/dev/null; then\n"
         "    if [ -f exit_code ]; then continue; fi\n"
         "    echo D; exit 0\n"
         "  fi\n"
         "  beat=$((beat+1)); if [ $beat -ge 10 ]; then echo H; beat=0; fi\n"
         "  sleep 0.2\n"
         "done\n";
}

std::string ObserveScript(const std::string& remote_run) {
  std::string run = ShellQuote(remote_run);
  return "if [ -f " + run + "/exit_code ]; then echo finished; elif kill -0 \"$(cat " + run +
         "/pid 2>/dev/null)\" 2>/dev/null; then echo alive; else echo lost; fi";
}

std::string SignalScript(const std::string& remote_run, const std::string& signal) {
  return "p=$(cat " + ShellQuote(remote_run + "/pid") + " 2>/dev/null) && kill -" + signal + " -\"$p\" 2>/dev/null; true";
}

}  // namespace amlc::runtime
