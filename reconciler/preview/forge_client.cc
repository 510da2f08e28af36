#include "reconciler/preview/forge_client.h"

#include <httplib.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>

#include "base/http_error.h"
#include "base/url.h"
#include "reconciler/preview/preview_markdown.h"

namespace amlc::reconciler {
namespace {

using Json = nlohmann::json;

constexpr int kPerPage = 100;  // the most GitHub (per_page) and Gitea (limit) hand out at once
// A guard against a forge that keeps answering full pages: 100,000 comments.
constexpr int kMaxPages = 1000;
constexpr size_t kMaxMessageBytes = 300;
constexpr char kUserAgent[] = "amlc";
constexpr char kJson[] = "application/json";

StatusCode CodeForHttpStatus(int status) {
  if (status == 404) return StatusCode::kNotFound;
  if (status == 400 || status == 422) return StatusCode::kInvalidArgument;
  if (status == 408 || status == 429 || status >= 500) return StatusCode::kUnavailable;
  return StatusCode::kFailedPrecondition;  // 401, 403 and the like: wrong token or rights
}

// `text` with every occurrence of the token blanked: a forge may echo what it
// was sent, and a Status ends up in logs and on screens.
std::string Redact(std::string text, const std::string& token) {
  if (token.empty()) return text;
  for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
    text.replace(at, token.size(), "***");
  }
  return text;
}

// The forge's own words: the "message" of its JSON error, else the start of the body.
std::string ForgeMessage(const std::string& body) {
  Json json = Json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    return json["message"].get<std::string>();
  }
  std::string text = body.substr(0, kMaxMessageBytes);
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

// "/repos/owner/name" for "owner/name".
StatusOr<std::string> RepositoryPath(const std::string& repository) {
  size_t slash = repository.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == repository.size() ||
      repository.find('/', slash + 1) != std::string::npos) {
    return Status(StatusCode::kInvalidArgument,
                  "repository '" + repository + "' is not of the form owner/name");
  }
  return "/repos/" + PercentEncode(repository.substr(0, slash)) + "/" +
         PercentEncode(repository.substr(slash + 1));
}

struct Response {
  int status = 0;
  std::string body;
};

// One conversation with the forge: a kept-alive connection and the headers
// every request carries. Failures become Statuses naming the host and the step.
class ForgeSession {
 public:
  ForgeSession(const std::string& origin, std::string base_path, std::string token)
      : client_(origin), host_(origin.substr(origin.find("://") + 3)),
        base_path_(std::move(base_path)), token_(std::move(token)) {
    client_.set_keep_alive(true);
    client_.set_follow_location(false);
    client_.set_url_encode(false);  // the paths built here are encoded already
    client_.set_connection_timeout(30);
    client_.set_read_timeout(60);
    client_.set_write_timeout(60);
    // https: verify the forge's certificate against the system's CAs.
    client_.enable_server_certificate_verification(true);
  }

  StatusOr<Response> Send(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& what) {
    httplib::Headers headers{{"Authorization", "token " + token_},
                             {"Accept", kJson},
                             {"User-Agent", kUserAgent}};
    std::string target = base_path_ + path;
    httplib::Result result(nullptr, httplib::Error::Unknown);
    if (method == "GET") {
      result = client_.Get(target, headers);
    } else if (method == "POST") {
      result = client_.Post(target, headers, body, kJson);
    } else {
      result = client_.Patch(target, headers, body, kJson);
    }
    if (!result) return TransportError(result.error(), what);
    return Response{result->status, result->body};
  }

  // The Status for an answer the step did not expect.
  Status HttpError(const Response& response, const std::string& what) const {
    std::string message = "forge " + host_ + " answered HTTP " + std::to_string(response.status) +
                          " to " + what;
    std::string says = ForgeMessage(response.body);
    if (!says.empty()) message += ": " + says;
    if (response.status == 401) message += " (is the token right, and not expired?)";
    return Status(CodeForHttpStatus(response.status), Redact(message, token_));
  }

 private:
  Status TransportError(httplib::Error error, const std::string& what) {
    HttpErrorHints hints;
    hints.cannot_connect = " (is the forge running and the URL right?)";
    return HttpErrorStatus(error, "forge " + host_, what, client_.get_openssl_verify_result(), hints);
  }

  httplib::Client client_;
  std::string host_;
  std::string base_path_;
  std::string token_;
};

// The id of a comment as the forge wrote it, or nullopt.
std::optional<int64_t> CommentId(const Json& comment) {
  if (!comment.is_object() || !comment.contains("id") || !comment["id"].is_number_integer()) {
    return std::nullopt;
  }
  return comment["id"].get<int64_t>();
}

bool IsPreview(const Json& comment) {
  return comment.contains("body") && comment["body"].is_string() &&
         comment["body"].get<std::string>().find(kPreviewMarker) != std::string::npos;
}

