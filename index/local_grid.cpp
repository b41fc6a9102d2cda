#include "index/local_grid.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>

#include "engine/errors.h"
#include "index/nearest_codes.h"

namespace celtrace::index {
namespace {

static_assert(std::endian::native == std::endian::little, "grid files are little-endian");

// Squares per side. A query reaches 0.06 of the picture each way (index/partial_search.cpp): 5 x 5
// squares of 1/32, about 2.5% of the library's features.
constexpr int kCells = 32;
constexpr std::size_t kSquares = kCells * kCells;
constexpr char kMagic[8] = {'C', 'T', 'L', 'G', 'R', 'I', 'D', '1'};
constexpr std::size_t kCodeBytes = 32, kPlaceBytes = 8;
constexpr std::size_t kHeaderBytes = 8 + 8 + 8 + 8 * (kSquares + 1);

int cell_of(double position) {
  return std::clamp(static_cast<int>(std::floor(position * kCells)), 0, kCells - 1);
}

std::uint16_t quantized(float position) {
  return static_cast<std::uint16_t>(std::lround(std::clamp(position, 0.f, 1.f) * 65535.f));
}

float position_of(std::uint16_t q) {
  return static_cast<float>(q) / 65535.f;
}

float position_of(const std::uint8_t* at) {
  std::uint16_t q;
  std::memcpy(&q, at, 2);
  return position_of(q);
}

template <typename T>
T read_at(const std::uint8_t* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

void put_place(std::vector<std::uint8_t>& out, std::int64_t frame, float x, float y) {
  const auto id = static_cast<std::uint32_t>(frame);
  const std::uint16_t qx = quantized(x), qy = quantized(y);
  std::uint8_t place[kPlaceBytes];
  std::memcpy(place, &id, 4);
  std::memcpy(place + 4, &qx, 2);
  std::memcpy(place + 6, &qy, 2);
  out.insert(out.end(), place, place + kPlaceBytes);
}

}  // namespace

void LocalFeatureGrid::encode(const Sink& sink, const LocalFeatureGrid* base,
                              const std::vector<std::int64_t>& renumber,
                              const std::vector<IndexedLocalFeature>& added,
                              const std::vector<std::uint8_t>& added_codes, std::int64_t& written) {
  if (added_codes.size() != kCodeBytes * added.size())
    throw Error("local features: " + std::to_string(added.size()) + " positions, " +
                std::to_string(added_codes.size() / kCodeBytes) + " codes");
  const auto new_frame = [&](std::uint32_t frame) {
    if (frame >= renumber.size())
      throw FormatError("local features: key frame " + std::to_string(frame) +
                        " is not a frame of the library (damaged library)");
    const std::int64_t id = renumber[frame];
    if (id > UINT32_MAX) throw Error("local features: key frame id " + std::to_string(id));
    return id;
  };
  // Added features by square, in their order, placed as the file will hold them.
  std::vector<std::vector<std::size_t>> added_in(kSquares);
  for (std::size_t i = 0; i < added.size(); ++i) {
    if (added[i].frame < 0 || added[i].frame > UINT32_MAX)
      throw Error("local features: key frame id " + std::to_string(added[i].frame));
    const float x = position_of(quantized(added[i].x)), y = position_of(quantized(added[i].y));
    added_in[static_cast<std::size_t>(cell_of(y) * kCells + cell_of(x))].push_back(i);
  }
  // Each square's base features: where their places lie, how many there are.
  const auto base_places = [&](std::size_t square) {
    return std::pair(base->places_of(square), base->start(square + 1) - base->start(square));
  };
  std::vector<std::uint64_t> starts(kSquares + 1, 0);
  for (std::size_t s = 0; s < kSquares; ++s) {
    starts[s + 1] = starts[s] + added_in[s].size();
    if (!base) continue;
    const auto [places, n] = base_places(s);
    for (std::uint64_t i = 0; i < n; ++i)
      starts[s + 1] += new_frame(read_at<std::uint32_t>(places + kPlaceBytes * i)) >= 0;
  }

  const std::uint64_t cells = kCells, count = starts[kSquares];
  written = static_cast<std::int64_t>(count);
  sink(reinterpret_cast<const std::uint8_t*>(kMagic), 8);
  sink(reinterpret_cast<const std::uint8_t*>(&cells), 8);
  sink(reinterpret_cast<const std::uint8_t*>(&count), 8);
  sink(reinterpret_cast<const std::uint8_t*>(starts.data()), 8 * starts.size());
  std::vector<std::uint8_t> codes, places;
  for (std::size_t s = 0; s < kSquares; ++s) {
    codes.clear(), places.clear();
    if (base) {
      const std::uint8_t* base_codes = base->codes_of(s);
      const auto [base_place, n] = base_places(s);
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint8_t* place = base_place + kPlaceBytes * i;
        const std::int64_t frame = new_frame(read_at<std::uint32_t>(place));
        if (frame < 0) continue;
        codes.insert(codes.end(), base_codes + kCodeBytes * i, base_codes + kCodeBytes * (i + 1));
        put_place(places, frame, position_of(place + 4), position_of(place + 6));
      }
    }
    for (const std::size_t i : added_in[s]) {
      codes.insert(codes.end(), added_codes.begin() + static_cast<std::ptrdiff_t>(kCodeBytes * i),
                   added_codes.begin() + static_cast<std::ptrdiff_t>(kCodeBytes * (i + 1)));
      put_place(places, added[i].frame, added[i].x, added[i].y);
    }
    sink(codes.data(), codes.size());
    sink(places.data(), places.size());
  }
}

LocalFeatureGrid::LocalFeatureGrid() : LocalFeatureGrid({}, {}) {}

LocalFeatureGrid::LocalFeatureGrid(const std::vector<IndexedLocalFeature>& features,
                                   const std::vector<std::uint8_t>& codes) {
  auto bytes = std::make_shared<std::vector<std::uint8_t>>();
  bytes->reserve(kHeaderBytes + (kCodeBytes + kPlaceBytes) * features.size());
  encode([&](const std::uint8_t* data,
             std::size_t size) { bytes->insert(bytes->end(), data, data + size); },
         nullptr, {}, features, codes, count_);
  attach(std::shared_ptr<const std::uint8_t>(bytes, bytes->data()), bytes->size(),
         "local features in memory");
}

LocalFeatureGrid LocalFeatureGrid::map(int fd, const std::string& path, std::int64_t count) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw Error(path + ": cannot read (" + std::strerror(errno) + ")");
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size < kHeaderBytes)
    throw FormatError(path + ": " + std::to_string(size) + " bytes, too short for a grid file");
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED) throw Error(path + ": cannot map (" + std::strerror(errno) + ")");
  std::shared_ptr<const std::uint8_t> bytes(
      static_cast<const std::uint8_t*>(mapped),
      [size](const std::uint8_t* p) { ::munmap(const_cast<std::uint8_t*>(p), size); });
  LocalFeatureGrid grid;
  grid.attach(std::move(bytes), size, path);
  if (grid.count_ != count) {
    throw FormatError(path + ": holds " + std::to_string(grid.count_) +
                      " local features, the catalog " + std::to_string(count) +
                      " (damaged library)");
  }
  return grid;
}

