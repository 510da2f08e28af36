// Implementation notes: model files live in the snapshot store, the same
// content-addressed store as code snapshots, so a version's content digest
// is its tree digest and two versions with the same files share the blobs. A
// single file is registered as a one-file tree: it is linked (or copied) into
// a staging folder in the workspace and snapshotted from there.
#include "runtime/artifacts/registry/model_registry.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>

namespace amlc::runtime {

namespace fs = std::filesystem;

std::string VersionRef::ToString() const {
  return version ? name + ":" + std::to_string(version) : name + "@latest";
}

StatusOr<VersionRef> ParseVersionRef(std::string_view text, std::string_view what) {
  std::string_view rest = text;
  if (rest.rfind("azureml:", 0) == 0) rest.remove_prefix(8);
  VersionRef ref;
  auto invalid = [&] {
    return Status(StatusCode::kInvalidArgument, "cannot read " + std::string(what) + " '" + std::string(text) +
                                                    "'; write NAME, NAME:VERSION or NAME@latest");
  };
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    if (rest.substr(at + 1) != "latest") return invalid();
    rest = rest.substr(0, at);
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    std::string_view digits = rest.substr(colon + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), ref.version);
    if (error != std::errc() || end != digits.data() + digits.size() || ref.version <= 0) return invalid();
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || rest.find_first_of(":/ ") != std::string_view::npos) return invalid();
  ref.name = std::string(rest);
  return ref;
}

StatusOr<ModelVersionRecord> ResolveModel(StateStore& state, const VersionRef& ref) {
  auto found = ref.version ? state.GetModelVersion(ref.name, ref.version) : state.LatestModelVersion(ref.name);
  if (!found.ok()) return found.status();
  if (found.value()) return *found.value();
  ModelQuery query;
  query.name = ref.name;
  auto versions = state.ListModelVersions(query);
  std::string known;
  if (versions.ok()) {
    for (const ModelVersionRecord& v : versions.value()) known += (known.empty() ? "" : ", ") + std::to_string(v.version);
  }
  return Status(StatusCode::kNotFound,
                "no model " + ref.ToString() +
                    (known.empty() ? " in the registry (register it first: amlc models register --name " + ref.name +
                                         " --path PATH)"
                                   : "; its versions are " + known));
}

namespace {

// A staging folder holding only `file`, so a single file is snapshotted as a
// one-file tree. Removed when the object goes.
class StagedFile {
 public:
  StagedFile(const std::string& home, const std::string& file) {
    static int counter = 0;
    folder_ = home + "/tmp/register-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    std::error_code error;
    fs::remove_all(folder_, error);
    fs::create_directories(folder_, error);
    std::string target = folder_ + "/" + fs::path(file).filename().string();
    fs::create_hard_link(file, target, error);
    if (error) {
      error.clear();
      fs::copy_file(file, target, error);
    }
    status_ = error ? Status(StatusCode::kUnavailable, "cannot stage '" + file + "': " + error.message())
                    : Status::Ok();
  }
  ~StagedFile() {
    std::error_code error;
    fs::remove_all(folder_, error);
  }
  const std::string& folder() const { return folder_; }
  const Status& status() const { return status_; }

 private:
  std::string folder_;
  Status status_;
};

StatusOr<Snapshot> TakeModelFiles(Workspace& workspace, const std::string& path, bool single_file) {
  if (!single_file) return workspace.snapshots().Take(path);
  StagedFile staged(workspace.home(), path);
  if (!staged.status().ok()) return staged.status();
  return workspace.snapshots().Take(staged.folder());
}

}  // namespace

StatusOr<ModelVersionRecord> RegisterModel(Workspace& workspace, ModelVersionRecord model, const std::string& path) {
  std::error_code error;
  fs::file_status status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) {
    return Status(StatusCode::kNotFound, "model path '" + path + "' does not exist");
  }
  if (!fs::is_regular_file(status) && !fs::is_directory(status)) {
    return Status(StatusCode::kInvalidArgument, "model path '" + path + "' is neither a file nor a folder");
  }
  model.single_file = fs::is_regular_file(status);
  model.path_name = fs::path(path).lexically_normal().filename().string();
  if (model.path_name.empty() || model.path_name == ".") model.path_name = fs::absolute(path).filename().string();
  StatusOr<Snapshot> snapshot = TakeModelFiles(workspace, path, model.single_file);
  if (!snapshot.ok()) return snapshot.status();
  if (snapshot->files.empty()) {
    return Status(StatusCode::kInvalidArgument, "model folder '" + path + "' holds no files");
  }
  model.content_digest = snapshot->tree_digest;
  model.size_bytes = snapshot->total_bytes;
  return workspace.state().RegisterModelVersion(model);
}

Status DownloadModel(Workspace& workspace, const ModelVersionRecord& model, const std::string& destination) {
  return workspace.snapshots().Materialize(model.content_digest, destination);
}

}  // namespace amlc::runtime
