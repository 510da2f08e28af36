// A run's outputs and logs as `amlc runs download` writes them: the list of
// files (and where each goes under the download folder), and each file's
// bytes. Only the files the list names are served, so a path can never
// reach beyond the run's outputs and logs.

#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include "runtime/views/run_files.h"
#include "server/api_route.h"

namespace amlc::server {

namespace {

using nlohmann::json;
using runtime::WorkspaceRole;

constexpr size_t kFileChunkBytes = 1 << 16;

// The files of the run the path names (only output ?output= when given), or
// nullopt once a 404 is answered.
std::optional<std::vector<runtime::RunFile>> PathRunFiles(Call& call, const std::string& output) {
  call.target = call.path_params[0];
  auto files = runtime::RunDownloadFiles(call.workspace, call.target, output);
  if (!files.ok()) {
    Fail(call, files.status());
    return std::nullopt;
  }
  return std::move(files.value());
}

// GET /api/v1/runs/{id}/files[?output=NAME]: [{"path", "size"}].
void ListRunFiles(Call& call) {
  auto files = PathRunFiles(call, call.Query("output"));
  if (!files) return;
  json out = json::array();
  std::error_code error;
  for (const runtime::RunFile& file : *files) {
    out.push_back({{"path", file.path}, {"size", std::filesystem::file_size(file.stored, error)}});
  }
  call.Json(200, out);
}

// GET /api/v1/runs/{id}/files/{path+}: one file's bytes, streamed.
void GetRunFile(Call& call) {
  auto files = PathRunFiles(call, "");
  if (!files) return;
  const std::string& path = call.path_params[1];
  for (const runtime::RunFile& file : *files) {
    if (file.path != path) continue;
    std::error_code error;
    uintmax_t size = std::filesystem::file_size(file.stored, error);
    auto in = std::make_shared<std::ifstream>(file.stored, std::ios::binary);
    if (error || !*in) return call.Message(500, "cannot read " + path + " of run " + call.target);
    call.response.status = 200;
    call.response.set_content_provider(
        size, "application/octet-stream", [in](size_t offset, size_t length, httplib::DataSink& sink) {
          std::string chunk(std::min(length, kFileChunkBytes), '\0');
          in->seekg(static_cast<std::streamoff>(offset));
          in->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
          return in->gcount() > 0 && sink.write(chunk.data(), static_cast<size_t>(in->gcount()));
        });
    return;
  }
  call.Message(404, "run " + call.target + " has no file " + path + " (GET /api/v1/runs/" + call.target + "/files)");
}

}  // namespace

std::vector<ApiRoute> RunFileRoutes() {
  return {
      {"GET", "/api/v1/runs/{id}/files", WorkspaceRole::kReader, "listing a run's files", ListRunFiles},
      {"GET", "/api/v1/runs/{id}/files/{path+}", WorkspaceRole::kReader, "downloading a run's file", GetRunFile},
  };
}

}  // namespace amlc::server
