#include "index/library.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "engine/errors.h"

namespace celtrace::index {
namespace {

namespace fs = std::filesystem;
constexpr const char* kHashFactory = "BFlat";
// Local features are compared by canvas place (index/local_grid.h), never through FAISS's search,
// so nothing is trained (a binary inverted file's lists took 20-60 s of a 3.4-hour library's
// `index add`). Version 3 libraries hold them in a FAISS index ("BFlat", or "BIVF<n>" before
// that) and move to the grid file on their next change.
constexpr const char* kLocalFactory = "grid32";
// Frames' PDQ is Meta's vPDQ of the whole frame (FingerprintOptions::whole_frame_pdq).
constexpr const char* kWholeFramePdq = "vpdq-whole-frame";
constexpr int kSharedNeighbours = 8;
// nearest_frames: frames of a reference are numbered in time order, so a hit's neighbours in its
// shot are the ids next to it; 2 at 2 samples a second reach a second either way.
constexpr std::int64_t kShotNeighbours = 2;
// Hits of a query sample whose neighbours are scored: its own shot leads them when it is found at
// all; four also cover a hold or a repeat found first elsewhere (not tuned: at 1,000 hours every
// positive of the benchmark's query was returned with 4).
constexpr int kExpandedHits = 4;

std::string catalog_path(const std::string& directory) {
  return (fs::path(directory) / "catalog.sqlite").string();
}
std::string model_path(const std::string& directory) {
  return (fs::path(directory) / "model.ctm").string();
}

// `path`, opened and held open until the last copy is released: read later through
// /proc/self/fd, it is this generation's file even after a writer has deleted its name.
std::shared_ptr<const int> hold_open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  return std::shared_ptr<const int>(new int(fd), [](const int* f) {
    ::close(*f);
    delete f;
  });
}

}  // namespace

bool is_informative(const engine::Sample& sample) {
  return sample.detail >= kMinFrameDetail ||
         (!sample.local_features.empty() && sample.foreground_share >= 1);
}

std::vector<const engine::Sample*> whole_picture_samples(const engine::Fingerprint& query,
                                                         bool& faint) {
  std::vector<const engine::Sample*> searched;
  for (const engine::Sample& s : query.samples) {
    if (is_informative(s)) searched.push_back(&s);
  }
  faint = searched.empty();
  if (!faint) return searched;
  for (const engine::Sample& s : query.samples) {
    if (s.detail >= kFaintDetail && s.foreground_share >= 1) searched.push_back(&s);
  }
  faint = !searched.empty();
  return searched;
}

engine::FingerprintOptions reference_fingerprint_options(const engine::DecodeOptions& decode) {
  engine::FingerprintOptions options;
  options.decode = decode;
  options.local_features = engine::LocalFeatureUse::kKeyFrames;
  // One whole-frame PDQ a second (Meta's default rate; every sample's would add 40-60% to the CPU
  // of index add on 640x360 to 1280x720 H.264).
  options.whole_frame_pdq_interval = 1.0;
  return options;
}

Library::Library(std::string directory, std::unique_ptr<Catalog> catalog,
                 engine::ProjectionModel model)
    : directory_(std::move(directory)), catalog_(std::move(catalog)), model_(std::move(model)) {}

Library Library::open(const std::string& directory) {
  if (!fs::exists(catalog_path(directory)))
    throw Error(directory + ": not a celtrace library (no catalog.sqlite)");
  auto catalog = std::make_unique<Catalog>(catalog_path(directory));
  const auto version = catalog->meta("format_version");
  if (!version) throw FormatError(directory + ": catalog has no format version (damaged library?)");
  if (*version != std::to_string(kLibraryFormatVersion) && *version != "3") {
    throw FormatError(directory + ": library format version " + *version +
                      ", this celtrace reads versions 3 and " +
                      std::to_string(kLibraryFormatVersion) +
                      " (index its references again into a new library)");
  }
  engine::ProjectionModel model = engine::ProjectionModel::load(model_path(directory));
  if (model.id != catalog->meta("model_id").value_or("")) {
    throw FormatError(directory + ": model.ctm does not match the catalog's model ID");
  }
  Library library(directory, std::move(catalog), std::move(model));
  library.load();
  return library;
}

