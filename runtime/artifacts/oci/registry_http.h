#ifndef AMLC_RUNTIME_ARTIFACTS_OCI_REGISTRY_HTTP_H_
#define AMLC_RUNTIME_ARTIFACTS_OCI_REGISTRY_HTTP_H_

// The registry client's HTTP half: one session per image transfer that sends
// OCI distribution requests to a registry (and the hosts its Locations and
// redirects name), answers 401 challenges (basic, or bearer through a token
// realm) and turns failures into Statuses that name the host and the step.
// cpp-httplib stays behind this header.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/artifacts/oci/registry_client.h"

namespace httplib {
class Client;
}

namespace amlc::runtime::image::registry {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";

/// True for 127.0.0.0/8, "localhost" and "[::1]" (a port may follow).
bool IsLoopbackHost(std::string_view host);
/// "http" or "https": the reference's own scheme, else https except for loopback hosts.
std::string EffectiveScheme(const RegistryReference& ref);
/// "sha256:0123456789ab…": a digest short enough for progress lines.
std::string ShortDigest(std::string_view digest);
/// "532 B", "12.3 kB", "180 MB" (decimal units, as registries and docker print them).
std::string HumanBytes(uint64_t bytes);

/// A request body read on demand: `read(offset, buffer, size)` fills `buffer`
/// with body bytes from `offset` and returns the count (0 only past the end).
struct BodySource {
  uint64_t size = 0;
  std::function<StatusOr<size_t>(uint64_t offset, char* buffer, size_t size)> read;
};

struct HttpRequest {
  std::string method;  // GET, HEAD, POST, PUT, PATCH
  std::string target;  // "/v2/..." on the registry, or an absolute URL (a Location)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;  // sent when `source` is not set
  const BodySource* source = nullptr;
  /// For 2xx answers to GET: receives the body instead of HttpResponse::body.
  std::function<Status(std::string_view chunk)> sink;
  /// What the request does, for error messages: "uploading blob sha256:…".
  std::string what;
};

struct HttpResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;  // error bodies always; success bodies unless the request had a sink
  std::string url;   // the URL that answered (after redirects)

  /// The first value of header `name` (any case), or "".
  std::string Header(std::string_view name) const;
};

/// One registry conversation: connections (kept alive) per origin, and the
/// credentials the registry asked for, reused for every later request.
class RegistrySession {
 public:
  /// `scope` is what bearer tokens are requested for besides what a challenge
  /// names: "repository:team/iris:pull,push" for a push.
  RegistrySession(RegistryReference ref, RegistryOptions options, std::string scope);
  ~RegistrySession();
  RegistrySession(const RegistrySession&) = delete;
  RegistrySession& operator=(const RegistrySession&) = delete;

  /// Checks the options (the CA file loads). Call once before Send.
  Status Init();

  /// Sends `request`, answering 401 challenges and following redirects of
  /// GET and HEAD. Network failures are kUnavailable; an unanswerable 401 is
  /// kFailedPrecondition; other statuses are returned for the caller to judge
  /// (ErrorFor turns them into a Status).
  StatusOr<HttpResponse> Send(const HttpRequest& request);

  /// The Status for an unexpected answer: code from the HTTP status, message
  /// with the host, the step and the registry's JSON error ("MANIFEST_UNKNOWN: ...").
  Status ErrorFor(const HttpResponse& response, const std::string& what) const;

  /// "https://host:port": the registry's origin.
  const std::string& origin() const { return origin_; }
  /// The registry's host[:port], for messages.
  const std::string& host() const { return ref_.host; }
  /// "/v2/<repository>".
  std::string RepositoryPath() const { return "/v2/" + ref_.repository; }

 private:
  struct Url {
    std::string origin;  // "scheme://host[:port]"
    std::string host;    // "host[:port]"
    std::string path;    // "/path?query"
  };
  StatusOr<Url> ParseUrl(const std::string& target, const std::string& base_path) const;
  StatusOr<httplib::Client*> ClientFor(const Url& url);
  StatusOr<HttpResponse> SendOnce(const HttpRequest& request, const Url& url, bool authorize);
  Status Authenticate(const HttpResponse& challenge, const std::string& sent_authorization,
                      const std::string& what);
  Status FetchToken(const std::map<std::string, std::string>& params,
                    const std::vector<std::string>& scopes, const std::string& what);
  Status NeedCredentials() const;

  RegistryReference ref_;
  RegistryOptions options_;
  std::string scope_;
  std::string origin_;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients_;  // by origin
  std::string authorization_;                  // header value sent to the registry's origin
  std::map<std::string, std::string> tokens_;  // bearer tokens by scope list
};

/// Appends "key=value" to the query of `url` ('?' or '&' as needed).
std::string AppendQuery(const std::string& url, const std::string& key_value);

}  // namespace amlc::runtime::image::registry

#endif  // AMLC_RUNTIME_ARTIFACTS_OCI_REGISTRY_HTTP_H_
