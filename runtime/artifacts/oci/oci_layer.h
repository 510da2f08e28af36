#ifndef AMLC_RUNTIME_ARTIFACTS_OCI_OCI_LAYER_H_
#define AMLC_RUNTIME_ARTIFACTS_OCI_OCI_LAYER_H_

// Private to runtime/image: one image layer, a reproducible gzip'd tar
// written with libarchive straight into an OCI layout's blobs.

#include <cstdint>
#include <string>

#include "base/byte_progress.h"
#include "base/status.h"
#include "runtime/artifacts/oci/oci_image.h"
#include "runtime/artifacts/oci/oci_layout.h"

namespace amlc::runtime::image {

/// What WriteLayer produced.
struct LayerBlob {
  std::string digest;     // "sha256:<hex>" of the gzip'd tar
  std::string diff_id;    // "sha256:<hex>" of the tar
  uint64_t size = 0;      // gzip'd bytes
  uint64_t tar_size = 0;  // tar bytes
  bool existed = false;   // the layout had the blob already: it was left as it was
};

/// Checks the image paths of a layer before anything is read or written:
/// relative, '/'-separated, UTF-8, no empty, "." or ".." component, no
/// duplicates and no file inside another file. kInvalidArgument naming the
/// layer and the path.
Status CheckLayerFiles(const LayerSpec& spec);

/// Writes the layer's tar.gz into `layout` (a temporary file renamed to its
/// digest; dropped when the layout has that blob already). Every source file
/// is read once: the tar bytes are hashed (diff_id) on their way to the gzip
/// writer, the gzip bytes on their way to the file.
///
/// The tar is reproducible: parent folders (0755) before their files, paths
/// in byte order, uid/gid 0 with no user or group names, mtime 0, no atime
/// or ctime, ustar headers (pax extended headers only for what ustar cannot
/// hold: paths over 255 bytes, non-ASCII paths, files of 8 GiB or more),
/// UTF-8 names whatever the process locale, no padding after the two end
/// blocks. The gzip header has no time stamp and no file name; the deflate
/// stream is zlib's at level 6, so the blob digest is stable for a given
/// zlib (the diff_id does not depend on zlib at all).
///
/// `bytes`, when given, hears the source bytes as they are read (its total:
/// LayerSourceBytes).
StatusOr<LayerBlob> WriteLayer(const OciLayout& layout, const LayerSpec& spec, ByteReporter* bytes = nullptr);

/// The bytes of the layer's source files (those that can be stat'ed): what
/// building it reads.
uint64_t LayerSourceBytes(const LayerSpec& spec);

}  // namespace amlc::runtime::image

#endif  // AMLC_RUNTIME_ARTIFACTS_OCI_OCI_LAYER_H_
