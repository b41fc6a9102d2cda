// The library's catalog of references and of every indexed frame, in SQLite (index/sqlite.h).
// The catalog is the library's source of truth; the FAISS indexes are derived from its frames
// table and rebuilt from it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/local_features.h"
#include "index/sqlite.h"

namespace celtrace::index {

struct ReferenceRecord {
  std::int64_t id = 0;
  std::string name;   // unique within the library; defaults to the file's base name
  std::string title;  // production / series title
  std::optional<int> season, episode;
  std::string path;  // where the file was when it was added
  std::int64_t size_bytes = 0;
  std::string checksum;  // content checksum (see file_checksum)
  double duration_seconds = 0;
  double sample_fps = 0;
  std::int64_t frame_count = 0;  // indexed frames
};

struct FrameRecord {
  std::int64_t id = 0;  // FAISS id: position in both indexes
  std::int64_t reference_id = 0;
  double pts_seconds = 0;
  std::array<std::uint8_t, 32> pdq{};
  int quality = 0;
  float detail = 0;
  bool shared = false;  // the same picture occurs in another reference (opening, recap, ...)
  std::vector<float> descriptor;
  // Key frames only (engine/fingerprinter.h). The catalog stores their positions only,
  // kLocalFeaturePositionBytes each (x and y as u16 shares of 65535): their codes are kept once,
  // in the library's local-feature index (index/library.h). Codes read back are zero.
  std::vector<engine::LocalFeature> local_features;
};

inline constexpr int kLocalFeaturePositionBytes = 4;

class Catalog {
 public:
  // Opens or creates the catalog file. Throws Error when it cannot.
  explicit Catalog(const std::string& path);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  std::optional<std::string> meta(const std::string& key) const;
  void set_meta(const std::string& key, const std::string& value);

  std::vector<ReferenceRecord> references() const;
  std::optional<ReferenceRecord> reference_by_checksum(const std::string& checksum) const;
  std::optional<ReferenceRecord> reference_by_name(const std::string& name) const;
  // Inserts a reference and its frames; frame ids are assigned later by renumber_frames.
  std::int64_t insert_reference(const ReferenceRecord& reference,
                                const std::vector<FrameRecord>& frames);
  // Removes a reference and its frames; the frames after them move down by their count, so ids
  // stay 0..n-1 in (reference, time) order.
  void remove_reference(std::int64_t id);
  // Numbers all frames 0..n-1 in (reference, time) order: the FAISS ids of the next build. Frames
  // already numbered keep their ids when they are 0..m-1 and the unnumbered ones (just inserted)
  // all belong to references after theirs: only the new frames are written then (SQLite rewrites
  // a row whole, its descriptor included: numbering all 720,000 frames of a 100-hour library took
  // 2.7 s, most of an add or a removal).
  void renumber_frames();
  // Visits every frame from id `from_id` on, in id order. Without descriptors only its place is
  // read (id, reference, time, shared; read from an index, not the rows), with them everything.
  void for_each_frame(bool with_descriptors, const std::function<void(const FrameRecord&)>& visit,
                      std::int64_t from_id = 0) const;
  // Visits the frames with local features from id `from_id` on, in id order (FrameRecord::id and
  // local_features set).
  void for_each_key_frame(const std::function<void(const FrameRecord&)>& visit,
                          std::int64_t from_id = 0) const;
  // How many local features the key frames hold in all.
  std::int64_t local_feature_count() const;
  void mark_shared(const std::vector<std::int64_t>& frame_ids);

  sql::Database& database() { return *db_; }

 private:
  std::unique_ptr<sql::Database> db_;
};

// All catalog changes between construction and commit() land together or not at all.
class Transaction : public sql::Transaction {
 public:
  explicit Transaction(Catalog& catalog) : sql::Transaction(catalog.database()) {}
};

// A content checksum of a file: FNV-1a 64 over its size and bytes, as 16 hex digits.
std::string file_checksum(const std::string& path);

}  // namespace celtrace::index
