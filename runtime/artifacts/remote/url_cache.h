#ifndef AMLC_RUNTIME_ARTIFACTS_REMOTE_URL_CACHE_H_
#define AMLC_RUNTIME_ARTIFACTS_REMOTE_URL_CACHE_H_

// Job inputs given by URL (`type: uri_file` or `uri_folder` with an
// https:// path) are downloaded once into the workspace's URL cache and
// named by the SHA-256 of their bytes, which is what enters the run key.
// Each later plan revalidates the cached copy with the server
// (If-None-Match with its ETag, If-Modified-Since with its Last-Modified):
// 304 keeps it, 200 brings the new bytes (a new digest, so the job runs
// again). Plain http:// is accepted for loopback servers only (tests, a
// local mirror). Azure storage schemes (wasbs://, abfss://, ...) need Azure
// credentials amlc does not have, and are refused with what to do instead,
// unless $AMLC_URL_MIRROR maps them to an http(s) mirror (url_mirror.h).
// cpp-httplib stays behind this header.

#include <string>

#include "base/status.h"

namespace amlc::runtime {

/// Whether `path` is a URL an input may be fetched from: true for http://
/// and https:// (and for Azure storage schemes, which FetchUrl refuses).
bool IsFetchableUrl(const std::string& path);

/// Ok for https:// and http:// to a loopback host; kInvalidArgument saying
/// what to do for wasbs://, abfss:// and other Azure storage schemes, for
/// plain http:// elsewhere, and for a malformed URL.
Status CheckInputUrl(const std::string& url);

struct FetchedUrl {
  std::string file;    // the cached bytes, read-only in the cache
  std::string digest;  // sha256 hex of them
  bool downloaded = false;  // false: the cached copy was still current (304) or the server unreachable
};

/// The bytes at `url`, through the cache under `cache_dir` (downloaded the
/// first time, revalidated later), fetched from $AMLC_URL_MIRROR's mirror
/// of `url` when it has one. When the server cannot be reached and a
/// copy is cached, that copy is used. kUnavailable when it cannot be
/// reached and nothing is cached, kNotFound / kFailedPrecondition for an
/// HTTP error status, naming the URL (without a password) and the status.
StatusOr<FetchedUrl> FetchUrl(const std::string& cache_dir, const std::string& url);

/// A folder holding the fetched file under its URL's base name, for
/// `uri_folder` inputs (made once per digest under `cache_dir`).
StatusOr<std::string> FolderOf(const std::string& cache_dir, const std::string& url, const FetchedUrl& fetched);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ARTIFACTS_REMOTE_URL_CACHE_H_
