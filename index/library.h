// A reference library: a directory holding
//   catalog.sqlite          references and every indexed frame (the source of truth, but for
//                           local features' codes)
//   descriptors-<G>.faiss   descriptor index of generation G (FAISS ids = catalog frame ids)
//   hashes-<G>.faiss        PDQ hash index of generation G
//   local-<G>.grid          key frames' local features (ORB codes with their frame and place) of
//                           generation G, by place on the picture (index/local_grid.h): the only
//                           copy of the codes (25 MB a reference hour less than keeping them in the
//                           catalog too), mapped by lookups
//   model.ctm               the descriptor model the library was built with
// Changes are atomic: new index files are written under the next generation number and the
// catalog switches to them in the same SQLite transaction that changes its rows; a crash at any
// point leaves the previous generation loadable and consistent.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/descriptor.h"
#include "engine/fingerprint.h"
#include "engine/fingerprinter.h"
#include "engine/model.h"
#include "index/catalog.h"
#include "index/local_grid.h"
#include "index/vector_index.h"

namespace celtrace::index {

// 2: key frames' local features (partial pictures). 3: their codes stored once, in the
// local-feature index of every generation (the catalog keeps their positions). 4: that index is a
// grid file (local-<G>.grid) instead of a FAISS one (local-<G>.faiss). Version 3 libraries are
// read, their grid made in private memory on a first layer search, and move to version 4 on their
// next change.
inline constexpr int kLibraryFormatVersion = 4;
// Frames below this detail (engine RawDescriptor::detail) are flat (black, gray, fades, empty
// skies) and are neither indexed nor searched.
inline constexpr float kMinFrameDetail = engine::kFlatDetail;
// Two frames of different references this similar show the same picture: content shared across
// references (openings, endings, recaps, title cards, reused backgrounds).
inline constexpr float kSharedSimilarity = 0.95f;

// Whether a sample is searched (and, for a reference, indexed) by its whole picture: not flat.
// Thin lines on paper (an animatic, a pencil test, line art of real footage) also have a low mean
// gradient (1.2-1.4 on the generated animatics), yet the corners that flat frames lack: a query
// picture like that carries local features over the whole of it (engine/fingerprinter.cpp: a pale
// page, at least 30 corners), and its descriptor, which weighs edges relative to the frame's own
// contrast, describes its lines. Reference samples carry local features only above the flat bar,
// so what a library indexes does not change.
bool is_informative(const engine::Sample& sample);

// Below the flat bar but not flat: soft painting with little contrast (a sky with clouds, a
// snowfield, a distant mountain: 0.8-1.3 on the real-art background plates), and a smooth
// gradient alike (about 1). A query without informative samples is searched by its faint ones,
// and what they find is listed only once a frame pair registers (index/decision.h,
// Evidence::faint): the visual check sees the clouds that a gradient lacks.
inline constexpr float kFaintDetail = 0.5f;

// The samples a query is searched by with its whole picture: the informative ones, or, when it
// has none, its faint whole pictures (`faint` set); a layer's faint picture (a pencil test on dim
// paper) is searched by its foreground only.
std::vector<const engine::Sample*> whole_picture_samples(const engine::Fingerprint& query,
                                                         bool& faint);

// How references are fingerprinted for a library: `decode` as given, local features at key frames.
engine::FingerprintOptions reference_fingerprint_options(const engine::DecodeOptions& decode = {});

struct NewReference {
  engine::Fingerprint fingerprint;
  std::string name, title;
  std::optional<int> season, episode;
  std::string path;
  std::int64_t size_bytes = 0;
  std::string checksum;
};

// What a frame id stands for, kept in memory for lookups.
struct IndexedFrame {
  std::int64_t reference = 0;
  float pts_seconds = 0;
  bool shared = false;
};

// What a change did to the index files. Adding references extends the current generation's
// indexes (new vectors appended to their trained inverted lists), removing one takes its frames
// out of them (the ids above move down, as the catalog renumbers its frames); nothing is trained
// again, unless `reason` says why the indexes were made again (from the catalog, and the local
// features' codes from their index): the library's first indexes, or an index type that
// changes with the library's size (an inverted file's list count grows with the square root of
// its vectors: it is trained again each time they quadruple, or shrink to a quarter) or on
// request.
struct IndexChange {
  bool rebuilt = false;
  std::string reason;  // why rebuilt; empty when extended
};

class Library {
 public:
  // Opens an existing library; throws Error if there is none, FormatError if it is of another
  // format version or damaged.
  static Library open(const std::string& directory);
  // Opens, or creates with `model`; throws UsageError if it exists with another model.
  static Library open_or_create(const std::string& directory, const engine::ProjectionModel& model);

  // Adds references in one atomic change. `descriptor_factory` empty keeps the library's index
  // type (or picks one by size for a new library).
  IndexChange add(const std::vector<NewReference>& references,
                  const std::string& descriptor_factory = "");
  // Removes the reference of that name; throws UsageError if there is none.
  IndexChange remove(const std::string& name);

