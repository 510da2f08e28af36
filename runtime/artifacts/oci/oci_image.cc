#include "runtime/artifacts/oci/oci_image.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "base/digest.h"
#include "runtime/artifacts/oci/oci_layer.h"
#include "runtime/artifacts/oci/oci_layout.h"
#include "runtime/artifacts/snapshot/file_io.h"

// Implementation notes
//
// A build writes, in order: base layer blobs (hard links or copies), the
// app layers, the config, the manifest, and last index.json, so a reader of
// the index never meets a missing blob. Every file goes through a temporary
// file and a rename; a blob already present is never rewritten.
//
// Two flock'ed lock files in the layout keep concurrent writers (threads or
// processes) apart:
//   amlc-gc.lock     builds hold it shared from start to end; RemoveImage
//                    holds it exclusively, so garbage collection never
//                    deletes a blob that a build in progress has written or
//                    reused but not yet entered in the index;
//   amlc-index.lock  held exclusively for each read-modify-write of
//                    index.json and of the layer cache, so two builds never
//                    lose each other's entries.
// Layers are built outside the index lock, so builds of different images
// into one layout compress in parallel. A build also holds the base layout's
// gc lock shared while it reads the base (when it can create the lock file
// there: a read-only base layout is read without it).
//
// The app layers of one build that need building are built on up to one
// thread per core; each layer's bytes depend only on its LayerSpec, so the
// result does not depend on the scheduling, and progress lines are reported
// in layer order on the calling thread.
//
// The layer cache (amlc-layer-cache.json) maps a LayerSpec's cache_key to the
// layer built for it. An entry is trusted only while its blob exists with
// the recorded size; RemoveImage drops entries whose blob it deleted.