Library Library::open_or_create(const std::string& directory,
                                const engine::ProjectionModel& model) {
  if (fs::exists(catalog_path(directory))) {
    Library library = open(directory);
    if (library.model_.id != model.id) {
      throw UsageError(directory + ": library was built with model " + library.model_.id +
                       ", not " + model.id + " (pass --model " + library.model_.id +
                       ", or start a new library)");
    }
    return library;
  }
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw Error(directory + ": cannot create library directory (" + error.message() + ")");
  model.save(model_path(directory));
  auto catalog = std::make_unique<Catalog>(catalog_path(directory));
  {
    Transaction transaction(*catalog);
    catalog->set_meta("format_version", std::to_string(kLibraryFormatVersion));
    catalog->set_meta("model_id", model.id);
    catalog->set_meta("descriptor_size", std::to_string(model.output_size));
    catalog->set_meta("descriptor_factory", "Flat");
    catalog->set_meta("hash_factory", kHashFactory);
    catalog->set_meta("local_factory", kLocalFactory);
    catalog->set_meta("generation", "0");
    catalog->set_meta("pdq", kWholeFramePdq);
    transaction.commit();
  }
  Library library(directory, std::move(catalog), model);
  library.load();
  return library;
}

std::string Library::index_path(const char* kind, std::int64_t generation) const {
  return (fs::path(directory_) / (std::string(kind) + "-" + std::to_string(generation) + ".faiss"))
      .string();
}

std::string Library::grid_path(std::int64_t generation) const {
  return (fs::path(directory_) / ("local-" + std::to_string(generation) + ".grid")).string();
}

bool Library::has_whole_frame_pdq() const {
  return catalog_->meta("pdq").value_or("") == kWholeFramePdq;
}

std::int64_t Library::stored_generation() const {
  const std::string text = catalog_->meta("generation").value_or("0");
  try {
    std::size_t used = 0;
    const std::int64_t generation = std::stoll(text, &used);
    if (used == text.size() && generation >= 0) return generation;
  } catch (const std::exception&) {
  }
  throw FormatError(directory_ + ": catalog names index generation '" + text +
                    "' (damaged library)");
}

void Library::load() {
  // The catalog's rows and the index files they name, read as one state: a writer's next
  // generation commits, and the old one is deleted, only after this.
  const sql::ReadTransaction snapshot(catalog_->database());
  load_state();
}

void Library::load_if_changed() {
  if (stored_generation() != loaded_generation_) load_state();
}