  std::vector<ReferenceRecord> references() const { return catalog_->references(); }
  std::optional<ReferenceRecord> reference_by_checksum(const std::string& checksum) const {
    return catalog_->reference_by_checksum(checksum);
  }
  const ReferenceRecord& reference(std::int64_t id) const;
  const std::vector<IndexedFrame>& frames() const { return frames_; }
  const DescriptorIndex& descriptors() const { return *descriptors_; }
  // The k nearest frames of each of `count` query vectors (count x dimension floats), best first
  // per query (id -1 past the last), as a lookup searches them. An inverted file probes the lists
  // nearest a query only, and the frames next to a hit in its shot, nearly as similar to the query,
  // can lie in lists it did not probe: the frames within kShotNeighbours of a query's
  // kExpandedHits best hits, in the same reference, are scored too (from the index's codes) and
  // take their place among the k.
  std::vector<Neighbour> nearest_frames(const float* queries, std::int64_t count, int k) const;
  // The PDQ index, read on first use: only hash-only lookups search it, and being exact it is read
  // into private memory (32 bytes a frame, 230 MB at 1,000 reference hours) that a lookup of media
  // would hold for nothing. Not for concurrent first calls from several threads.
  const HashIndex& hashes() const;
  // Whether frames' PDQ hashes are Meta's vPDQ of the whole frame (libraries made since hash-only
  // lookups; older ones hold the pipeline's 128 px PDQ, which partners' files do not match).
  bool has_whole_frame_pdq() const;
  // The key frames' local features by place, for the partial search: the loaded generation's grid
  // file, mapped. A version 3 library's grid is made in private memory on first use, from the
  // positions read at opening and the codes of its FAISS index (not for concurrent first calls
  // from several threads).
  const LocalFeatureGrid& local_features() const;
  // "grid32", or a version 3 library's FAISS index type.
  const std::string& local_index_type() const { return local_factory_; }
  const engine::ProjectionModel& model() const { return model_; }
  const std::string& directory() const { return directory_; }
  std::int64_t disk_bytes() const;

 private:
  Library(std::string directory, std::unique_ptr<Catalog> catalog, engine::ProjectionModel model);
  // Reads the catalog's state and the index files it names, in one read transaction.
  void load();
  // load() without its transaction, inside a writer's.
  void load_state();
  // Inside a writer's transaction: loads the current generation if another writer changed the
  // library since this object loaded, so that the change starts from the indexes it names.
  void load_if_changed();
  // The catalog's index generation (the number in the index files' names); FormatError when the
  // catalog holds something else.
  std::int64_t stored_generation() const;
  // Renumbers frames, extends or rebuilds the indexes (IndexChange; rebuilt for
  // `rebuild_reason` when one is given), marks shared frames of `new_references`, writes the next
  // generation and commits `transaction`. new_local_codes: the new references' local features'
  // codes (32 bytes each, in id order). The local features of frames no longer in the catalog
  // (a removed reference's) are left out.
  IndexChange change_and_commit(Transaction& transaction,
                                const std::vector<std::int64_t>& new_references,
                                const std::vector<std::uint8_t>& new_local_codes,
                                const std::string& descriptor_factory,
                                const std::string& rebuild_reason = "");
  // Writes the next generation's index files, switches the catalog to them, commits
  // `transaction`, deletes the old generation and loads the new state.
  // `write_local` writes the local-feature grid file at the path it is given and returns how many
  // features it holds.
  void commit_indexes(Transaction& transaction, const DescriptorIndex& descriptors,
                      const HashIndex& hashes,
                      const std::function<std::int64_t(const std::string&)>& write_local,
                      const std::string& factory);
  std::string index_path(const char* kind, std::int64_t generation) const;
  std::string grid_path(std::int64_t generation) const;
  // The loaded generation's `kind` index, read through `file` (held open since load()) into
  // private memory; errors name the file, not the descriptor.
  std::unique_ptr<HashIndex> load_held(const std::shared_ptr<const int>& file, const char* kind,
                                       const std::string& factory, std::int64_t count) const;

  std::string directory_;
  std::unique_ptr<Catalog> catalog_;
  engine::ProjectionModel model_;
  std::vector<ReferenceRecord> references_;
  std::int64_t loaded_generation_ = 0;  // the generation load() read
  std::vector<IndexedFrame> frames_;
  std::unique_ptr<DescriptorIndex> descriptors_;
  // The loaded generation's PDQ index file, held open from load() on so that hashes() reads that
  // generation even after a writer has deleted it; null for a library without indexes.
  std::shared_ptr<const int> hash_file_;
  mutable std::unique_ptr<HashIndex> hashes_;
  mutable std::unique_ptr<LocalFeatureGrid> local_features_;
  std::string local_factory_;
  // A version 3 library's local features' positions and FAISS index file, held open as
  // hash_file_ is, until local_features() makes its grid.
  mutable std::vector<IndexedLocalFeature> version_3_positions_;
  mutable std::shared_ptr<const int> version_3_file_;
};

}  // namespace celtrace::index
