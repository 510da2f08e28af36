#include "runtime/artifacts/oci/registry_http.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/http_error.h"
#include "base/openssl_error.h"
#include "base/url.h"

namespace amlc::runtime::image::registry {
namespace {

constexpr size_t kUploadBufferSize = 256 * 1024;
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr size_t kMaxBufferedBody = 16 * 1024 * 1024;  // manifests, tokens: small documents
constexpr int kMaxRedirects = 5;
constexpr int kMaxAuthRounds = 2;
constexpr char kUserAgent[] = "amlc/0.1";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

// The system's CAs plus those of `ca_file`; nullptr (and `error`) when the file does not load.
X509_STORE* NewCaStore(const std::string& ca_file, std::string* error) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) {
    *error = OpensslErrorText();
    return nullptr;
  }
  X509_STORE_set_default_paths(store);
  ERR_clear_error();
  if (X509_STORE_load_file(store, ca_file.c_str()) != 1) {
    *error = OpensslErrorText();
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

// One WWW-Authenticate challenge: `Bearer realm="...",service="...",scope="..."`.
struct Challenge {
  std::string scheme;                         // lower case
  std::map<std::string, std::string> params;  // keys lower case
};

// Parses a WWW-Authenticate value (RFC 7235: challenges separated by commas,
// auth-params with quoted-string values that may themselves hold commas).
std::vector<Challenge> ParseChallenges(std::string_view text) {
  std::vector<Challenge> challenges;
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == ',')) ++i;
  };
  auto token = [&] {
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != ',' &&
           text[i] != '=') {
      ++i;
    }
    return std::string(text.substr(start, i - start));
  };
  while (true) {
    skip();
    if (i >= text.size()) break;
    std::string word = token();
    size_t after = i;
    while (after < text.size() && (text[after] == ' ' || text[after] == '\t')) ++after;
    bool is_param = after < text.size() && text[after] == '=' && !challenges.empty() &&
                    // "token68" values end in '=' padding and are not params
                    (after + 1 >= text.size() || text[after + 1] != '=');
    if (!is_param) {
      challenges.push_back({Lower(word), {}});
      continue;
    }
    i = after + 1;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i++];
      }
      if (i < text.size()) ++i;  // closing quote
    } else {
      value = token();
    }
    challenges.back().params[Lower(word)] = value;
  }
  return challenges;
}