void Library::load_state() {
  references_ = catalog_->references();
  frames_.clear();
  std::size_t frame_count = 0;
  for (const ReferenceRecord& r : references_)
    frame_count += static_cast<std::size_t>(r.frame_count);
  frames_.reserve(frame_count);
  catalog_->for_each_frame(false, [&](const FrameRecord& f) {
    if (!engine::plausible_seconds(f.pts_seconds))
      throw FormatError(directory_ + ": a frame at " + std::to_string(f.pts_seconds) +
                        " s (damaged library)");
    frames_.push_back({f.reference_id, static_cast<float>(f.pts_seconds), f.shared});
  });
  const std::int64_t generation = stored_generation();
  loaded_generation_ = generation;
  const std::string descriptor_factory = catalog_->meta("descriptor_factory").value_or("Flat");
  if (generation == 0) {
    descriptors_ = DescriptorIndex::build(descriptor_factory, model_.output_size, nullptr, 0);
    hash_file_.reset();
  } else {
    const auto frames = static_cast<std::int64_t>(frames_.size());
    descriptors_ = DescriptorIndex::load(index_path("descriptors", generation), descriptor_factory,
                                         model_.output_size, frames, Loading::kMapped);
    hash_file_ = hold_open(index_path("hashes", generation));
  }
  hashes_.reset();
  local_factory_ = catalog_->meta("local_factory").value_or(kLocalFactory);
  version_3_positions_.clear();
  version_3_file_.reset();
  local_features_.reset();
  if (generation == 0) {
    local_features_ = std::make_unique<LocalFeatureGrid>();
  } else if (local_factory_ == kLocalFactory) {
    const std::string path = grid_path(generation);
    const std::shared_ptr<const int> file = hold_open(path);  // mapped, the mapping outlives it
    const std::string count = catalog_->meta("local_features").value_or("");
    try {
      local_features_ =
          std::make_unique<LocalFeatureGrid>(LocalFeatureGrid::map(*file, path, std::stoll(count)));
    } catch (const std::logic_error&) {  // std::stoll's
      throw FormatError(directory_ + ": catalog counts '" + count +
                        "' local features (damaged library)");
    }
  } else {
    // The positions now, as one state with the rows; the codes on first use, from the file held.
    version_3_positions_.reserve(static_cast<std::size_t>(catalog_->local_feature_count()));
    catalog_->for_each_key_frame([&](const FrameRecord& f) {
      if (f.id < 0 || f.id >= static_cast<std::int64_t>(frames_.size()))
        throw FormatError(directory_ + ": local features of an unknown frame (damaged library)");
      for (const engine::LocalFeature& l : f.local_features)
        version_3_positions_.push_back({f.id, l.x, l.y});
    });
    const std::string path = index_path("local", generation);
    version_3_file_ = hold_open(path);
    check_exact_header(path, 256, static_cast<std::int64_t>(version_3_positions_.size()));
  }
  if (descriptors_->size() != static_cast<std::int64_t>(frames_.size())) {
    throw FormatError(directory_ + ": indexes hold " + std::to_string(descriptors_->size()) +
                      " frames, the catalog " + std::to_string(frames_.size()) +
                      " (damaged library)");
  }
}

std::vector<Neighbour> Library::nearest_frames(const float* queries, std::int64_t count,
                                               int k) const {
  std::vector<Neighbour> hits = descriptors_->search(queries, count, k);
  if (descriptors_->exact() || k <= 0) return hits;
  const auto dimension = static_cast<std::size_t>(model_.output_size);
  const auto frame_count = static_cast<std::int64_t>(frames_.size());
  // The frames around each query's best hits that it did not return: (query, frame id).
  std::vector<std::pair<std::int64_t, std::int64_t>> around;
  for (std::int64_t q = 0; q < count; ++q) {
    const Neighbour* row = hits.data() + q * k;
    std::set<std::int64_t> returned;
    for (int j = 0; j < k && row[j].id >= 0; ++j) returned.insert(row[j].id);
    for (int j = 0; j < std::min(k, kExpandedHits) && row[j].id >= 0; ++j) {
      const std::int64_t hit = row[j].id;
      for (std::int64_t id = std::max<std::int64_t>(0, hit - kShotNeighbours);
           id <= std::min(frame_count - 1, hit + kShotNeighbours); ++id) {
        if (frames_[static_cast<std::size_t>(id)].reference !=
                frames_[static_cast<std::size_t>(hit)].reference ||
            !returned.insert(id).second)
          continue;
        around.emplace_back(q, id);
      }
    }
  }
  if (around.empty()) return hits;
  std::vector<std::int64_t> ids;
  for (const auto& [q, id] : around) ids.push_back(id);
  const std::vector<float> vectors = descriptors_->reconstruct(ids);
  std::vector<std::vector<Neighbour>> added(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < around.size(); ++i) {
    const float* query = queries + static_cast<std::size_t>(around[i].first) * dimension;
    const float* vector = vectors.data() + i * dimension;
    float score = 0;
    for (std::size_t d = 0; d < dimension; ++d) score += query[d] * vector[d];
    added[static_cast<std::size_t>(around[i].first)].push_back({around[i].second, score});
  }
  for (std::int64_t q = 0; q < count; ++q) {
    std::vector<Neighbour>& merged = added[static_cast<std::size_t>(q)];
    if (merged.empty()) continue;
    Neighbour* row = hits.data() + q * k;
    for (int j = 0; j < k && row[j].id >= 0; ++j) merged.push_back(row[j]);
    std::stable_sort(merged.begin(), merged.end(),
                     [](const Neighbour& a, const Neighbour& b) { return a.score > b.score; });
    for (int j = 0; j < k; ++j)
      row[j] =
          j < static_cast<int>(merged.size()) ? merged[static_cast<std::size_t>(j)] : Neighbour{};
  }
  return hits;
}

