#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_ZIP_EXPORT_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_ZIP_EXPORT_H_

#include <string>

#include "base/status.h"
#include "runtime/artifacts/snapshot/blob_store.h"
#include "runtime/artifacts/snapshot/snapshot_store.h"

namespace amlc::runtime::snapshot {

/// Writes `snapshot` as a zip file (libarchive, deflate) at `zip_path`,
/// atomically. Entries follow the snapshot's path order and carry a fixed
/// timestamp (1980-01-01, the zip epoch) and modes 0755/0644, so one tree
/// always gives the same bytes. Blob contents are checked on the way
/// (BlobStore::Read).
Status WriteZip(const Snapshot& snapshot, const BlobStore& blobs, const std::string& zip_path);

}  // namespace amlc::runtime::snapshot

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_ZIP_EXPORT_H_