std::int64_t LocalFeatureGrid::write(const std::string& path, const LocalFeatureGrid& base,
                                     const std::vector<std::int64_t>& renumber,
                                     const std::vector<IndexedLocalFeature>& added,
                                     const std::vector<std::uint8_t>& added_codes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw Error(path + ": cannot create (" + std::strerror(errno) + ")");
  bool failed = false;
  std::int64_t count = 0;
  try {
    encode(
        [&](const std::uint8_t* data, std::size_t size) {
          // An empty square's data() may be null, which fwrite must not be given.
          if (size > 0) failed = failed || std::fwrite(data, 1, size, file) != size;
        },
        &base, renumber, added, added_codes, count);
  } catch (...) {
    std::fclose(file);
    throw;
  }
  failed = std::fflush(file) != 0 || failed;
  const int error = errno;
  if (std::fclose(file) != 0 || failed)
    throw Error(path + ": cannot write (" + std::strerror(error) + ")");
  return count;
}

void LocalFeatureGrid::attach(std::shared_ptr<const std::uint8_t> bytes, std::size_t size,
                              const std::string& what) {
  const std::uint8_t* at = bytes.get();
  if (size < kHeaderBytes || std::memcmp(at, kMagic, 8) != 0)
    throw FormatError(what + ": not a celtrace local-feature grid");
  const auto cells = read_at<std::uint64_t>(at + 8), count = read_at<std::uint64_t>(at + 16);
  if (cells != kCells)
    throw FormatError(what + ": a grid of " + std::to_string(cells) + " squares a side, not " +
                      std::to_string(kCells));
  if (count > (size - kHeaderBytes) / (kCodeBytes + kPlaceBytes) ||
      size != kHeaderBytes + count * (kCodeBytes + kPlaceBytes))
    throw FormatError(what + ": " + std::to_string(size) + " bytes for " + std::to_string(count) +
                      " local features (truncated or damaged)");
  std::uint64_t previous = 0;
  for (std::size_t s = 0; s <= kSquares; ++s) {
    const auto start = read_at<std::uint64_t>(at + 24 + 8 * s);
    if (start < previous || start > count || (s == 0 && start != 0) ||
        (s == kSquares && start != count))
      throw FormatError(what + ": damaged square table");
    previous = start;
  }
  bytes_ = std::move(bytes);
  starts_ = bytes_.get() + 24;
  data_ = bytes_.get() + kHeaderBytes;
  count_ = static_cast<std::int64_t>(count);
}

std::uint64_t LocalFeatureGrid::start(std::size_t square) const {
  return read_at<std::uint64_t>(starts_ + 8 * square);
}