std::unique_ptr<HashIndex> Library::load_held(const std::shared_ptr<const int>& file,
                                              const char* kind, const std::string& factory,
                                              std::int64_t count) const {
  if (!file) return HashIndex::build(factory, nullptr, 0);
  // The open file, by its descriptor: the name may be gone (a writer's later generation).
  const std::string open_file = "/proc/self/fd/" + std::to_string(*file);
  try {
    return HashIndex::load(open_file, factory, count, Loading::kPrivate);
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.rfind(open_file, 0) == 0)
      message.replace(0, open_file.size(), index_path(kind, loaded_generation_));
    if (dynamic_cast<const FormatError*>(&e)) throw FormatError(message);
    throw Error(message);
  }
}

const LocalFeatureGrid& Library::local_features() const {
  if (!local_features_) {
    local_features_ = std::make_unique<LocalFeatureGrid>(
        version_3_positions_, load_held(version_3_file_, "local", local_factory_,
                                        static_cast<std::int64_t>(version_3_positions_.size()))
                                  ->codes());
    version_3_positions_ = {};
    version_3_file_.reset();
  }
  return *local_features_;
}

const HashIndex& Library::hashes() const {
  if (!hashes_)
    hashes_ =
        load_held(hash_file_, "hashes", kHashFactory, static_cast<std::int64_t>(frames_.size()));
  return *hashes_;
}

const ReferenceRecord& Library::reference(std::int64_t id) const {
  for (const auto& r : references_) {
    if (r.id == id) return r;
  }
  throw Error("library: no reference with id " + std::to_string(id));
}

IndexChange Library::add(const std::vector<NewReference>& references,
                         const std::string& descriptor_factory) {
  if (references.empty()) return {};
  Transaction transaction(*catalog_);
  load_if_changed();
  std::vector<std::int64_t> added;
  std::vector<std::uint8_t> added_codes;  // local features' codes, in the order of their ids
  for (const NewReference& r : references) {
    if (r.fingerprint.model_id != model_.id ||
        r.fingerprint.descriptor_size != model_.output_size) {
      throw UsageError(r.path + ": fingerprint made with model " + r.fingerprint.model_id +
                       ", library uses " + model_.id);
    }
    if (catalog_->reference_by_name(r.name))
      throw UsageError("a reference named '" + r.name + "' is already in the library");
    // Checked again inside the transaction: another `index add` may have added the same content
    // since this one looked (the catalog's uniqueness would otherwise answer in SQL terms).
    if (const auto existing = catalog_->reference_by_checksum(r.checksum)) {
      throw Error(r.path + ": same content as '" + existing->name +
                  "', already in the library (added by another run meanwhile)");
    }
    ReferenceRecord record;
    record.name = r.name;
    record.title = r.title;
    record.season = r.season;
    record.episode = r.episode;
    record.path = r.path;
    record.size_bytes = r.size_bytes;
    record.checksum = r.checksum;
    record.duration_seconds = r.fingerprint.media.duration_seconds;
    record.sample_fps = r.fingerprint.sample_fps;
    std::vector<FrameRecord> frames;
    for (const engine::Sample& s : r.fingerprint.samples) {
      if (!is_informative(s)) continue;
      FrameRecord f;
      f.pts_seconds = s.pts_seconds;
      f.pdq = s.pdq.bytes;
      f.quality = s.quality;
      f.detail = s.detail;
      f.descriptor = s.descriptor;
      f.local_features = s.local_features;
      for (const engine::LocalFeature& l : s.local_features)
        added_codes.insert(added_codes.end(), l.code.begin(), l.code.end());
      frames.push_back(std::move(f));
    }
    added.push_back(catalog_->insert_reference(record, frames));
  }
  return change_and_commit(transaction, added, added_codes, descriptor_factory);
}