// "repository:team/iris:pull,push" -> ("repository:team/iris", {pull, push}).
void AddScope(std::string_view scope, std::map<std::string, std::set<std::string>>* scopes) {
  size_t colon = scope.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return;
  std::set<std::string>& actions = (*scopes)[std::string(scope.substr(0, colon))];
  std::string_view list = scope.substr(colon + 1);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view action = list.substr(0, comma);
    if (!action.empty()) actions.insert(std::string(action));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// The scopes to ask a token for: the challenge's and the session's, the
// actions of one resource merged ("repository:x:pull" + "repository:x:pull,push").
std::vector<std::string> MergeScopes(std::string_view challenge_scope, std::string_view own) {
  std::map<std::string, std::set<std::string>> scopes;
  for (std::string_view list : {challenge_scope, own}) {
    while (!list.empty()) {
      size_t space = list.find(' ');
      AddScope(list.substr(0, space), &scopes);
      if (space == std::string_view::npos) break;
      list.remove_prefix(space + 1);
    }
  }
  std::vector<std::string> out;
  for (const auto& [resource, actions] : scopes) {
    std::string scope = resource + ":";
    bool first = true;
    for (const std::string& action : actions) {
      if (!first) scope += ",";
      scope += action;
      first = false;
    }
    out.push_back(scope);
  }
  return out;
}

// "MANIFEST_UNKNOWN: manifest unknown" from the registry's JSON error body,
// else the start of the body as text.
std::string RegistryErrorText(const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  std::string text;
  if (json.is_object() && json.contains("errors") && json["errors"].is_array()) {
    for (const nlohmann::json& error : json["errors"]) {
      if (!error.is_object()) continue;
      std::string one;
      if (error.contains("code") && error["code"].is_string())
        one = error["code"].get<std::string>();
      if (error.contains("message") && error["message"].is_string()) {
        if (!one.empty()) one += ": ";
        one += error["message"].get<std::string>();
      }
      if (error.contains("detail") && !error["detail"].is_null()) {
        std::string detail = error["detail"].is_string() ? error["detail"].get<std::string>()
                                                         : error["detail"].dump();
        if (!detail.empty() && detail.size() < 300) one += " (" + detail + ")";
      }
      if (one.empty()) continue;
      if (!text.empty()) text += "; ";
      text += one;
    }
    if (!text.empty()) return text;
  }
  if (json.is_object()) {  // token servers: {"error": "...", "error_description": "..."}
    for (const char* key : {"error_description", "error", "message", "details"}) {
      if (json.contains(key) && json[key].is_string()) return json[key].get<std::string>();
    }
  }
  text = body.substr(0, 300);
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

StatusCode CodeForHttpStatus(int status) {
  if (status == 404) return StatusCode::kNotFound;
  if (status == 408 || status == 429 || status >= 500) return StatusCode::kUnavailable;
  return StatusCode::kFailedPrecondition;
}

// "scheme://host[:port]" in one spelling: lower case, without the scheme's
// default port, so that a Location naming the registry is recognised as it.
std::string Origin(std::string_view scheme, std::string_view host) {
  std::string lower_scheme = Lower(scheme);
  std::string lower_host = Lower(host);
  std::string default_port = lower_scheme == "https" ? ":443" : ":80";
  if (lower_host.size() > default_port.size() &&
      lower_host.compare(lower_host.size() - default_port.size(), default_port.size(),
                         default_port) == 0) {
    lower_host.resize(lower_host.size() - default_port.size());
  }
  return lower_scheme + "://" + lower_host;
}

// How to fix the transport failures a user can fix, in the registry's terms.
HttpErrorHints RegistryHints(const std::string& host) {
  return {": give the registry's CA certificate (--ca-file) or turn certificate verification "
          "off (--tls-verify=false)",
          " (if the registry serves plain http, write the reference as http://" + host + "/...)",
          " (is the registry running and the address right?)"};
}

// ---- one request: the parts of RegistrySession::SendOnce

bool IsSupportedMethod(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "PATCH" ||
         method == "POST";
}

// The headers every request carries, the request's own, and `authorization`
// when there is one (only the registry's own origin is sent credentials).
httplib::Headers RequestHeaders(const HttpRequest& request, const std::string& authorization) {
  httplib::Headers headers{{"User-Agent", kUserAgent}, {"Accept-Encoding", "identity"}};
  for (const auto& [name, value] : request.headers) headers.emplace(name, value);
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  return headers;
}

// What cpp-httplib's callbacks leave behind: the answer read so far, and the
// Status a callback stopped the transfer with (the Result then only says
// "canceled").
struct Transfer {
  HttpResponse response;
  Status stopped;
};

// GET: a 2xx body goes to request.sink, or into the response up to
// kMaxBufferedBody; of an error body the first kMaxErrorBody bytes are kept
// for the message.
httplib::Result Get(httplib::Client& client, const HttpRequest& request, const std::string& host,
                    const std::string& path, const httplib::Headers& headers, Transfer& transfer) {
  int status = 0;
  auto on_response = [&](const httplib::Response& response) {
    status = response.status;
    return true;
  };
  auto on_data = [&](const char* data, size_t size) {
    bool success = status >= 200 && status < 300;
    if (success && request.sink) {
      transfer.stopped = request.sink(std::string_view(data, size));
      return transfer.stopped.ok();
    }
    std::string& body = transfer.response.body;
    if (success && body.size() + size > kMaxBufferedBody) {
      transfer.stopped = Status(StatusCode::kFailedPrecondition,
                                "the answer of " + host + " to " + request.what +
                                    " is larger than " + HumanBytes(kMaxBufferedBody));
      return false;
    }
    if (success || body.size() < kMaxErrorBody) body.append(data, size);
    return true;
  };
  return client.Get(path, headers, on_response, on_data);
}

// PUT, PATCH or POST of request.source, read kUploadBufferSize at a time so
// that a layer of gigabytes is never held in memory.
httplib::Result Upload(httplib::Client& client, const HttpRequest& request,
                       const std::string& path, const httplib::Headers& headers,
                       Transfer& transfer) {
  const BodySource& source = *request.source;
  std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(kUploadBufferSize);
  httplib::ContentProvider provider = [&](size_t offset, size_t length,
                                          httplib::DataSink& sink) -> bool {
    StatusOr<size_t> n = source.read(offset, buffer.get(), std::min(length, kUploadBufferSize));
    if (!n.ok()) {
      transfer.stopped = n.status();
      return false;
    }
    if (*n == 0) {
      transfer.stopped = Status(StatusCode::kUnavailable,
                                "the data being sent ended early while " + request.what);
      return false;
    }
    return sink.write(buffer.get(), *n);
  };
  size_t size = static_cast<size_t>(source.size);
  if (request.method == "PUT") {
    return client.Put(path, headers, size, provider, request.content_type);
  }
  if (request.method == "PATCH") {
    return client.Patch(path, headers, size, provider, request.content_type);
  }
  return client.Post(path, headers, size, provider, request.content_type);
}

// PUT, PATCH or POST of request.body.
httplib::Result SendBuffered(httplib::Client& client, const HttpRequest& request,
                             const std::string& path, const httplib::Headers& headers) {
  if (request.method == "PUT") return client.Put(path, headers, request.body, request.content_type);
  if (request.method == "PATCH") {
    return client.Patch(path, headers, request.body, request.content_type);
  }
  return client.Post(path, headers, request.body, request.content_type);
}

// Sends `request` by its method: GET streamed, HEAD, or a body from
// request.source or request.body.
httplib::Result Dispatch(httplib::Client& client, const HttpRequest& request,
                         const std::string& host, const std::string& path,
                         const httplib::Headers& headers, Transfer& transfer) {
  if (request.method == "GET") return Get(client, request, host, path, headers, transfer);
  if (request.method == "HEAD") return client.Head(path, headers);
  if (request.source != nullptr) return Upload(client, request, path, headers, transfer);
  return SendBuffered(client, request, path, headers);
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::string AppendQuery(const std::string& url, const std::string& key_value) {
  std::string base = url.substr(0, url.find('#'));
  if (base.find('?') == std::string::npos) {
    base += '?';
  } else if (base.back() != '?' && base.back() != '&') {
    base += '&';
  }
  return base + key_value;
}

RegistrySession::RegistrySession(RegistryReference ref, RegistryOptions options, std::string scope)
    : ref_(std::move(ref)), options_(std::move(options)), scope_(std::move(scope)) {
  origin_ = Origin(EffectiveScheme(ref_), ref_.host);
}

RegistrySession::~RegistrySession() = default;

Status RegistrySession::Init() {
  if (!options_.ca_file.empty()) {
    std::string error;
    X509_STORE* store = NewCaStore(options_.ca_file, &error);
    if (store == nullptr) {
      return Status(StatusCode::kInvalidArgument,
                    "cannot load the CA certificates in '" + options_.ca_file + "': " + error);
    }
    X509_STORE_free(store);
  }
  return Status::Ok();
}

Status RegistrySession::NeedCredentials() const {
  return Status(StatusCode::kFailedPrecondition,
                "registry " + ref_.host +
                    " needs credentials: set --username/--password or "
                    "AMLC_REGISTRY_USERNAME/AMLC_REGISTRY_PASSWORD");
}

StatusOr<RegistrySession::Url> RegistrySession::ParseUrl(const std::string& target,
                                                         const std::string& base_path) const {
  Url url;
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    StatusOr<amlc::Url> parsed = amlc::ParseUrl(target);
    // A URL with credentials in it is not followed: they would go to a host
    // the user did not name.
    if (!parsed.ok() || parsed->userinfo) {
      return Status(StatusCode::kFailedPrecondition,
                    "registry " + ref_.host + " sent an unusable URL '" + target + "'" +
                        (parsed.ok() ? "" : " (" + parsed.status().message() + ")"));
    }
    url.host = parsed->HostPort();
    url.origin = Origin(parsed->scheme, url.host);
    url.path = parsed->path.empty() ? "/" : parsed->path;
    if (parsed->query) url.path += "?" + *parsed->query;
  } else if (target.rfind("//", 0) == 0) {  // network-path reference: the registry's scheme
    return ParseUrl(EffectiveScheme(ref_) + ":" + target, base_path);
  } else if (!target.empty() && target[0] == '/') {
    url.origin = origin_;
    url.host = ref_.host;
    url.path = target;
  } else if (!target.empty() && target.find("://") == std::string::npos) {
    std::string base = base_path.substr(0, base_path.find('?'));
    url.origin = origin_;
    url.host = ref_.host;
    url.path = base.substr(0, base.rfind('/') + 1) + target;
  } else {
    return Status(StatusCode::kFailedPrecondition,
                  "registry " + ref_.host + " sent an unusable URL '" + target + "'");
  }
  if (url.host.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "registry " + ref_.host + " sent a URL without a host: '" + target + "'");
  }
  size_t fragment = url.path.find('#');
  if (fragment != std::string::npos) url.path.resize(fragment);
  return url;
}

StatusOr<httplib::Client*> RegistrySession::ClientFor(const Url& url) {
  auto found = clients_.find(url.origin);
  if (found != clients_.end()) return found->second.get();
  auto client = std::make_unique<httplib::Client>(url.origin);
  if (!client->is_valid()) {
    return Status(StatusCode::kInvalidArgument, "cannot connect to '" + url.origin + "'");
  }
  client->set_keep_alive(true);
  client->set_follow_location(false);
  client->set_url_encode(false);  // Locations arrive encoded; the paths amlc builds are safe
  client->set_decompress(false);  // digests are over the bytes as stored
  client->set_connection_timeout(30);
  client->set_read_timeout(300);
  client->set_write_timeout(300);
  if (url.origin.rfind("https://", 0) == 0) {
    client->enable_server_certificate_verification(options_.tls_verify);
    if (options_.tls_verify && !options_.ca_file.empty()) {
      std::string error;
      X509_STORE* store = NewCaStore(options_.ca_file, &error);
      if (store == nullptr) {
        return Status(StatusCode::kInvalidArgument,
                      "cannot load the CA certificates in '" + options_.ca_file + "': " + error);
      }
      client->set_ca_cert_store(store);  // the client owns it now
    }
  }
  httplib::Client* raw = client.get();
  clients_.emplace(url.origin, std::move(client));
  return raw;
}

StatusOr<HttpResponse> RegistrySession::SendOnce(const HttpRequest& request, const Url& url,
                                                 bool authorize) {
  StatusOr<httplib::Client*> client = ClientFor(url);
  if (!client.ok()) return client.status();
  if (!IsSupportedMethod(request.method)) {
    return Status(StatusCode::kInternal, "unsupported HTTP method " + request.method);
  }
  httplib::Headers headers = RequestHeaders(request, authorize ? authorization_ : "");
  Transfer transfer;
  transfer.response.url = url.origin + url.path;
  httplib::Result result = Dispatch(**client, request, url.host, url.path, headers, transfer);
  if (!transfer.stopped.ok()) return transfer.stopped;
  if (!result) {
    return HttpErrorStatus(result.error(), url.host, request.what,
                           (*client)->get_openssl_verify_result(), RegistryHints(url.host));
  }
  HttpResponse& out = transfer.response;
  out.status = result->status;
  for (const auto& [name, value] : result->headers) out.headers.emplace(Lower(name), value);
  if (request.method != "GET") out.body = std::move(result->body);
  return std::move(out);
}

StatusOr<HttpResponse> RegistrySession::Send(const HttpRequest& request) {
  StatusOr<Url> url = ParseUrl(request.target, "/");
  if (!url.ok()) return url.status();
  int auth_rounds = 0;
  int redirects = 0;
  while (true) {
    bool authorize = url->origin == origin_;
    std::string sent = authorize ? authorization_ : "";
    StatusOr<HttpResponse> response = SendOnce(request, *url, authorize);
    if (!response.ok()) return response;
    if (response->status == 401 && authorize) {
      if (++auth_rounds > kMaxAuthRounds) {
        return Status(StatusCode::kFailedPrecondition,
                      "registry " + ref_.host + " still refuses " + request.what +
                          " after authenticating as '" + options_.username +
                          "': " + RegistryErrorText(response->body));
      }
      Status auth = Authenticate(*response, sent, request.what);
      if (!auth.ok()) return auth;
      continue;
    }
    bool redirect = response->status == 301 || response->status == 302 || response->status == 303 ||
                    response->status == 307 || response->status == 308;
    if (redirect && (request.method == "GET" || request.method == "HEAD")) {
      std::string location = response->Header("location");
      if (location.empty()) return response;
      if (++redirects > kMaxRedirects) {
        return Status(StatusCode::kFailedPrecondition,
                      "too many redirects from " + ref_.host + " while " + request.what);
      }
      StatusOr<Url> next = ParseUrl(location, url->path);
      if (!next.ok()) return next.status();
      url = std::move(next);
      continue;
    }
    return response;
  }
}

Status RegistrySession::Authenticate(const HttpResponse& challenge,
                                     const std::string& sent_authorization,
                                     const std::string& what) {
  std::vector<Challenge> challenges;
  for (auto [it, end] = challenge.headers.equal_range("www-authenticate"); it != end; ++it) {
    for (Challenge& one : ParseChallenges(it->second)) challenges.push_back(std::move(one));
  }
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const Challenge& one : challenges) {
    if (one.scheme == "bearer" && bearer == nullptr) bearer = &one;
    if (one.scheme == "basic" && basic == nullptr) basic = &one;
  }
  std::string registry_says = RegistryErrorText(challenge.body);
  if (bearer != nullptr) {
    auto realm = bearer->params.find("realm");
    if (realm == bearer->params.end() || realm->second.empty()) {
      return Status(StatusCode::kFailedPrecondition,
                    "registry " + ref_.host + " asked for a bearer token without naming a realm");
    }
    auto scope = bearer->params.find("scope");
    std::vector<std::string> scopes =
        MergeScopes(scope == bearer->params.end() ? "" : scope->second, scope_);
    std::string key;
    for (const std::string& one : scopes) key += one + " ";
    auto cached = tokens_.find(key);
    if (cached != tokens_.end() && sent_authorization != "Bearer " + cached->second) {
      authorization_ = "Bearer " + cached->second;  // a token for this scope is at hand
      return Status::Ok();
    }
    if (cached != tokens_.end()) {  // that very token was refused
      auto error = bearer->params.find("error");
      if (error != bearer->params.end() && error->second == "insufficient_scope") {
        if (options_.username.empty()) return NeedCredentials();
        return Status(StatusCode::kFailedPrecondition,
                      "registry " + ref_.host + " denied " + what + ": user '" + options_.username +
                          "' is not granted " + key.substr(0, key.size() - 1) +
                          (registry_says.empty() ? "" : " (" + registry_says + ")"));
      }
      tokens_.erase(cached);  // expired, say: fetch a new one
    }
    return FetchToken(bearer->params, scopes, what);
  }
  if (basic != nullptr) {
    if (options_.username.empty()) return NeedCredentials();
    if (sent_authorization.rfind("Basic ", 0) == 0) {
      return Status(StatusCode::kFailedPrecondition,
                    "registry " + ref_.host + " rejected the credentials of user '" +
                        options_.username + "'" +
                        (registry_says.empty() ? "" : " (" + registry_says + ")"));
    }
    authorization_ = "Basic " + Base64(options_.username + ":" + options_.password);
    return Status::Ok();
  }
  return Status(StatusCode::kFailedPrecondition,
                "registry " + ref_.host + " answered 401 Unauthorized to " + what +
                    " without a basic or bearer challenge" +
                    (registry_says.empty() ? "" : ": " + registry_says));
}

