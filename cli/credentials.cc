#include "cli/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace amlc::cli {

namespace {

using nlohmann::json;

std::string OctalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The file's servers object; an empty one when there is no file yet.
StatusOr<json> ReadServers() {
  std::string path = CredentialsPath();
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return json::object();
    return Status(StatusCode::kFailedPrecondition, "cannot read " + path + ": " + std::strerror(errno));
  }
  if ((info.st_mode & 077) != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "the credentials file " + path + " may be read by group or others (mode " +
                      OctalMode(info.st_mode) + "); its tokens are passwords. Run: chmod 600 " + path);
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  json file = json::parse(text.str(), nullptr, false);
  if (!file.is_object() || !file.value("servers", json()).is_object()) {
    return Status(StatusCode::kInvalidArgument,
                  path + " is not an amlc credentials file (remove it and run amlc login again)");
  }
  return file["servers"];
}

Status WriteServers(const json& servers) {
  std::filesystem::path path = CredentialsPath();
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  ::chmod(path.parent_path().c_str(), 0700);
  std::string temporary = path.string() + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status(StatusCode::kFailedPrecondition, "cannot write " + temporary + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);  // an older file of that name may have had a wider mode
  std::string text = json{{"servers", servers}}.dump(2) + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  written = ::fsync(fd) == 0 && written;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return Status(StatusCode::kFailedPrecondition, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

std::string CredentialsPath() {
  if (const char* file = std::getenv("AMLC_CREDENTIALS_FILE"); file && *file) return file;
  if (const char* config = std::getenv("XDG_CONFIG_HOME"); config && *config) {
    return std::string(config) + "/amlc/credentials";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.config/amlc/credentials";
}

StatusOr<std::optional<std::string>> SavedToken(const std::string& server_url) {
  StatusOr<json> servers = ReadServers();
  if (!servers.ok()) return servers.status();
  auto entry = servers->find(server_url);
  if (entry == servers->end() || !entry->is_object() || !(*entry)["token"].is_string()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>((*entry)["token"].get<std::string>());
}

Status SaveToken(const std::string& server_url, const std::string& token) {
  StatusOr<json> servers = ReadServers();
  if (!servers.ok()) return servers.status();
  (*servers)[server_url] = {{"token", token}};
  return WriteServers(*servers);
}

StatusOr<bool> ForgetToken(const std::string& server_url) {
  StatusOr<json> servers = ReadServers();
  if (!servers.ok()) return servers.status();
  size_t forgotten = server_url.empty() ? servers->size() : servers->erase(server_url);
  if (server_url.empty()) *servers = json::object();
  if (forgotten == 0) return false;
  Status written = WriteServers(*servers);
  if (!written.ok()) return written;
  return true;
}

}  // namespace amlc::cli