namespace amlc::runtime::image {

using nlohmann::json;

namespace {

constexpr char kEpoch[] = "1970-01-01T00:00:00Z";

Status NoSuchImage(const std::string& layout_dir, const std::string& ref, const json& index) {
  return Status(StatusCode::kNotFound, "the OCI image layout '" + layout_dir + "' has no image '" + ref +
                                           "' (its images: " + OciLayout::RefNames(index) + ")");
}

// The grammar of org.opencontainers.image.ref.name (image-layout spec):
//   ref       ::= component ("/" component)*
//   component ::= alphanum (separator alphanum)*
//   alphanum  ::= [A-Za-z0-9]+
//   separator ::= [-._:@+] | "--"
bool IsValidRefName(std::string_view ref) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  size_t i = 0;
  auto alphanum = [&] {
    size_t start = i;
    while (i < ref.size() && alnum(ref[i])) ++i;
    return i > start;
  };
  for (;;) {  // one component per turn
    if (!alphanum()) return false;
    while (i < ref.size() && ref[i] != '/') {
      if (ref.compare(i, 2, "--") == 0) {
        i += 2;
      } else if (std::string_view("-._:@+").find(ref[i]) != std::string_view::npos) {
        ++i;
      } else {
        return false;
      }
      if (!alphanum()) return false;
    }
    if (i == ref.size()) return true;
    ++i;  // the '/'
  }
}

Status CheckRefName(const std::string& ref, const std::string& what) {
  if (IsValidRefName(ref)) return Status::Ok();
  return Status(StatusCode::kInvalidArgument,
                "invalid " + what + " '" + ref +
                    "': use letters and digits separated by one of - . _ : @ + (or --), with '/' "
                    "between components, e.g. 'iris-image:3'");
}

std::string EnvKey(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// A JSON array of strings, or nullopt when `value` is not one.
std::optional<std::vector<std::string>> Strings(const json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<std::string> strings;
  for (const json& item : value) {
    if (!item.is_string()) return std::nullopt;
    strings.push_back(item.get<std::string>());
  }
  return strings;
}

// ---------------------------------------------------------------- base image

struct BaseImage {
  std::string manifest_digest;
  std::vector<Descriptor> layers;
  std::vector<std::string> diff_ids;
  json config;  // the whole config document
};

bool IsManifestType(const std::string& type) {
  return type == kManifestMediaType || type == kDockerManifestMediaType;
}
bool IsIndexType(const std::string& type) {
  return type == kIndexMediaType || type == kDockerManifestListMediaType;
}

// Reads a JSON blob (manifest, index, config) of `layout`.
StatusOr<json> ReadJsonBlob(const OciLayout& layout, const std::string& digest,
                            const std::string& what) {
  StatusOr<std::string> text = layout.ReadBlob(digest);
  if (!text.ok()) return text.status();
  StatusOr<json> value = ParseJson(*text, what);
  if (!value.ok()) return value.status();
  if (!value->is_object()) {
    return Status(StatusCode::kInvalidArgument, what + " is not a JSON object");
  }
  return value;
}

// The linux/amd64 manifest of a multi-platform image index.
StatusOr<Descriptor> PickPlatform(const OciLayout& layout, const Descriptor& index_descriptor,
                                  const std::string& where) {
  std::string what = where + ": image index " + index_descriptor.digest;
  StatusOr<json> index = ReadJsonBlob(layout, index_descriptor.digest, what);
  if (!index.ok()) return index.status();
  for (const json& entry : IndexEntries(*index)) {
    auto platform = entry.is_object() ? entry.find("platform") : entry.end();
    if (platform == entry.end() || !platform->is_object()) continue;
    if (platform->value("os", "") == "linux" && platform->value("architecture", "") == "amd64") {
      return ParseDescriptor(entry, what + ", its linux/amd64 entry");
    }
  }
  return Status(StatusCode::kNotFound, what + " has no linux/amd64 image");
}

StatusOr<BaseImage> LoadBase(const std::string& layout_dir, const std::string& ref) {
  OciLayout layout(layout_dir);
  Status exists = layout.CheckExists("base image layout");
  if (!exists.ok()) return exists;
  StatusOr<json> index = layout.ReadIndex();
  if (!index.ok()) return index.status();
  const json* entry = OciLayout::FindRef(*index, ref);
  std::string where = "base image '" + ref + "' in '" + layout_dir + "'";
  if (entry == nullptr) {
    return Status(StatusCode::kNotFound, "the base image layout '" + layout_dir +
                                             "' has no image '" + ref +
                                             "' (its images: " + OciLayout::RefNames(*index) + ")");
  }
  StatusOr<Descriptor> manifest_descriptor = ParseDescriptor(*entry, where + ": its index entry");
  if (!manifest_descriptor.ok()) return manifest_descriptor.status();
  if (IsIndexType(manifest_descriptor->media_type)) {
    manifest_descriptor = PickPlatform(layout, *manifest_descriptor, where);
    if (!manifest_descriptor.ok()) return manifest_descriptor.status();
  }
  if (!IsManifestType(manifest_descriptor->media_type)) {
    return Status(StatusCode::kInvalidArgument,
                  where + " is a '" + manifest_descriptor->media_type + "', not an image manifest");
  }
  BaseImage base;
  base.manifest_digest = manifest_descriptor->digest;
  std::string what = where + ": manifest " + base.manifest_digest;
  StatusOr<json> manifest = ReadJsonBlob(layout, base.manifest_digest, what);
  if (!manifest.ok()) return manifest.status();
  auto config_field = manifest->find("config");
  if (config_field == manifest->end()) {
    return Status(StatusCode::kInvalidArgument, what + " is malformed: it has no 'config'");
  }
  StatusOr<Descriptor> config_descriptor = ParseDescriptor(*config_field, what + ", its config");
  if (!config_descriptor.ok()) return config_descriptor.status();
  auto layers_field = manifest->find("layers");
  if (layers_field == manifest->end() || !layers_field->is_array()) {
    return Status(StatusCode::kInvalidArgument, what + " is malformed: it has no 'layers' array");
  }
  for (size_t i = 0; i < layers_field->size(); ++i) {
    StatusOr<Descriptor> layer =
        ParseDescriptor((*layers_field)[i], what + ", its layer " + std::to_string(i + 1));
    if (!layer.ok()) return layer.status();
    // The same bytes under their OCI name, so the manifest is OCI throughout.
    if (layer->media_type == kDockerLayerMediaType) layer->media_type = kLayerMediaType;
    base.layers.push_back(*layer);
  }
  std::string config_what = where + ": config " + config_descriptor->digest;
  StatusOr<json> config = ReadJsonBlob(layout, config_descriptor->digest, config_what);
  if (!config.ok()) return config.status();
  auto rootfs = config->find("rootfs");
  std::optional<std::vector<std::string>> diff_ids;
  if (rootfs != config->end() && rootfs->is_object() && rootfs->contains("diff_ids")) {
    diff_ids = Strings((*rootfs)["diff_ids"]);
  }
  if (!diff_ids || diff_ids->size() != base.layers.size() ||
      !std::all_of(diff_ids->begin(), diff_ids->end(),
                   [](const std::string& id) { return IsSha256Digest(id); })) {
    return Status(StatusCode::kInvalidArgument,
                  config_what +
                      " is malformed: rootfs.diff_ids must list one sha256 digest per "
                      "layer of the manifest (" +
                      std::to_string(base.layers.size()) + ")");
  }
  base.diff_ids = std::move(*diff_ids);
  base.config = std::move(*config);
  return base;
}

// ------------------------------------------------------------------- config

// The image config: the base's runtime settings with the request's applied.
// Env entries replace the base's entry of the same KEY; a request that sets
// an entrypoint but no cmd drops the base's cmd (as a Dockerfile ENTRYPOINT
// does: a base cmd was written as arguments for the base's entrypoint).
StatusOr<json> MakeConfig(const BaseImage* base, const ImageConfig& request,
                          const std::vector<std::string>& diff_ids,
                          const std::vector<LayerSpec>& specs) {
  json runtime = json::object();
  json document = json::object();
  document["architecture"] = "amd64";
  document["os"] = "linux";
  json history = json::array();
  if (base != nullptr) {
    for (const char* key : {"architecture", "os", "variant", "os.version", "os.features"}) {
      auto field = base->config.find(key);
      if (field != base->config.end()) document[key] = *field;
    }
    auto base_runtime = base->config.find("config");
    if (base_runtime != base->config.end() && base_runtime->is_object()) runtime = *base_runtime;
    auto base_history = base->config.find("history");
    if (base_history != base->config.end() && base_history->is_array()) history = *base_history;
  }
  std::vector<std::string> env;
  if (runtime.contains("Env")) env = Strings(runtime["Env"]).value_or(std::vector<std::string>{});
  for (const std::string& entry : request.env) {
    std::string key = EnvKey(entry);
    if (key.empty() || key.size() == entry.size()) {
      return Status(StatusCode::kInvalidArgument,
                    "invalid env entry '" + entry + "': write it as KEY=value");
    }
    auto same = std::find_if(env.begin(), env.end(),
                             [&](const std::string& e) { return EnvKey(e) == key; });
    if (same != env.end()) {
      *same = entry;
    } else {
      env.push_back(entry);
    }
  }
  if (!env.empty()) runtime["Env"] = env;
  if (!request.entrypoint.empty()) {
    runtime["Entrypoint"] = request.entrypoint;
    if (request.cmd.empty()) runtime.erase("Cmd");
  }
  if (!request.cmd.empty()) runtime["Cmd"] = request.cmd;
  if (!request.working_dir.empty()) runtime["WorkingDir"] = request.working_dir;
  if (!request.labels.empty()) {
    if (!runtime.contains("Labels") || !runtime["Labels"].is_object()) {
      runtime["Labels"] = json::object();
    }
    for (const auto& [key, value] : request.labels) runtime["Labels"][key] = value;
  }
  if (!request.exposed_ports.empty()) {
    if (!runtime.contains("ExposedPorts") || !runtime["ExposedPorts"].is_object()) {
      runtime["ExposedPorts"] = json::object();
    }
    for (const std::string& port : request.exposed_ports) {
      size_t slash = port.find('/');
      std::string number = port.substr(0, slash);
      std::string protocol = slash == std::string::npos ? "tcp" : port.substr(slash + 1);
      bool digits =
          !number.empty() && number.size() <= 5 &&
          std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits || std::stoi(number) < 1 || std::stoi(number) > 65535 ||
          (protocol != "tcp" && protocol != "udp" && protocol != "sctp")) {
        return Status(StatusCode::kInvalidArgument, "invalid exposed port '" + port +
                                                        "': write it as PORT or PORT/tcp, "
                                                        "PORT/udp, PORT/sctp, e.g. '5001/tcp'");
      }
      runtime["ExposedPorts"][number + "/" + protocol] = json::object();
    }
  }
  for (const LayerSpec& spec : specs) {
    history.push_back({{"created", kEpoch}, {"created_by", spec.description}});
  }
  document["created"] = kEpoch;
  document["config"] = std::move(runtime);
  document["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  document["history"] = std::move(history);
  return document;
}

// ------------------------------------------------------------------- layers

// One app layer's outcome: what BuildResult reports and what the progress
// line says about it.
struct LayerOutcome {
  BuiltLayer layer;
  std::string how;
  Status status;
};

std::string Seconds(std::chrono::steady_clock::time_point start) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return text;
}

// The progress of a build: lines "layer 2/5 DESCRIPTION: 1.2 MB, HOW", and
// the bytes each layer reads as it is written (labelled "layer 2/5 DESCRIPTION").
class BuildProgress {
 public:
  BuildProgress(const ProgressSink& progress, size_t total) : progress_(progress), total_(total) {}

