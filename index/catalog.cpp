#include "index/catalog.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "index/sqlite.h"

#include "engine/errors.h"

namespace celtrace::index {
namespace {

using sql::Statement;

constexpr const char* kReferenceColumns =
    "id, name, title, season, episode, path, size_bytes, checksum, duration, sample_fps, "
    "(SELECT COUNT(*) FROM frames WHERE frames.reference_id = refs.id)";

ReferenceRecord read_reference(const Statement& row) {
  ReferenceRecord r;
  r.id = row.integer(0);
  r.name = row.text(1);
  r.title = row.text(2);
  if (!row.is_null(3)) r.season = static_cast<int>(row.integer(3));
  if (!row.is_null(4)) r.episode = static_cast<int>(row.integer(4));
  r.path = row.text(5);
  r.size_bytes = row.integer(6);
  r.checksum = row.text(7);
  r.duration_seconds = row.real(8);
  r.sample_fps = row.real(9);
  r.frame_count = row.integer(10);
  return r;
}

// Columns 0-2 of a frames query: id, reference_id, pts.
void read_frame_head(const Statement& row, FrameRecord& f) {
  f.id = row.integer(0);
  f.reference_id = row.integer(1);
  f.pts_seconds = row.real(2);
}

std::vector<std::uint8_t> pack_positions(const std::vector<engine::LocalFeature>& features) {
  std::vector<std::uint8_t> out(features.size() * kLocalFeaturePositionBytes);
  std::uint8_t* p = out.data();
  for (const engine::LocalFeature& f : features) {
    const auto x = static_cast<std::uint16_t>(std::lround(std::clamp(f.x, 0.f, 1.f) * 65535.f));
    const auto y = static_cast<std::uint16_t>(std::lround(std::clamp(f.y, 0.f, 1.f) * 65535.f));
    p[0] = static_cast<std::uint8_t>(x & 0xff);
    p[1] = static_cast<std::uint8_t>(x >> 8);
    p[2] = static_cast<std::uint8_t>(y & 0xff);
    p[3] = static_cast<std::uint8_t>(y >> 8);
    p += kLocalFeaturePositionBytes;
  }
  return out;
}

std::vector<engine::LocalFeature> unpack_positions(const void* blob, int size,
                                                   const std::string& what) {
  if (size % kLocalFeaturePositionBytes != 0) throw FormatError(what + ": corrupt local features");
  std::vector<engine::LocalFeature> out(
      static_cast<std::size_t>(size / kLocalFeaturePositionBytes));
  const auto* p = static_cast<const std::uint8_t*>(blob);
  for (engine::LocalFeature& f : out) {
    f.x = static_cast<float>(p[0] | (p[1] << 8)) / 65535.f;
    f.y = static_cast<float>(p[2] | (p[3] << 8)) / 65535.f;
    p += kLocalFeaturePositionBytes;
  }
  return out;
}

}  // namespace

Catalog::Catalog(const std::string& path) : db_(std::make_unique<sql::Database>(path)) {
  db_->execute("PRAGMA foreign_keys = ON");
  db_->execute(
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS refs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
      " title TEXT NOT NULL, season INTEGER, episode INTEGER, path TEXT NOT NULL,"
      " size_bytes INTEGER NOT NULL, checksum TEXT NOT NULL UNIQUE, duration REAL NOT NULL,"
      " sample_fps REAL NOT NULL, added TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);"
      "CREATE TABLE IF NOT EXISTS frames (rowid INTEGER PRIMARY KEY, id INTEGER,"
      " reference_id INTEGER NOT NULL REFERENCES refs(id) ON DELETE CASCADE, pts REAL NOT NULL,"
      " pdq BLOB NOT NULL, quality INTEGER NOT NULL, detail REAL NOT NULL,"
      " shared INTEGER NOT NULL DEFAULT 0, descriptor BLOB NOT NULL, local BLOB);"
      "CREATE INDEX IF NOT EXISTS frames_by_reference ON frames(reference_id, pts);");
  // A write-protected catalog made before these indexes is read as it is, without them.
  if (db_->read_only()) return;
  db_->execute(
      // Opening a library reads every frame's place in id order, and its key frames': indexes
      // that hold those columns let SQLite read them without the rows (about 375 bytes each,
      // the descriptor and hash included). At 1,000 hours: 1.0 s against 2.5 s for the frames,
      // 0.01 against 1.6 s for the key frames (a table scan). frames_head serves lookups by id too,
      // so the older frames_by_id goes: 0.06 MB per reference hour more in all.
      "CREATE INDEX IF NOT EXISTS frames_head ON frames(id, reference_id, pts, shared);"
      "CREATE INDEX IF NOT EXISTS key_frames ON frames(id) WHERE local IS NOT NULL;"
      "DROP INDEX IF EXISTS frames_by_id;");
}

Catalog::~Catalog() = default;

std::optional<std::string> Catalog::meta(const std::string& key) const {
  Statement query(*db_, "SELECT value FROM meta WHERE key = ?");
  query.bind(1, key);
  if (!query.step()) return std::nullopt;
  return query.text(0);
}

void Catalog::set_meta(const std::string& key, const std::string& value) {
  Statement update(*db_,
                   "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value "
                   "= excluded.value");
  update.bind(1, key).bind(2, value).step();
}

std::vector<ReferenceRecord> Catalog::references() const {
  Statement query(*db_, std::string("SELECT ") + kReferenceColumns +
                            " FROM refs ORDER BY title, season, episode, name");
  std::vector<ReferenceRecord> out;
  while (query.step()) out.push_back(read_reference(query));
  return out;
}

std::optional<ReferenceRecord> Catalog::reference_by_checksum(const std::string& checksum) const {
  Statement query(*db_,
                  std::string("SELECT ") + kReferenceColumns + " FROM refs WHERE checksum = ?");
  query.bind(1, checksum);
  if (!query.step()) return std::nullopt;
  return read_reference(query);
}

std::optional<ReferenceRecord> Catalog::reference_by_name(const std::string& name) const {
  Statement query(*db_, std::string("SELECT ") + kReferenceColumns + " FROM refs WHERE name = ?");
  query.bind(1, name);
  if (!query.step()) return std::nullopt;
  return read_reference(query);
}

std::int64_t Catalog::insert_reference(const ReferenceRecord& r,
                                       const std::vector<FrameRecord>& frames) {
  Statement insert(*db_,
                   "INSERT INTO refs(name, title, season, episode, path, size_bytes, checksum, "
                   "duration, sample_fps)"
                   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, r.name).bind(2, r.title).bind(3, r.season).bind(4, r.episode).bind(5, r.path);
  insert.bind(6, r.size_bytes)
      .bind(7, r.checksum)
      .bind(8, r.duration_seconds)
      .bind(9, r.sample_fps);
  insert.step();
  const std::int64_t id = db_->last_insert_id();
  Statement frame(*db_,
                  "INSERT INTO frames(reference_id, pts, pdq, quality, detail, shared, descriptor, "
                  "local) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  for (const FrameRecord& f : frames) {
    frame.bind(1, id).bind(2, f.pts_seconds).bind_blob(3, f.pdq.data(), f.pdq.size());
    frame.bind(4, static_cast<std::int64_t>(f.quality)).bind(5, static_cast<double>(f.detail));
    frame.bind(6, static_cast<std::int64_t>(f.shared));
    frame.bind_blob(7, f.descriptor.data(), f.descriptor.size() * sizeof(float));
    if (f.local_features.empty()) {
      frame.bind_null(8);
    } else {
      const std::vector<std::uint8_t> local = pack_positions(f.local_features);
      frame.bind_blob(8, local.data(), local.size());
    }
    frame.step();
    frame.reset();
  }
  return id;
}

void Catalog::remove_reference(std::int64_t id) {
  Statement run(*db_,
                "SELECT MIN(id), MAX(id), COUNT(*), COUNT(id) FROM frames WHERE reference_id = ?");
  run.bind(1, id).step();
  const std::int64_t first = run.integer(0), last = run.integer(1), count = run.integer(2);
  const bool one_run = count > 0 && run.integer(3) == count && last - first + 1 == count;
  Statement remove(*db_, "DELETE FROM refs WHERE id = ?");
  remove.bind(1, id).step();
  // Otherwise renumber_frames numbers every frame again.
  if (!one_run) return;
  Statement close_gap(*db_, "UPDATE frames SET id = id - ? WHERE id > ?");
  close_gap.bind(1, count).bind(2, last).step();
}

void Catalog::renumber_frames() {
  // Numbered frames: how many, their largest id and reference; unnumbered: their first reference.
  Statement state(*db_,
                  "SELECT (SELECT COUNT(id) FROM frames), (SELECT MAX(id) FROM frames),"
                  " (SELECT reference_id FROM frames WHERE id = (SELECT MAX(id) FROM frames)),"
                  " (SELECT MIN(reference_id) FROM frames WHERE id IS NULL)");
  state.step();
  const std::int64_t numbered = state.integer(0);
  const bool dense = numbered == 0 || state.integer(1) == numbered - 1;
  const bool appended = numbered == 0 || state.is_null(3) || state.integer(3) > state.integer(2);
  if (dense && appended) {
    if (state.is_null(3)) return;
    Statement number(*db_,
                     "UPDATE frames SET id = ? + ordered.n FROM (SELECT rowid AS r, ROW_NUMBER() "
                     "OVER (ORDER BY reference_id, pts, rowid) - 1 AS n FROM frames WHERE id IS "
                     "NULL) AS ordered WHERE frames.rowid = ordered.r");
    number.bind(1, numbered).step();
    return;
  }
  db_->execute(
      "UPDATE frames SET id = ordered.n FROM (SELECT rowid AS r, ROW_NUMBER() OVER (ORDER BY "
      "reference_id, pts, rowid) - 1"
      " AS n FROM frames) AS ordered WHERE frames.rowid = ordered.r");
}

void Catalog::for_each_frame(bool with_descriptors,
                             const std::function<void(const FrameRecord&)>& visit,
                             std::int64_t from_id) const {
  // The place columns first: alone, frames_head holds them all.
  Statement query(*db_, std::string("SELECT id, reference_id, pts, shared") +
                            (with_descriptors ? ", pdq, quality, detail, descriptor" : "") +
                            " FROM frames WHERE id >= ? ORDER BY id");
  query.bind(1, from_id);
  FrameRecord f;
  while (query.step()) {
    read_frame_head(query, f);
    f.shared = query.integer(3) != 0;
    if (with_descriptors) {
      int size = 0;
      const void* pdq = query.blob(4, size);
      if (size != 32) throw FormatError(db_->path() + ": corrupt frame hash");
      std::memcpy(f.pdq.data(), pdq, 32);
      f.quality = static_cast<int>(query.integer(5));
      f.detail = static_cast<float>(query.real(6));
      const void* values = query.blob(7, size);
      f.descriptor.resize(static_cast<std::size_t>(size) / sizeof(float));
      if (size > 0) std::memcpy(f.descriptor.data(), values, f.descriptor.size() * sizeof(float));
    }
    visit(f);
  }
}

void Catalog::for_each_key_frame(const std::function<void(const FrameRecord&)>& visit,
                                 std::int64_t from_id) const {
  Statement query(*db_,
                  "SELECT id, reference_id, pts, local FROM frames WHERE local IS NOT NULL AND id "
                  ">= ? ORDER BY id");
  query.bind(1, from_id);
  FrameRecord f;
  while (query.step()) {
    read_frame_head(query, f);
    int size = 0;
    const void* blob = query.blob(3, size);
    f.local_features = unpack_positions(blob, size, db_->path());
    visit(f);
  }
}

std::int64_t Catalog::local_feature_count() const {
  Statement query(*db_,
                  "SELECT COALESCE(SUM(LENGTH(local)), 0) FROM frames WHERE local IS NOT NULL");
  query.step();
  return query.integer(0) / kLocalFeaturePositionBytes;
}

void Catalog::mark_shared(const std::vector<std::int64_t>& frame_ids) {
  Statement update(*db_, "UPDATE frames SET shared = 1 WHERE id = ?");
  for (std::int64_t id : frame_ids) {
    update.bind(1, id).step();
    update.reset();
  }
}

std::string file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw MediaError(path + ": cannot read");
  std::uint64_t hash = 0xcbf29ce484222325ull;
  std::vector<char> buffer(1 << 16);
  std::uint64_t total = 0;
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    const auto got = static_cast<std::size_t>(in.gcount());
    for (std::size_t i = 0; i < got; ++i) {
      hash ^= static_cast<std::uint8_t>(buffer[i]);
      hash *= 0x100000001b3ull;
    }
    total += got;
  }
  hash ^= total;
  hash *= 0x100000001b3ull;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace celtrace::index
