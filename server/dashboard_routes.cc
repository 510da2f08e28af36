// Serves the dashboard's built files from memory. index.html is never cached
// (it names the current bundle); the bundle's files have a content hash in
// their names (Vite's [name]-[hash].js), so browsers may keep them for a year.

#include "server/dashboard_routes.h"

#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/http_listener.h"

namespace amlc::server {

namespace {

namespace fs = std::filesystem;

bool HasIndex(const fs::path& dir) {
  std::error_code error;
  return fs::is_regular_file(dir / "index.html", error);
}

std::string ContentTypeOf(const fs::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".ico", "image/x-icon"},
      {".json", "application/json"},         {".map", "application/json"},
      {".woff2", "font/woff2"}};
  auto found = kTypes.find(file.extension().string());
  return found == kTypes.end() ? "application/octet-stream" : found->second;
}

std::string ReadWhole(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void SetSecurityHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

}  // namespace

std::string DashboardDir() {
  if (const char* dir = std::getenv("AMLC_DASHBOARD_DIR"); dir && *dir) return HasIndex(dir) ? dir : "";
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return "";
  for (const fs::path& dir : {self.parent_path() / "dashboard", self.parent_path().parent_path() / "share/amlc/dashboard"}) {
    if (HasIndex(dir)) return dir.string();
  }
  return "";
}

std::map<std::string, DashboardFile> LoadDashboard(const std::string& dir) {
  std::map<std::string, DashboardFile> files;
  if (dir.empty()) return files;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    std::string url = "/" + fs::relative(it->path(), dir, error).generic_string();
    if (url == "/index.html") url = "/";
    files[url] = {ReadWhole(it->path()), ContentTypeOf(it->path())};
  }
  return files;
}

void RegisterDashboard(httplib::Server& server, std::map<std::string, DashboardFile> files) {
  auto shared = std::make_shared<const std::map<std::string, DashboardFile>>(std::move(files));
  auto handler = [shared](const httplib::Request& req, httplib::Response& res) {
    SetSecurityHeaders(res);
    auto found = shared->find(req.path);
    if (found == shared->end()) {
      res.status = 404;
      std::string message = shared->empty() ? "this amlc server has no dashboard: it was built without web/node_modules "
                                              "(run scripts/install-deps.sh, which runs npm ci in web/, then rebuild); "
                                              "the API is at /api/v1 (see /api/v1/openapi.json)"
                                            : "no dashboard file " + req.path;
      res.set_content(message + "\n", "text/plain; charset=utf-8");
      return;
    }
    bool hashed = req.path.rfind("/assets/", 0) == 0;
    res.set_header("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
    SetBody(req, res, found->second.body, found->second.content_type);
  };
  server.Get("/", handler);
  server.Get(R"(/assets/[A-Za-z0-9._-]+)", handler);
}

}  // namespace amlc::server