  void Say(const std::string& line) const { progress_(line); }
  std::string LayerLabel(size_t position, const std::string& description) const {
    return "layer " + std::to_string(position + 1) + "/" + std::to_string(total_) + " " + description;
  }
  void Layer(size_t position, const std::string& description, uint64_t size, const std::string& how) const {
    Say(LayerLabel(position, description) + ": " + FormatBytes(size) + ", " + how);
  }
  const ByteSink& bytes() const { return progress_.bytes(); }
  size_t total() const { return total_; }

 private:
  const ProgressSink& progress_;
  size_t total_;
};

// Builds one layer; its source bytes go to `progress` as the layer at `position`.
LayerOutcome BuildOne(const OciLayout& layout, const LayerSpec& spec, const BuildProgress& progress,
                      size_t position) {
  LayerOutcome outcome;
  auto start = std::chrono::steady_clock::now();
  StatusOr<LayerBlob> blob = Status(StatusCode::kInternal, "");
  try {  // on a worker thread: nothing may escape
    std::optional<uint64_t> total;
    if (progress.bytes()) total = LayerSourceBytes(spec);
    ByteReporter bytes(progress.bytes(), progress.LayerLabel(position, spec.description), total);
    blob = WriteLayer(layout, spec, &bytes);
    if (blob.ok()) bytes.Finish();
  } catch (const std::exception& error) {
    blob = Status(StatusCode::kInternal,
                  "cannot build layer '" + spec.description + "': " + error.what());
  }
  if (!blob.ok()) {
    outcome.status = blob.status();
    return outcome;
  }
  outcome.layer = BuiltLayer{blob->digest, blob->diff_id, blob->size, blob->existed};
  outcome.how = (blob->existed ? "reused (same contents already in the layout; " : "built (") +
                std::to_string(spec.files.size()) + " files, " + FormatBytes(blob->tar_size) +
                " uncompressed, " + Seconds(start) + ")";
  return outcome;
}

// Builds the layers `todo` (indexes into `specs`, layer `first_position + i`
// of the image), on up to as many threads as there are cores (at most 4);
// `done(i)` is called on the calling thread as each one finishes, so status
// lines come from one thread (byte reports come from the building threads).
void BuildLayers(const OciLayout& layout, const std::vector<LayerSpec>& specs,
                 const std::vector<size_t>& todo, std::vector<LayerOutcome>* outcomes,
                 const BuildProgress& progress, size_t first_position,
                 const std::function<void(size_t)>& done) {
  size_t threads = std::min<size_t>({todo.size(), std::thread::hardware_concurrency(), 4});
  if (threads <= 1) {
    for (size_t i : todo) {
      (*outcomes)[i] = BuildOne(layout, specs[i], progress, first_position + i);
      done(i);
    }
    return;
  }
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<size_t> finished;
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t k = next++; k < todo.size(); k = next++) {
        LayerOutcome outcome = BuildOne(layout, specs[todo[k]], progress, first_position + todo[k]);
        std::lock_guard<std::mutex> lock(mutex);
        (*outcomes)[todo[k]] = std::move(outcome);
        finished.push_back(todo[k]);
        changed.notify_one();
      }
    });
  }
  std::exception_ptr failure;  // from `done`: rethrown once the threads are joined
  for (size_t reported = 0; reported < todo.size(); ++reported) {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return !finished.empty(); });
    size_t i = finished.front();
    finished.pop_front();
    lock.unlock();
    if (failure) continue;
    try {
      done(i);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  for (std::thread& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

// ------------------------------------------------------------------- build

// Everything about a request that can be checked before any work: bad env
// entries and ports too, before any layer is built.
Status CheckRequest(const BuildRequest& request) {
  if (request.layout_dir.empty()) {
    return Status(StatusCode::kInvalidArgument, "no OCI image layout folder given");
  }
  Status valid = CheckRefName(request.ref_name, "image ref name");
  if (!valid.ok()) return valid;
  if (request.base_layout.empty() != request.base_ref.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "a base image needs both a layout folder and a ref name (got layout '" +
                      request.base_layout + "' and ref '" + request.base_ref + "')");
  }
  for (const LayerSpec& spec : request.layers) {
    Status files = CheckLayerFiles(spec);
    if (!files.ok()) return files;
  }
  StatusOr<json> checked = MakeConfig(nullptr, request.config, {}, {});
  return checked.ok() ? Status::Ok() : checked.status();
}

// The base image (none when the request names none) and the lock that
// keeps a RemoveImage on the base layout from deleting the blobs being read,
// held until the build ends; a read-only base layout (no lock file can be
// made) goes without.
struct Base {
  std::optional<BaseImage> image;
  LayoutLock gc_lock;
};

StatusOr<Base> OpenBase(const BuildRequest& request) {
  Base base;
  if (request.base_layout.empty()) return base;
  Status exists = OciLayout(request.base_layout).CheckExists("base image layout");
  if (!exists.ok()) return exists;
  StatusOr<LayoutLock> locked = LayoutLock::Acquire(request.base_layout, kGcLockFile, false);
  if (locked.ok()) base.gc_lock = std::move(*locked);
  StatusOr<BaseImage> loaded = LoadBase(request.base_layout, request.base_ref);
  if (!loaded.ok()) return loaded.status();
  base.image = std::move(*loaded);
  return base;
}

// Creates the layout if needed and returns its gc lock, held shared for the
// build; a damaged index fails here, before any work.
StatusOr<LayoutLock> OpenLayout(OciLayout& layout) {
  Status created = layout.Create();
  if (!created.ok()) return created;
  StatusOr<LayoutLock> gc_lock = LayoutLock::Acquire(layout.dir(), kGcLockFile, false);
  if (!gc_lock.ok()) return gc_lock.status();
  StatusOr<json> readable = layout.ReadIndex();
  if (!readable.ok()) return readable.status();
  return gc_lock;
}

// The image's layers so far, in order, in the three forms a build needs:
// the result's, the manifest's and the config's (diff_ids).
struct ImageLayers {
  std::vector<BuiltLayer> built;
  std::vector<Descriptor> descriptors;
  std::vector<std::string> diff_ids;

  void Add(const BuiltLayer& layer, const Descriptor& descriptor) {
    built.push_back(layer);
    descriptors.push_back(descriptor);
    diff_ids.push_back(layer.diff_id);
  }
};

// Links or copies the base image's layer blobs into `layout`.
Status ImportBaseLayers(const OciLayout& layout, const BuildRequest& request, const BaseImage& base,
                        const BuildProgress& progress, ImageLayers& layers) {
  OciLayout from(request.base_layout);
  for (size_t i = 0; i < base.layers.size(); ++i) {
    const Descriptor& layer = base.layers[i];
    Status imported = layout.ImportBlob(from, layer);
    if (!imported.ok()) {
      return Status(imported.code(), "base image '" + request.base_ref + "' in '" + request.base_layout +
                                         "': " + imported.message());
    }
    layers.Add(BuiltLayer{layer.digest, base.diff_ids[i], layer.size, true}, layer);
    progress.Layer(i, "base " + request.base_ref, layer.size, "from the base image");
  }
  return Status::Ok();
}

// The app layers the layer cache already holds (its key known, its blob
// still there) are marked finished; the indexes of the others are returned.
std::vector<size_t> TakeCachedLayers(const OciLayout& layout, const BuildRequest& request,
                                     std::vector<LayerOutcome>& outcomes, std::vector<bool>& finished) {
  std::vector<size_t> todo;
  LayerCache cache = layout.ReadLayerCache();
  for (size_t i = 0; i < request.layers.size(); ++i) {
    const LayerSpec& spec = request.layers[i];
    auto hit = spec.cache_key.empty() ? cache.end() : cache.find(spec.cache_key);
    if (hit != cache.end() && layout.HasBlob(hit->second.digest, hit->second.size)) {
      outcomes[i].layer = BuiltLayer{hit->second.digest, hit->second.diff_id, hit->second.size, true};
      outcomes[i].how = "reused (layer cache)";
      finished[i] = true;
    } else {
      todo.push_back(i);
    }
  }
  return todo;
}

// App layers: from the layer cache, else built (several at once when there
// are cores to spare). Progress lines come in layer order whatever order the
// builds finish in. The outcomes of every layer, or the first failed one's
// status.
StatusOr<std::vector<LayerOutcome>> MakeAppLayers(const OciLayout& layout, const BuildRequest& request,
                                                  size_t first_position, const BuildProgress& progress) {
  std::vector<LayerOutcome> outcomes(request.layers.size());
  std::vector<bool> finished(request.layers.size(), false);
  size_t reported = 0;
  auto report = [&] {
    for (; reported < outcomes.size() && finished[reported]; ++reported) {
      const LayerOutcome& outcome = outcomes[reported];
      if (!outcome.status.ok()) {
        reported = outcomes.size();  // the build fails: the error says the rest
        break;
      }
      progress.Layer(first_position + reported, request.layers[reported].description, outcome.layer.size,
                     outcome.how);
    }
  };
  std::vector<size_t> todo = TakeCachedLayers(layout, request, outcomes, finished);
  report();
  BuildLayers(layout, request.layers, todo, &outcomes, progress, first_position, [&](size_t i) {
    finished[i] = true;
    report();
  });
  for (const LayerOutcome& outcome : outcomes) {
    if (!outcome.status.ok()) return outcome.status;
  }
  return outcomes;
}

// The two small blobs that make the layers an image.
struct ImageBlobs {
  Descriptor config;
  Descriptor manifest;
};

// Writes the config, then the manifest listing it and the layers.
StatusOr<ImageBlobs> WriteConfigAndManifest(const OciLayout& layout, const BuildRequest& request,
                                            const BaseImage* base, const ImageLayers& layers) {
  StatusOr<json> config = MakeConfig(base, request.config, layers.diff_ids, request.layers);
  if (!config.ok()) return config.status();
  StatusOr<std::string> config_text = CanonicalJson(*config, "the image config");
  if (!config_text.ok()) return config_text.status();
  ImageBlobs blobs;
  blobs.config = Descriptor{kConfigMediaType, "sha256:" + Sha256Hex(*config_text), config_text->size()};

  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kManifestMediaType},
                   {"config", DescriptorJson(blobs.config)},
                   {"layers", json::array()}};
  for (const Descriptor& layer : layers.descriptors) manifest["layers"].push_back(DescriptorJson(layer));
  if (base) manifest["annotations"] = {{kBaseDigestAnnotation, base->manifest_digest}};
  StatusOr<std::string> manifest_text = CanonicalJson(manifest, "the image manifest");
  if (!manifest_text.ok()) return manifest_text.status();
  blobs.manifest = Descriptor{kManifestMediaType, "sha256:" + Sha256Hex(*manifest_text), manifest_text->size()};

  StatusOr<bool> put = layout.PutBlob(blobs.config.digest, *config_text);
  if (!put.ok()) return put.status();
  put = layout.PutBlob(blobs.manifest.digest, *manifest_text);
  if (!put.ok()) return put.status();
  return blobs;
}