IndexChange Library::remove(const std::string& name) {
  const auto record = catalog_->reference_by_name(name);
  if (!record) throw Error("no reference named '" + name + "' in " + directory_);
  Transaction transaction(*catalog_);
  load_if_changed();
  // The reference's frames, as this object loaded them: one run of ids, since ids follow
  // (reference, time).
  std::int64_t first = -1, count = 0;
  bool one_run = true;
  for (std::size_t id = 0; id < frames_.size(); ++id) {
    if (frames_[id].reference != record->id) continue;
    if (first < 0) first = static_cast<std::int64_t>(id);
    one_run = one_run && static_cast<std::int64_t>(id) == first + count;
    ++count;
  }
  catalog_->remove_reference(record->id);
  const auto frames_left = static_cast<std::int64_t>(frames_.size()) - count;
  const std::string factory = catalog_->meta("descriptor_factory").value_or("Flat");
  const bool automatic = factory == "Flat" || factory.rfind("IVF", 0) == 0;
  const std::int64_t generation = stored_generation();
  std::string reason;
  if (generation == 0) {
    reason = "the library has no indexes";
  } else if (!one_run) {
    reason = "the reference's frames are not one run of ids";
  } else if (!automatic) {
    reason = "index type " + factory + " is made again on removal";  // not all can remove entries
  } else if (auto_descriptor_factory(frames_left) != factory) {
    reason = "descriptor index " + factory + " -> " + auto_descriptor_factory(frames_left) +
             " at " + std::to_string(frames_left) + " frames";
  }
  if (!reason.empty()) return change_and_commit(transaction, {}, {}, "", reason);
  catalog_->renumber_frames();
  auto descriptors =
      DescriptorIndex::load(index_path("descriptors", generation), factory, model_.output_size,
                            static_cast<std::int64_t>(frames_.size()), Loading::kPrivate);
  descriptors->remove_range(first, count);
  auto hashes = HashIndex::load(index_path("hashes", generation), kHashFactory,
                                static_cast<std::int64_t>(frames_.size()), Loading::kPrivate);
  hashes->remove_range(first, count);
  // The ids above the removed run move down by its length, as the catalog's frames do.
  std::vector<std::int64_t> renumber(frames_.size());
  for (std::size_t id = 0; id < frames_.size(); ++id) {
    const auto old_id = static_cast<std::int64_t>(id);
    renumber[id] = old_id < first ? old_id : old_id < first + count ? -1 : old_id - count;
  }
  commit_indexes(
      transaction, *descriptors, *hashes,
      [&](const std::string& path) {
        return LocalFeatureGrid::write(path, local_features(), renumber, {}, {});
      },
      factory);
  return {};
}