std::size_t LocalFeatureGrid::square_of(std::int64_t id) const {
  std::size_t low = 0, high = kSquares;  // start(low) <= id < start(high)
  while (high - low > 1) {
    const std::size_t middle = (low + high) / 2;
    if (start(middle) <= static_cast<std::uint64_t>(id)) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return low;
}

const std::uint8_t* LocalFeatureGrid::codes_of(std::size_t square) const {
  return data_ + (kCodeBytes + kPlaceBytes) * start(square);
}

const std::uint8_t* LocalFeatureGrid::places_of(std::size_t square) const {
  return codes_of(square) + kCodeBytes * (start(square + 1) - start(square));
}

IndexedLocalFeature LocalFeatureGrid::feature(std::int64_t id) const {
  if (id < 0 || id >= count_) throw Error("local features: no feature " + std::to_string(id));
  const std::size_t square = square_of(id);
  const std::uint8_t* place = places_of(square) + kPlaceBytes * (id - start(square));
  return {read_at<std::uint32_t>(place), position_of(place + 4), position_of(place + 6)};
}

const std::uint8_t* LocalFeatureGrid::code(std::int64_t id) const {
  if (id < 0 || id >= count_) throw Error("local features: no feature " + std::to_string(id));
  const std::size_t square = square_of(id);
  return codes_of(square) + kCodeBytes * (id - start(square));
}

std::vector<Neighbour> LocalFeatureGrid::search(const std::vector<engine::LocalFeature>& queries,
                                                int k, double reach) const {
  std::vector<Neighbour> out(queries.size() * static_cast<std::size_t>(std::max(k, 0)));
  if (k <= 0 || queries.empty()) return out;
  // Queries in batches of neighbours on the picture, each square a batch reaches scanned once for
  // all of them: scanned query by query, a square's codes (800 KB at 100 reference hours) left the
  // cache before the next query near it came (a layer picture's search 2x slower, 2.7x mapped).
  // Every query still meets its squares row by row and their features in order, as it would alone.
  struct Query {
    std::uint64_t words[4];
    float x, y;
    int left, right, top, bottom;  // the squares in reach
    std::size_t index;
  };
  std::vector<Query> sorted(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const engine::LocalFeature& q = queries[i];
    Query& to = sorted[i];
    std::memcpy(to.words, q.code.data(), 32);
    to.x = q.x, to.y = q.y, to.index = i;
    to.left = cell_of(q.x - reach), to.right = cell_of(q.x + reach);
    to.top = cell_of(q.y - reach), to.bottom = cell_of(q.y + reach);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const Query& a, const Query& b) {
    return std::pair(cell_of(a.y), cell_of(a.x)) < std::pair(cell_of(b.y), cell_of(b.x));
  });
  constexpr std::size_t kBatch = 32;
  const auto batches = static_cast<std::int64_t>((sorted.size() + kBatch - 1) / kBatch);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t b = 0; b < batches; ++b) {
    const std::size_t first_query = static_cast<std::size_t>(b) * kBatch;
    const std::size_t last_query = std::min(sorted.size(), first_query + kBatch);
    std::vector<NearestCodes> nearest;
    int left = kCells, right = -1, top = kCells, bottom = -1;
    for (std::size_t q = first_query; q < last_query; ++q) {
      nearest.emplace_back(out.data() + sorted[q].index * static_cast<std::size_t>(k), k);
      left = std::min(left, sorted[q].left), right = std::max(right, sorted[q].right);
      top = std::min(top, sorted[q].top), bottom = std::max(bottom, sorted[q].bottom);
    }
    std::vector<std::size_t> active;  // the batch's queries that reach the square
    for (int cy = top; cy <= bottom; ++cy) {
      for (int cx = left; cx <= right; ++cx) {
        active.clear();
        for (std::size_t q = first_query; q < last_query; ++q) {
          const Query& query = sorted[q];
          if (cx >= query.left && cx <= query.right && cy >= query.top && cy <= query.bottom)
            active.push_back(q);
        }
        if (active.empty()) continue;
        const auto square = static_cast<std::size_t>(cy * kCells + cx);
        const std::uint64_t first = start(square), n = start(square + 1) - first;
        const std::uint8_t* codes = codes_of(square);
        const std::uint8_t* places = codes + kCodeBytes * n;
        // Query by query over the square, which stays in the cache between them.
        for (const std::size_t q : active) {
          const Query& query = sorted[q];
          NearestCodes& best = nearest[q - first_query];
          const std::uint64_t q0 = query.words[0], q1 = query.words[1], q2 = query.words[2],
                              q3 = query.words[3];
          int limit = best.limit();
          for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint8_t* other = codes + kCodeBytes * i;
            const int d = std::popcount(q0 ^ read_at<std::uint64_t>(other)) +
                          std::popcount(q1 ^ read_at<std::uint64_t>(other + 8)) +
                          std::popcount(q2 ^ read_at<std::uint64_t>(other + 16)) +
                          std::popcount(q3 ^ read_at<std::uint64_t>(other + 24));
            if (d >= limit) continue;
            if (std::abs(position_of(places + kPlaceBytes * i + 4) - query.x) <= reach &&
                std::abs(position_of(places + kPlaceBytes * i + 6) - query.y) <= reach) {
              best.add(static_cast<std::int64_t>(first + i), d);
              limit = best.limit();
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace celtrace::index