// Enters the app layers that have a cache key into `cache`; true when that
// changed it.
bool RememberLayers(const BuildRequest& request, const std::vector<LayerOutcome>& outcomes, LayerCache& cache) {
  bool changed = false;
  for (size_t i = 0; i < request.layers.size(); ++i) {
    const std::string& key = request.layers[i].cache_key;
    if (key.empty()) continue;
    const BuiltLayer& layer = outcomes[i].layer;
    CachedLayer entry{layer.digest, layer.diff_id, layer.size};
    auto it = cache.find(key);
    if (it == cache.end() || it->second.digest != entry.digest || it->second.diff_id != entry.diff_id ||
        it->second.size != entry.size) {
      cache[key] = entry;
      changed = true;
    }
  }
  return changed;
}

// Names the image in index.json and remembers its layers in the layer
// cache, in one hold of the index lock.
Status Publish(const OciLayout& layout, const BuildRequest& request, const Descriptor& manifest,
               const std::vector<LayerOutcome>& outcomes) {
  StatusOr<LayoutLock> index_lock = LayoutLock::Acquire(layout.dir(), kIndexLockFile, true);
  if (!index_lock.ok()) return index_lock.status();
  Status indexed = layout.SetIndexEntry(*index_lock, manifest, request.ref_name);
  if (!indexed.ok()) return indexed;
  LayerCache latest = layout.ReadLayerCache();
  if (!RememberLayers(request, outcomes, latest)) return Status::Ok();
  return layout.WriteLayerCache(latest);
}

