// The library's local features by where they lie on the picture. A layer is exported on the
// episode's canvas, so a query feature is looked for only among features near its own position:
// searched over the whole library instead, the nearest codes of a common corner (an outline's end,
// an eye) come from other frames and other places and leave none for the key frame the layer
// belongs to (generated no-background layers: 6 of 30 found with the 8 nearest codes of the whole
// library, 13 of 30 with the 8 nearest within reach; README, "Partial pictures").
//
// A grid is one generation's local-feature file (local-<G>.grid), memory-mapped read-only: every
// process that opens the library shares it through the page cache, opening it reads only its
// header, and a lookup touches only the squares its layer's features lie in. Layout, little-endian:
//   8 bytes  "CTLGRID1"
//   u64      kCells (32: squares per side)
//   u64      feature count N
//   u64 x (kCells^2 + 1)  first feature id of each square, row by row from the top left; N last
//   then, square by square, its features' codes (32 bytes each) followed by their places
//   (u32 key frame id, u16 x, u16 y; positions in 1/65535 of the picture's width and height).
// Feature ids are the features' order in the file: square by square, and within a square in the
// order they were given.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/fingerprint.h"
#include "index/vector_index.h"

namespace celtrace::index {

// What a local-feature id stands for: its key frame (an id into the library's frames) and position.
struct IndexedLocalFeature {
  std::int64_t frame = 0;
  float x = 0, y = 0;  // shares of the picture's width and height
};

class LocalFeatureGrid {
 public:
  // An empty grid.
  LocalFeatureGrid();
  // A grid in private memory: features[i] with the 256-bit code codes[32 i, 32 i + 32).
  LocalFeatureGrid(const std::vector<IndexedLocalFeature>& features,
                   const std::vector<std::uint8_t>& codes);
  // The grid file open as `fd`, mapped; FormatError naming `path` unless it is a whole grid file
  // of `count` features.
  static LocalFeatureGrid map(int fd, const std::string& path, std::int64_t count);

  // Writes a grid file of `base`'s features whose key frames `renumber` maps to a new id (an entry
  // per base frame id; -1 drops the feature), followed in each square by `added` (with their codes,
  // 32 bytes each), and returns how many features it holds. Nothing of base is copied into memory.
  static std::int64_t write(const std::string& path, const LocalFeatureGrid& base,
                            const std::vector<std::int64_t>& renumber,
                            const std::vector<IndexedLocalFeature>& added,
                            const std::vector<std::uint8_t>& added_codes);

  std::int64_t size() const { return count_; }
  IndexedLocalFeature feature(std::int64_t id) const;
  const std::uint8_t* code(std::int64_t id) const;

  // For each query feature, the k nearest codes (Hamming distance in bits, nearest first; id -1
  // where fewer lie in reach) among the features within `reach` of its position in x and in y
  // (shares of the picture). Exact: every feature in reach is compared.
  std::vector<Neighbour> search(const std::vector<engine::LocalFeature>& queries, int k,
                                double reach) const;

 private:
  using Sink = std::function<void(const std::uint8_t*, std::size_t)>;
  // Writes a grid file's bytes to `sink` (write(); base may be null), `written` features.
  static void encode(const Sink& sink, const LocalFeatureGrid* base,
                     const std::vector<std::int64_t>& renumber,
                     const std::vector<IndexedLocalFeature>& added,
                     const std::vector<std::uint8_t>& added_codes, std::int64_t& written);
  // Takes `bytes` (`size` of them) as the grid's file after checking its header and square table;
  // FormatError naming `what` otherwise.
  void attach(std::shared_ptr<const std::uint8_t> bytes, std::size_t size, const std::string& what);
  // The first feature id of a square (kCells^2: the count), the square holding feature `id`, and
  // where a square's codes and places start.
  std::uint64_t start(std::size_t square) const;
  std::size_t square_of(std::int64_t id) const;
  const std::uint8_t* codes_of(std::size_t square) const;
  const std::uint8_t* places_of(std::size_t square) const;

  std::shared_ptr<const std::uint8_t> bytes_;  // the whole file's bytes, mapped or owned
  const std::uint8_t* starts_ = nullptr;       // into bytes_: first id of each square, N last
  const std::uint8_t* data_ = nullptr;         // into bytes_: the first square's codes
  std::int64_t count_ = 0;
};

}  // namespace celtrace::index
