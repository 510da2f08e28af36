// Implementation notes: the cache is two folders under its root. index/
// holds one JSON file per URL (named by the SHA-256 of the URL) with the
// validators the server gave (ETag, Last-Modified) and the digest of the
// bytes; blobs/ holds the bytes once per digest. A download goes to tmp/
// first and is renamed into blobs/ once complete, so a killed apply leaves
// no half file under a digest, and two applies fetching the same URL at
// once each write their own temporary file.
#include "runtime/artifacts/remote/url_cache.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "base/http_error.h"
#include "base/url.h"
#include "runtime/artifacts/oci/registry_http.h"
#include "runtime/artifacts/remote/url_mirror.h"
#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return text;
}

bool IsAzureStorageScheme(const std::string& scheme) {
  for (const char* azure : {"wasbs", "wasb", "abfss", "abfs", "adl"}) {
    if (scheme == azure) return true;
  }
  return false;
}

// SHA-256 over what passes through, as the download is written.
class StreamingDigest {
 public:
  StreamingDigest() : context_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(context_, EVP_sha256(), nullptr); }
  ~StreamingDigest() { EVP_MD_CTX_free(context_); }
  StreamingDigest(const StreamingDigest&) = delete;
  StreamingDigest& operator=(const StreamingDigest&) = delete;
  void Add(const char* data, size_t size) { EVP_DigestUpdate(context_, data, size); }
  std::string Hex() {
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context_, hash, &length);
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
      hex += kHex[hash[i] >> 4];
      hex += kHex[hash[i] & 15];
    }
    return hex;
  }

 private:
  EVP_MD_CTX* context_;
};

struct CacheEntry {
  std::string etag;
  std::string last_modified;
  std::string digest;
};

std::string IndexFile(const std::string& cache_dir, const std::string& url) {
  return cache_dir + "/index/" + Sha256Hex(url) + ".json";
}

std::string BlobFile(const std::string& cache_dir, const std::string& digest) {
  return cache_dir + "/blobs/" + digest;
}

std::optional<CacheEntry> ReadEntry(const std::string& cache_dir, const std::string& url) {
  auto text = snapshot::ReadSmallFile(IndexFile(cache_dir, url));
  if (!text.ok()) return std::nullopt;
  json entry = json::parse(text.value(), nullptr, false);
  if (!entry.is_object()) return std::nullopt;
  CacheEntry cached{entry.value("etag", ""), entry.value("last_modified", ""), entry.value("digest", "")};
  if (cached.digest.empty() || !fs::is_regular_file(BlobFile(cache_dir, cached.digest))) return std::nullopt;
  return cached;
}

Status WriteEntry(const std::string& cache_dir, const std::string& url, const CacheEntry& entry) {
  std::string path = IndexFile(cache_dir, url);
  std::string temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << json{{"etag", entry.etag}, {"last_modified", entry.last_modified}, {"digest", entry.digest}}.dump();
    if (!out) return Status(StatusCode::kUnavailable, "cannot write " + temporary);
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) return Status(StatusCode::kUnavailable, "cannot write " + path + ": " + error.message());
  return Status::Ok();
}

std::string TemporaryFile(const std::string& cache_dir) {
  static std::atomic<unsigned> counter{0};
  return cache_dir + "/tmp/" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

bool IsFetchableUrl(const std::string& path) {
  size_t colon = path.find("://");
  if (colon == std::string::npos) return false;
  std::string scheme = Lower(path.substr(0, colon));
  return scheme == "http" || scheme == "https" || IsAzureStorageScheme(scheme);
}

Status CheckInputUrl(const std::string& text) {
  auto url = ParseUrl(text);
  if (!url.ok()) return Status(StatusCode::kInvalidArgument, "input URL is malformed: " + url.status().message());
  std::string scheme = Lower(url->scheme);
  std::string shown = url->ToString(false);
  if (IsAzureStorageScheme(scheme)) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + shown + "': " + scheme + ":// is Azure storage, which needs Azure credentials amlc does "
                  "not have; give an https:// URL the file can be downloaded from (a blob's SAS URL works), "
                  "or download the data and give its local path");
  }
  if (scheme == "http" && !image::registry::IsLoopbackHost(url->HostPort())) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + shown + "': plain http:// is accepted only from this machine (127.0.0.1, localhost, "
                  "[::1]); use https://");
  }
  if (scheme != "http" && scheme != "https") {
    return Status(StatusCode::kInvalidArgument, "'" + shown + "': inputs are fetched over https:// only");
  }
  return Status::Ok();
}