StatusOr<BuildResult> Build(const BuildRequest& request, const ProgressSink& progress_lines) {
  Status checked = CheckRequest(request);
  if (!checked.ok()) return checked;
  StatusOr<Base> base = OpenBase(request);
  if (!base.ok()) return base.status();
  OciLayout layout(request.layout_dir);
  StatusOr<LayoutLock> gc_lock = OpenLayout(layout);
  if (!gc_lock.ok()) return gc_lock.status();

  const BaseImage* base_image = base->image ? &*base->image : nullptr;
  const size_t base_count = base_image ? base_image->layers.size() : 0;
  BuildProgress progress(progress_lines, base_count + request.layers.size());
  ImageLayers layers;
  if (base_image) {
    Status imported = ImportBaseLayers(layout, request, *base_image, progress, layers);
    if (!imported.ok()) return imported;
  }
  StatusOr<std::vector<LayerOutcome>> app = MakeAppLayers(layout, request, base_count, progress);
  if (!app.ok()) return app.status();
  for (const LayerOutcome& outcome : *app) {
    layers.Add(outcome.layer, Descriptor{kLayerMediaType, outcome.layer.digest, outcome.layer.size});
  }
  StatusOr<ImageBlobs> blobs = WriteConfigAndManifest(layout, request, base_image, layers);
  if (!blobs.ok()) return blobs.status();
  Status published = Publish(layout, request, blobs->manifest, *app);
  if (!published.ok()) return published;

  BuildResult result;
  result.manifest_digest = blobs->manifest.digest;
  result.config_digest = blobs->config.digest;
  result.size = blobs->manifest.size + blobs->config.size;
  for (const BuiltLayer& layer : layers.built) result.size += layer.size;
  result.layers = std::move(layers.built);
  progress.Say("image " + request.ref_name + ": " + result.manifest_digest + ", " + FormatBytes(result.size) +
               " in " + std::to_string(progress.total()) + " layers");
  return result;
}