Status RegistrySession::FetchToken(const std::map<std::string, std::string>& params,
                                   const std::vector<std::string>& scopes,
                                   const std::string& what) {
  const std::string& realm = params.at("realm");
  if (realm.rfind("http://", 0) != 0 && realm.rfind("https://", 0) != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "registry " + ref_.host + " names a token realm that is not an http(s) URL: '" +
                      realm + "'");
  }
  std::string target = realm;
  auto service = params.find("service");
  if (service != params.end() && !service->second.empty()) {
    target = AppendQuery(target, "service=" + PercentEncode(service->second));
  }
  for (const std::string& scope : scopes) target = AppendQuery(target, "scope=" + PercentEncode(scope));
  StatusOr<Url> url = ParseUrl(target, "/");
  if (!url.ok()) return url.status();

  HttpRequest request;
  request.method = "GET";
  request.what = "getting a token for " + what;
  request.headers.emplace_back("Accept", "application/json");
  if (!options_.username.empty()) {
    request.headers.emplace_back("Authorization",
                                 "Basic " + Base64(options_.username + ":" + options_.password));
  }
  StatusOr<HttpResponse> response = SendOnce(request, *url, /*authorize=*/false);
  if (!response.ok()) return response.status();
  if (response->status == 401 || response->status == 403) {
    if (options_.username.empty()) return NeedCredentials();
    std::string says = RegistryErrorText(response->body);
    return Status(StatusCode::kFailedPrecondition,
                  "the token server " + url->origin + " of registry " + ref_.host +
                      " rejected the credentials of user '" + options_.username + "'" +
                      (says.empty() ? "" : " (" + says + ")"));
  }
  if (response->status != 200) {
    std::string says = RegistryErrorText(response->body);
    return Status(CodeForHttpStatus(response->status),
                  "the token server " + url->origin + " of registry " + ref_.host + " answered " +
                      std::to_string(response->status) + " to " + request.what +
                      (says.empty() ? "" : ": " + says));
  }
  nlohmann::json json = nlohmann::json::parse(response->body, nullptr, false);
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    if (token.empty() && json.is_object() && json.contains(key) && json[key].is_string()) {
      token = json[key].get<std::string>();
    }
  }
  if (token.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "the token server " + url->origin + " of registry " + ref_.host +
                      " answered without a token (expected JSON with \"token\" or "
                      "\"access_token\")");
  }
  std::string key;
  for (const std::string& one : scopes) key += one + " ";
  tokens_[key] = token;
  authorization_ = "Bearer " + token;
  return Status::Ok();
}

Status RegistrySession::ErrorFor(const HttpResponse& response, const std::string& what) const {
  std::string says = RegistryErrorText(response.body);
  std::string message;
  if (response.status == 403) {
    message = "registry " + ref_.host + " denied " + what + " (403 Forbidden" +
              (options_.username.empty() ? "" : ", user '" + options_.username + "'") + ")";
  } else {
    message =
        "registry " + ref_.host + " answered " + std::to_string(response.status) + " to " + what;
  }
  if (!says.empty()) message += ": " + says;
  // A TLS server answers plain http with a bare 400 (Go's says "Client sent an
  // HTTP request to an HTTPS server"); registries mark their own answers.
  bool plain_http = response.url.rfind("http://", 0) == 0;
  if (response.status == 400 && plain_http &&
      (says.find("HTTPS server") != std::string::npos ||
       response.Header("docker-distribution-api-version").empty())) {
    message +=
        " (if the registry serves https, write the reference as https://" + ref_.host + "/...)";
  }
  return Status(CodeForHttpStatus(response.status), message);
}

}  // namespace amlc::runtime::image::registry
