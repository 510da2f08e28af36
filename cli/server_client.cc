#include "cli/server_client.h"

#include <httplib.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/url.h"
#include "cli/credentials.h"
#include "cli/output.h"

namespace amlc::cli {

namespace {

constexpr time_t kConnectTimeoutSeconds = 5;
constexpr time_t kReadTimeoutSeconds = 120;
// A stream (apply's events, a followed log) may stay quiet while a run trains.
constexpr time_t kStreamReadTimeoutSeconds = 24 * 3600;

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// One request; a 2xx body goes to `sink` when there is one, any other body
// is kept in the answer (it carries the server's message).
ServerAnswer Send(const ServerTarget& target, httplib::Request request, const ChunkSink& sink) {
  httplib::Client client(target.url);
  client.set_connection_timeout(kConnectTimeoutSeconds);
  client.set_read_timeout(sink ? kStreamReadTimeoutSeconds : kReadTimeoutSeconds);
  if (target.url.rfind("https://", 0) == 0) {
    client.enable_server_certificate_verification(true);
    if (!target.ca_file.empty()) client.set_ca_cert_path(target.ca_file.c_str());
  }
  request.headers.emplace("Authorization", "Bearer " + target.token);
  ServerAnswer answer;
  if (sink) {
    request.response_handler = [&answer](const httplib::Response& head) {
      answer.status = head.status;
      return true;
    };
    request.content_receiver = [&answer, &sink](const char* data, size_t size, uint64_t, uint64_t) {
      if (answer.ok()) return sink(data, size);
      answer.body.append(data, size);
      return true;
    };
  }
  httplib::Result result = client.send(request);
  if (!result) {
    answer.status = 0;
    answer.error = httplib::to_string(result.error());
    if (result.error() == httplib::Error::SSLServerVerification) {
      answer.error += ": the certificate is not signed by a CA this machine trusts (give --ca-file FILE)";
    }
    return answer;
  }
  answer.status = result->status;
  if (!sink) answer.body = result->body;
  for (const auto& [name, value] : result->headers) answer.headers[Lower(name)] = value;
  return answer;
}

httplib::Request MakeRequest(const std::string& method, const std::string& path) {
  httplib::Request request;
  request.method = method;
  request.path = path;
  return request;
}

}  // namespace

ServerAnswer ServerClient::Get(const std::string& path) const {
  return Send(target_, MakeRequest("GET", path), nullptr);
}

ServerAnswer ServerClient::Post(const std::string& path, const std::string& json_body, const ChunkSink& sink) const {
  httplib::Request request = MakeRequest("POST", path);
  request.body = json_body;
  request.headers.emplace("Content-Type", "application/json");
  return Send(target_, std::move(request), sink);
}

ServerAnswer ServerClient::Put(const std::string& path, const std::string& bytes) const {
  httplib::Request request = MakeRequest("PUT", path);
  request.body = bytes;
  request.headers.emplace("Content-Type", "application/octet-stream");
  return Send(target_, std::move(request), nullptr);
}

ServerAnswer ServerClient::PutJson(const std::string& path, const std::string& json_body) const {
  httplib::Request request = MakeRequest("PUT", path);
  request.body = json_body;
  request.headers.emplace("Content-Type", "application/json");
  return Send(target_, std::move(request), nullptr);
}

ServerAnswer ServerClient::Delete(const std::string& path) const {
  return Send(target_, MakeRequest("DELETE", path), nullptr);
}

ServerAnswer ServerClient::Stream(const std::string& path, const ChunkSink& sink) const {
  return Send(target_, MakeRequest("GET", path), sink);
}

StatusOr<std::string> NormalizeServerUrl(const std::string& text) {
  std::string url = text.find("://") == std::string::npos ? "http://" + text : text;
  while (!url.empty() && url.back() == '/') url.pop_back();
  StatusOr<Url> parsed = ParseUrl(url);
  if (!parsed.ok() || (parsed->scheme != "http" && parsed->scheme != "https") || parsed->host.empty() ||
      parsed->userinfo || !parsed->path.empty() || parsed->query) {
    return Status(StatusCode::kInvalidArgument, "--server '" + text + "' is not http://HOST:PORT or https://HOST:PORT");
  }
  return url;
}

StatusOr<std::optional<ServerTarget>> ResolveServer(const std::string& server_flag, const std::string& ca_flag) {
  std::string server = server_flag.empty() ? EnvOr("AMLC_SERVER", "") : server_flag;
  if (server.empty()) return std::optional<ServerTarget>();
  StatusOr<std::string> url = NormalizeServerUrl(server);
  if (!url.ok()) return url.status();
  ServerTarget target{*url, EnvOr("AMLC_TOKEN", ""), ca_flag.empty() ? EnvOr("AMLC_CA_FILE", "") : ca_flag};
  if (target.token.empty()) {
    StatusOr<std::optional<std::string>> saved = SavedToken(target.url);
    if (!saved.ok()) return saved.status();
    if (!saved->has_value()) {
      return Status(StatusCode::kFailedPrecondition,
                    "no API token for " + target.url + ": set AMLC_TOKEN, or run amlc login --server " +
                        target.url + " --token-file FILE");
    }
    target.token = **saved;
  }
  return std::optional<ServerTarget>(std::move(target));
}

int ReportServerFailure(const ServerTarget& target, const ServerAnswer& answer) {
  if (answer.status == 0) {
    PrintError("no workspace server answers at " + target.url + " (" + answer.error + ")");
    return kExitSpecErrors;
  }
  nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  std::string message = body.is_object() && body.contains("message") && body["message"].is_string()
                            ? body["message"].get<std::string>()
                            : answer.body;
  if (body.is_object() && body.contains("diagnostics") && body["diagnostics"].is_string()) {
    std::fputs(body["diagnostics"].get<std::string>().c_str(), stderr);
  }
  if (answer.status == 401) {
    PrintError("the server at " + target.url + " does not accept this token (" + message +
               "); give a valid one in AMLC_TOKEN or with amlc login");
    return kExitDenied;
  }
  if (answer.status == 403) {
    PrintError("refused by " + target.url + ": " + message);
    return kExitDenied;
  }
  PrintError(message.empty() ? target.url + " answered " + std::to_string(answer.status) : message);
  return answer.status == 400 || answer.status == 404 ? kExitUsage : kExitSpecErrors;
}

}  // namespace amlc::cli