// ---------------------------------------------------------------- remove/gc

// Adds every blob reachable from `descriptor` to `live`.
Status Mark(const OciLayout& layout, const Descriptor& descriptor, std::set<std::string>* live) {
  if (!live->insert(descriptor.digest).second) return Status::Ok();
  bool manifest = IsManifestType(descriptor.media_type);
  bool index = IsIndexType(descriptor.media_type);
  if (!manifest && !index) return Status::Ok();  // a config, a layer, or unknown: a leaf
  std::string what = "manifest " + descriptor.digest;
  StatusOr<json> document = ReadJsonBlob(layout, descriptor.digest, what);
  if (!document.ok()) return document.status();
  std::vector<json> children;
  if (manifest) {
    if (document->contains("config")) children.push_back((*document)["config"]);
    if (document->contains("layers") && (*document)["layers"].is_array()) {
      for (const json& layer : (*document)["layers"]) children.push_back(layer);
    }
  } else {
    for (const json& entry : IndexEntries(*document)) children.push_back(entry);
  }
  for (const json& child : children) {
    StatusOr<Descriptor> parsed = ParseDescriptor(child, "a descriptor in " + what);
    if (!parsed.ok()) return parsed.status();
    Status marked = Mark(layout, *parsed, live);
    if (!marked.ok()) return marked;
  }
  return Status::Ok();
}