IndexChange Library::change_and_commit(Transaction& transaction,
                                       const std::vector<std::int64_t>& new_references,
                                       const std::vector<std::uint8_t>& new_local_codes,
                                       const std::string& descriptor_factory,
                                       const std::string& rebuild_reason) {
  catalog_->renumber_frames();
  const std::int64_t previous = stored_generation();
  const std::set<std::int64_t> is_new(new_references.begin(), new_references.end());
  // Frame ids follow (reference, time) and new references have the highest ids, so when only
  // references were added to the generation this object holds (add and remove load the current
  // one first), the old frames keep their ids 0..old_frames-1 and the new ones follow: the
  // indexes can be extended.
  IndexChange change{!rebuild_reason.empty(), rebuild_reason};
  const auto old_frames = static_cast<std::int64_t>(frames_.size());
  if (!change.rebuilt && previous == 0) change = {true, "the library's first indexes"};

  // The frames the indexes are made of, from frame id `from` on (0: all of them), with the
  // reference and time of every frame id; and the new references' local features, from the
  // catalog's key frames (positions) and `new_local_codes` (codes in the same order).
  std::vector<float> vectors;
  std::vector<std::uint8_t> codes;
  std::vector<FrameRecord> fresh;  // frames of the new references, for shared-content detection
  std::vector<std::int64_t> owner;
  std::vector<float> times;
  std::vector<IndexedLocalFeature> added_local;
  // Returns false when a frame of `from` on is not a new one in id order (only the frames of new
  // references can follow the old ones).
  const auto gather = [&](std::int64_t from) {
    vectors.clear(), codes.clear(), fresh.clear(), owner.clear(), times.clear();
    added_local.clear();
    bool in_order = true;
    for (std::int64_t id = 0; id < from; ++id) {
      owner.push_back(frames_[static_cast<std::size_t>(id)].reference);
      times.push_back(frames_[static_cast<std::size_t>(id)].pts_seconds);
    }
    catalog_->for_each_frame(
        true,
        [&](const FrameRecord& f) {
          if (static_cast<int>(f.descriptor.size()) != model_.output_size)
            throw FormatError(directory_ + ": corrupt descriptor");
          if (f.id != static_cast<std::int64_t>(owner.size()) && from == 0)
            throw FormatError(directory_ + ": frame ids out of order (damaged library)");
          in_order = in_order && f.id == static_cast<std::int64_t>(owner.size()) &&
                     (from == 0 || is_new.count(f.reference_id));
          vectors.insert(vectors.end(), f.descriptor.begin(), f.descriptor.end());
          codes.insert(codes.end(), f.pdq.begin(), f.pdq.end());
          owner.push_back(f.reference_id);
          times.push_back(static_cast<float>(f.pts_seconds));
          if (is_new.count(f.reference_id)) fresh.push_back(f);
        },
        from);
    catalog_->for_each_key_frame(
        [&](const FrameRecord& f) {
          if (!is_new.count(f.reference_id)) return;
          for (const engine::LocalFeature& l : f.local_features)
            added_local.push_back({f.id, l.x, l.y});
        },
        from);
    if (32 * added_local.size() != new_local_codes.size())
      throw FormatError(directory_ + ": the catalog lists " + std::to_string(added_local.size()) +
                        " local features of the new references, their fingerprints " +
                        std::to_string(new_local_codes.size() / 32));
    return in_order;
  };
  if (!gather(change.rebuilt ? 0 : old_frames)) {
    change = {true, "frame ids of the library's references moved"};
    gather(0);
  }
  const auto count = static_cast<std::int64_t>(owner.size());

  // Index types for the new size: the current ones, unless the automatic choice changes with
  // size or another was asked for.
  const std::string current = catalog_->meta("descriptor_factory").value_or("Flat");
  std::string factory = descriptor_factory;
  if (factory.empty()) {
    factory = current;
    if (factory == "Flat" || factory.rfind("IVF", 0) == 0) factory = auto_descriptor_factory(count);
  }
  if (!change.rebuilt && factory != current) {
    change = {true, "descriptor index " + current + " -> " + factory + " at " +
                        std::to_string(count) + " frames"};
    gather(0);
  }

  std::unique_ptr<DescriptorIndex> descriptors;
  std::unique_ptr<HashIndex> hashes;
  if (change.rebuilt) {
    descriptors = DescriptorIndex::build(factory, model_.output_size, vectors.data(), count);
    hashes = HashIndex::build(kHashFactory, codes.data(), count);
  } else {
    descriptors = DescriptorIndex::load(index_path("descriptors", previous), factory,
                                        model_.output_size, old_frames, Loading::kPrivate);
    descriptors->add(vectors.data(), count - old_frames);
    hashes = HashIndex::load(index_path("hashes", previous), kHashFactory, old_frames,
                             Loading::kPrivate);
    hashes->add(codes.data(), count - old_frames);
  }

  // The loaded local features keep their places; their key frames take the catalog's new ids (a
  // frame is known by its reference and time), the removed reference's are left out. Unless
  // rebuilt, the old frames kept their ids.
  std::vector<std::int64_t> renumber(static_cast<std::size_t>(old_frames));
  if (!change.rebuilt) {
    for (std::int64_t id = 0; id < old_frames; ++id) renumber[static_cast<std::size_t>(id)] = id;
  } else {
    std::vector<std::int64_t> by_time(owner.size());  // new ids by (reference, time)
    for (std::size_t id = 0; id < by_time.size(); ++id) by_time[id] = static_cast<std::int64_t>(id);
    const auto place = [&](std::int64_t id) {
      return std::pair(owner[static_cast<std::size_t>(id)], times[static_cast<std::size_t>(id)]);
    };
    std::sort(by_time.begin(), by_time.end(),
              [&](std::int64_t a, std::int64_t b) { return place(a) < place(b); });
    for (std::size_t id = 0; id < frames_.size(); ++id) {
      const std::pair<std::int64_t, float> old_place(frames_[id].reference,
                                                     frames_[id].pts_seconds);
      const auto at = std::lower_bound(
          by_time.begin(), by_time.end(), old_place,
          [&](std::int64_t a, const std::pair<std::int64_t, float>& b) { return place(a) < b; });
      renumber[id] = at != by_time.end() && place(*at) == old_place ? *at : -1;
    }
  }

  // Shared content: a new frame whose picture also occurs in another reference.
  std::vector<std::int64_t> shared;
  if (!fresh.empty()) {
    std::vector<float> queries;
    for (const auto& f : fresh)
      queries.insert(queries.end(), f.descriptor.begin(), f.descriptor.end());
    const auto hits = descriptors->search_near_duplicates(
        queries.data(), static_cast<std::int64_t>(fresh.size()), kSharedNeighbours);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      for (int k = 0; k < kSharedNeighbours; ++k) {
        const Neighbour& n = hits[i * kSharedNeighbours + k];
        if (n.id < 0 || n.score < kSharedSimilarity) break;
        if (owner[static_cast<std::size_t>(n.id)] == fresh[i].reference_id) continue;
        shared.push_back(fresh[i].id);
        shared.push_back(n.id);
      }
    }
  }
  catalog_->mark_shared(shared);

  commit_indexes(
      transaction, *descriptors, *hashes,
      [&](const std::string& path) {
        return LocalFeatureGrid::write(path, local_features(), renumber, added_local,
                                       new_local_codes);
      },
      factory);
  return change;
}