StatusOr<FetchedUrl> FetchUrl(const std::string& cache_dir, const std::string& text) {
  auto mirror = UrlMirror::FromEnvironment();
  if (!mirror.ok()) return mirror.status();
  // The bytes come from the mirror when one maps this URL; the cache stays indexed by the spec's URL.
  std::string source = mirror->Rewrite(text);
  if (Status checked = CheckInputUrl(source); !checked.ok()) return checked;
  Url url = ParseUrl(source).value();
  std::string shown = url.ToString(false);
  if (source != text) {
    auto spec_url = ParseUrl(text);
    shown += " (the mirror of " + (spec_url.ok() ? spec_url->ToString(false) : text) + " in $AMLC_URL_MIRROR)";
  }
  std::error_code error;
  for (const char* folder : {"/index", "/blobs", "/tmp"}) fs::create_directories(cache_dir + folder, error);
  std::optional<CacheEntry> cached = ReadEntry(cache_dir, text);

  httplib::Client client(Lower(url.scheme) + "://" + url.HostPort());
  client.set_follow_location(true);
  client.set_connection_timeout(30);
  client.set_read_timeout(300);
  if (Lower(url.scheme) == "https") client.enable_server_certificate_verification(true);
  if (url.userinfo) client.set_basic_auth(url.Username(), url.Password().value_or(""));
  httplib::Headers headers;
  if (cached && !cached->etag.empty()) headers.emplace("If-None-Match", cached->etag);
  if (cached && !cached->last_modified.empty()) headers.emplace("If-Modified-Since", cached->last_modified);
  std::string target = (url.path.empty() ? "/" : url.path) + (url.query ? "?" + *url.query : "");

  std::string temporary = TemporaryFile(cache_dir);
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  StreamingDigest digest;
  int status = 0;
  auto result = client.Get(
      target, headers,
      [&](const httplib::Response& response) {
        status = response.status;
        return true;
      },
      [&](const char* data, size_t size) {
        if (status != 200) return true;  // an error page is not the data
        digest.Add(data, size);
        out.write(data, static_cast<std::streamsize>(size));
        return static_cast<bool>(out);
      });
  out.close();
  auto discard = [&] { fs::remove(temporary, error); };
  if (!result) {
    discard();
    // Offline with a copy: the copy is what the run key already holds.
    if (cached) return FetchedUrl{BlobFile(cache_dir, cached->digest), cached->digest, false};
    return HttpErrorStatus(result.error(), url.HostPort(), "downloading " + shown,
                           client.get_openssl_verify_result());
  }
  if (result->status == 304 && cached) {
    discard();
    return FetchedUrl{BlobFile(cache_dir, cached->digest), cached->digest, false};
  }
  if (result->status != 200) {
    discard();
    return Status(result->status == 404 ? StatusCode::kNotFound : StatusCode::kFailedPrecondition,
                  "downloading " + shown + ": HTTP " + std::to_string(result->status));
  }
  if (!fs::is_regular_file(temporary)) return Status(StatusCode::kUnavailable, "cannot write " + temporary);
  CacheEntry entry{result->get_header_value("ETag"), result->get_header_value("Last-Modified"), digest.Hex()};
  std::string blob = BlobFile(cache_dir, entry.digest);
  fs::rename(temporary, blob, error);
  if (error) {
    discard();
    return Status(StatusCode::kUnavailable, "cannot store " + blob + ": " + error.message());
  }
  fs::permissions(blob, fs::perms::owner_read, fs::perm_options::replace, error);
  if (Status written = WriteEntry(cache_dir, text, entry); !written.ok()) return written;
  return FetchedUrl{blob, entry.digest, true};
}

StatusOr<std::string> FolderOf(const std::string& cache_dir, const std::string& text, const FetchedUrl& fetched) {
  auto url = ParseUrl(text);
  std::string name = url.ok() ? url->path.substr(url->path.rfind('/') + 1) : "";
  if (name.empty()) name = "data";
  std::string folder = cache_dir + "/folders/" + fetched.digest;
  std::string file = folder + "/" + name;
  std::error_code error;
  if (fs::is_regular_file(file)) return folder;
  fs::create_directories(folder, error);
  fs::copy_file(fetched.file, file, fs::copy_options::overwrite_existing, error);
  if (error) return Status(StatusCode::kUnavailable, "cannot make " + file + ": " + error.message());
  return folder;
}

}  // namespace amlc::runtime