bool IsHex64(const std::string& name) { return IsSha256Digest("sha256:" + name); }

Status Remove(const std::string& layout_dir, const std::string& ref_name) {
  OciLayout layout(layout_dir);
  Status exists = layout.CheckExists("OCI image layout");
  if (!exists.ok()) return exists;
  StatusOr<LayoutLock> gc_lock = LayoutLock::Acquire(layout.dir(), kGcLockFile, true);
  if (!gc_lock.ok()) return gc_lock.status();
  StatusOr<LayoutLock> index_lock = LayoutLock::Acquire(layout.dir(), kIndexLockFile, true);
  if (!index_lock.ok()) return index_lock.status();
  StatusOr<json> index = layout.ReadIndex();
  if (!index.ok()) return index.status();
  json remaining = json::array();
  for (const json& entry : IndexEntries(*index)) {
    if (RefNameOf(entry) != ref_name) remaining.push_back(entry);
  }
  if (remaining.size() == IndexEntries(*index).size()) {
    return NoSuchImage(layout_dir, ref_name, *index);
  }
  // Mark before changing anything: an unreadable manifest of another image
  // means its blobs are unknown, and deleting could destroy them.
  std::set<std::string> live;
  for (const json& entry : remaining) {
    StatusOr<Descriptor> descriptor =
        ParseDescriptor(entry, "an entry of '" + layout_dir + "/index.json'");
    Status marked = descriptor.ok() ? Mark(layout, *descriptor, &live) : descriptor.status();
    if (!marked.ok()) {
      return Status(marked.code(), "cannot remove '" + ref_name + "' from '" + layout_dir +
                                       "': garbage collection needs to read every other "
                                       "image, and " +
                                       marked.message());
    }
  }
  (*index)["manifests"] = std::move(remaining);
  Status written = layout.WriteIndex(std::move(*index));
  if (!written.ok()) return written;

  // Sweep: unreferenced blobs, and temporary files left by crashed writers
  // (no build is running: they all hold the gc lock shared).
  std::string folder = layout.BlobFolder();
  DIR* dir = opendir(folder.c_str());
  if (dir == nullptr) return snapshot::ErrnoStatus(errno, "cannot list", folder);
  std::vector<std::string> doomed;
  while (dirent* item = readdir(dir)) {
    std::string name = item->d_name;
    bool garbage =
        IsHex64(name) ? live.count("sha256:" + name) == 0 : name.find(".tmp-") != std::string::npos;
    if (garbage) doomed.push_back(folder + "/" + name);
  }
  closedir(dir);
  for (const std::string& path : doomed) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return snapshot::ErrnoStatus(errno, "cannot delete the unreferenced blob", path);
    }
  }
  LayerCache cache = layout.ReadLayerCache();
  size_t before = cache.size();
  std::erase_if(cache, [&](const auto& item) {
    return live.count(item.second.digest) == 0 ||
           !layout.HasBlob(item.second.digest, item.second.size);
  });
  if (cache.size() != before) return layout.WriteLayerCache(cache);
  return Status::Ok();
}