void Library::commit_indexes(Transaction& transaction, const DescriptorIndex& descriptors,
                             const HashIndex& hashes,
                             const std::function<std::int64_t(const std::string&)>& write_local,
                             const std::string& factory) {
  const std::int64_t next = stored_generation() + 1;
  try {
    descriptors.save(index_path("descriptors", next));
    hashes.save(index_path("hashes", next));
    const std::int64_t local_features = write_local(grid_path(next));
    catalog_->set_meta("generation", std::to_string(next));
    catalog_->set_meta("local_factory", kLocalFactory);
    catalog_->set_meta("local_features", std::to_string(local_features));
    catalog_->set_meta("descriptor_factory", factory);
    catalog_->set_meta("format_version", std::to_string(kLibraryFormatVersion));
    transaction.commit();
  } catch (...) {
    std::error_code ignored;
    fs::remove(index_path("descriptors", next), ignored);
    fs::remove(index_path("hashes", next), ignored);
    fs::remove(grid_path(next), ignored);
    throw;
  }
  // Committed: the old generation (and leftovers of interrupted changes) can go.
  std::error_code ignored;
  static const std::regex index_file(
      R"((descriptors|hashes|local)-(\d{1,18})\.(faiss|grid)(\.partial)?)");
  for (const auto& entry : fs::directory_iterator(directory_, ignored)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, match, index_file) && std::stoll(match[2].str()) != next)
      fs::remove(entry.path(), ignored);
  }
  load();
}

std::int64_t Library::disk_bytes() const {
  std::int64_t total = 0;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(directory_, ignored)) {
    if (entry.is_regular_file(ignored))
      total += static_cast<std::int64_t>(entry.file_size(ignored));
  }
  return total;
}

}  // namespace celtrace::index
