#ifndef AMLC_RUNTIME_ARTIFACTS_REMOTE_URL_MIRROR_H_
#define AMLC_RUNTIME_ARTIFACTS_REMOTE_URL_MIRROR_H_

// A mirror for inputs given by URL, for machines that cannot reach where the
// specs point (offline or air-gapped sites, tests): $AMLC_URL_MIRROR holds
// FROM=TO pairs separated by spaces, newlines or ';'. A URL that starts with
// FROM is fetched from TO followed by the rest of the URL; the longest FROM
// wins. The spec keeps its URL: the cache is indexed by it, plans show it,
// and the run key takes the content's digest, which a faithful mirror does
// not change. FROM may be any scheme, Azure storage included, e.g.
//
//   AMLC_URL_MIRROR='https://azuremlexamples.blob.core.windows.net/=https://mirror.corp/azml/
//                    wasbs://datasets@azuremlexamples.blob.core.windows.net/=https://mirror.corp/azml/datasets/'

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace amlc::runtime {

class UrlMirror {
 public:
  /// Parses FROM=TO pairs; kInvalidArgument naming the entry that has no '=',
  /// an empty side, or a TO that is not an http(s):// URL.
  static StatusOr<UrlMirror> Parse(const std::string& text);
  /// The mirror $AMLC_URL_MIRROR describes (none when it is unset or empty).
  static StatusOr<UrlMirror> FromEnvironment();

  /// Where to fetch `url` from: the TO of the longest FROM it starts with, or `url` itself.
  std::string Rewrite(const std::string& url) const;

 private:
  std::vector<std::pair<std::string, std::string>> prefixes_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ARTIFACTS_REMOTE_URL_MIRROR_H_