Status Tag(const std::string& layout_dir, const std::string& existing_ref,
           const std::string& new_ref) {
  Status valid = CheckRefName(new_ref, "image ref name");
  if (!valid.ok()) return valid;
  OciLayout layout(layout_dir);
  Status exists = layout.CheckExists("OCI image layout");
  if (!exists.ok()) return exists;
  StatusOr<LayoutLock> index_lock = LayoutLock::Acquire(layout.dir(), kIndexLockFile, true);
  if (!index_lock.ok()) return index_lock.status();
  StatusOr<json> index = layout.ReadIndex();
  if (!index.ok()) return index.status();
  const json* found = OciLayout::FindRef(*index, existing_ref);
  if (found == nullptr) {
    return NoSuchImage(layout_dir, existing_ref, *index);
  }
  if (existing_ref == new_ref) return Status::Ok();
  json tagged = *found;
  tagged["annotations"][kRefNameAnnotation] = new_ref;
  OciLayout::PutEntry(&*index, std::move(tagged));
  return layout.WriteIndex(std::move(*index));
}

StatusOr<std::string> Resolve(const std::string& layout_dir, const std::string& ref_name) {
  OciLayout layout(layout_dir);
  Status exists = layout.CheckExists("OCI image layout");
  if (!exists.ok()) return exists;
  StatusOr<json> index = layout.ReadIndex();
  if (!index.ok()) return index.status();
  const json* entry = OciLayout::FindRef(*index, ref_name);
  if (entry == nullptr) {
    return NoSuchImage(layout_dir, ref_name, *index);
  }
  StatusOr<Descriptor> descriptor =
      ParseDescriptor(*entry, "the entry '" + ref_name + "' of '" + layout_dir + "/index.json'");
  if (!descriptor.ok()) return descriptor.status();
  return descriptor->digest;
}

Status Unexpected(const std::string& action, const std::exception& error) {
  return Status(StatusCode::kInternal, action + ": unexpected error: " + error.what());
}

}  // namespace

StatusOr<BuildResult> BuildImage(const BuildRequest& request, const ProgressSink& progress) {
  try {
    return Build(request, progress);
  } catch (const std::exception& error) {
    return Unexpected(
        "cannot build image '" + request.ref_name + "' in '" + request.layout_dir + "'", error);
  }
}

Status RemoveImage(const std::string& layout_dir, const std::string& ref_name) {
  try {
    return Remove(layout_dir, ref_name);
  } catch (const std::exception& error) {
    return Unexpected("cannot remove image '" + ref_name + "' from '" + layout_dir + "'", error);
  }
}

Status TagImage(const std::string& layout_dir, const std::string& existing_ref,
                const std::string& new_ref) {
  try {
    return Tag(layout_dir, existing_ref, new_ref);
  } catch (const std::exception& error) {
    return Unexpected(
        "cannot tag image '" + existing_ref + "' as '" + new_ref + "' in '" + layout_dir + "'",
        error);
  }
}

StatusOr<std::string> ResolveRef(const std::string& layout_dir, const std::string& ref_name) {
  try {
    return Resolve(layout_dir, ref_name);
  } catch (const std::exception& error) {
    return Unexpected("cannot resolve '" + ref_name + "' in '" + layout_dir + "'", error);
  }
}

}  // namespace amlc::runtime::image