// The first preview comment of the pull request, reading page after page
// until a short or empty one. Sends both GitHub's per_page and Gitea's limit;
// a forge that ignores paging answers every page alike, so a page with no
// comment not seen before also ends the search.
StatusOr<std::optional<int64_t>> FindPreviewComment(ForgeSession& session,
                                                    const std::string& comments_path,
                                                    const std::string& pr_name) {
  std::set<int64_t> seen;
  for (int page = 1; page <= kMaxPages; ++page) {
    std::string what = "listing the comments of " + pr_name + " (page " + std::to_string(page) + ")";
    std::string query = "?per_page=" + std::to_string(kPerPage) +
                        "&limit=" + std::to_string(kPerPage) + "&page=" + std::to_string(page);
    StatusOr<Response> response = session.Send("GET", comments_path + query, "", what);
    if (!response.ok()) return response.status();
    if (response->status != 200) return session.HttpError(*response, what);
    Json comments = Json::parse(response->body, nullptr, false);
    if (!comments.is_array()) {
      return Status(StatusCode::kFailedPrecondition,
                    "the forge's answer to " + what + " is not a JSON list of comments");
    }
    bool any_new = false;
    for (const Json& comment : comments) {
      std::optional<int64_t> id = CommentId(comment);
      if (!id) continue;
      if (IsPreview(comment)) return id;
      any_new = seen.insert(*id).second || any_new;
    }
    if (comments.size() < static_cast<size_t>(kPerPage) || !any_new) break;
  }
  return std::optional<int64_t>();
}

StatusOr<int64_t> PostComment(ForgeSession& session, const std::string& comments_path,
                              const std::string& pr_name, const std::string& payload) {
  std::string what = "posting the preview comment on " + pr_name;
  StatusOr<Response> response = session.Send("POST", comments_path, payload, what);
  if (!response.ok()) return response.status();
  if (response->status != 201 && response->status != 200) {
    return session.HttpError(*response, what);
  }
  std::optional<int64_t> id = CommentId(Json::parse(response->body, nullptr, false));
  if (!id) {
    return Status(StatusCode::kFailedPrecondition,
                  "the forge's answer to " + what + " names no comment id");
  }
  return *id;
}

// Updates comment `id`; kNotFound when it went away since it was listed.
Status PatchComment(ForgeSession& session, const std::string& repo_path, int64_t id,
                    const std::string& pr_name, const std::string& payload) {
  std::string what = "updating preview comment " + std::to_string(id) + " on " + pr_name;
  StatusOr<Response> response =
      session.Send("PATCH", repo_path + "/issues/comments/" + std::to_string(id), payload, what);
  if (!response.ok()) return response.status();
  if (response->status != 200) return session.HttpError(*response, what);
  return Status::Ok();
}

}  // namespace

StatusOr<ForgeClient> ForgeClient::Create(const std::string& api_base_url, std::string token) {
  if (!api_base_url.starts_with("http://") && !api_base_url.starts_with("https://")) {
    return Status(StatusCode::kInvalidArgument,
                  "forge API URL '" + api_base_url + "' does not start with http:// or https://");
  }
  StatusOr<Url> url = ParseUrl(api_base_url);
  // Credentials go in the token, and every request builds its own query.
  bool odd = !url.ok() || url->host.empty() || url->userinfo || url->query || url->fragment ||
             url->path.find('@') != std::string::npos;
  if (odd) {
    return Status(StatusCode::kInvalidArgument,
                  "forge API URL '" + api_base_url +
                      "' is not of the form http(s)://host[:port][/path]");
  }
  if (token.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "no forge token: previews are posted with a token that may comment on pull "
                  "requests");
  }
  std::string path = url->path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  return ForgeClient(url->scheme + "://" + url->HostPort(), path, std::move(token));
}

StatusOr<int64_t> ForgeClient::UpsertComment(const std::string& repository, int64_t pull_request,
                                             const std::string& body) const {
  StatusOr<std::string> repo_path = RepositoryPath(repository);
  if (!repo_path.ok()) return repo_path.status();
  if (pull_request <= 0) {
    return Status(StatusCode::kInvalidArgument,
                  "pull request number " + std::to_string(pull_request) + " is not positive");
  }
  std::string pr_name = repository + "#" + std::to_string(pull_request);
  std::string comments_path = *repo_path + "/issues/" + std::to_string(pull_request) + "/comments";
  std::string payload = Json{{"body", body}}.dump();
  ForgeSession session(origin_, base_path_, token_);

  StatusOr<std::optional<int64_t>> existing = FindPreviewComment(session, comments_path, pr_name);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    int64_t id = **existing;
    Status patched = PatchComment(session, *repo_path, id, pr_name, payload);
    if (patched.ok()) return id;
    // Someone deleted it since it was listed: post a new one instead.
    if (patched.code() != StatusCode::kNotFound) return patched;
  }
  return PostComment(session, comments_path, pr_name, payload);
}

}  // namespace amlc::reconciler
