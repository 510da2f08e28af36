#ifndef AMLC_RECONCILER_PREVIEW_FORGE_CLIENT_H_
#define AMLC_RECONCILER_PREVIEW_FORGE_CLIENT_H_

// Posts pull-request previews to a GitHub-compatible forge (GitHub, Gitea,
// Forgejo): one comment per pull request, found again by kPreviewMarker and
// updated in place on every new push, as Atlantis does. cpp-httplib stays
// inside forge_client.cc.

#include <cstdint>
#include <string>
#include <utility>

#include "base/status.h"

namespace amlc::reconciler {

class ForgeClient {
 public:
  /// `api_base_url` is the forge's REST API root: "https://api.github.com", or
  /// "http://127.0.0.1:3000/api/v1" for Gitea. `token` is sent as
  /// "Authorization: token TOKEN" and never appears in a Status.
  /// kInvalidArgument when the URL is not http(s)://host[:port][/path] or the token is empty.
  static StatusOr<ForgeClient> Create(const std::string& api_base_url, std::string token);

  /// Makes the preview comment of `pull_request` in `repository` ("owner/name")
  /// say `body`: updates the comment whose body holds kPreviewMarker (the
  /// first, reading every page of the pull request's comments), or posts a new
  /// one. Returns the comment's id. Errors name the HTTP status, the step and
  /// the forge's "message"; network failures and 5xx are kUnavailable.
  StatusOr<int64_t> UpsertComment(const std::string& repository, int64_t pull_request,
                                  const std::string& body) const;

 private:
  ForgeClient(std::string origin, std::string base_path, std::string token)
      : origin_(std::move(origin)), base_path_(std::move(base_path)), token_(std::move(token)) {}

  std::string origin_;     // "https://api.github.com"
  std::string base_path_;  // "" or "/api/v1": prefixed to every request path
  std::string token_;
};

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_PREVIEW_FORGE_CLIENT_H_
