// The library's local features by where they lie on the picture. A layer is exported on the
// episode's canvas, so a query feature is looked for only among features near its own position:
// searched over the whole library instead, the nearest codes of a common corner (an outline's end,
// an eye) come from other frames and other places and leave none for the key frame the layer
// belongs to (generated no-background layers: 6 of 30 found with the 8 nearest codes of the whole
// library, 13 of 30 with the 8 nearest within reach; README, "Partial pictures").
#pragma once

#include <cstdint>
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
  // features[i] is feature id i, its 256-bit code codes[32 i, 32 i + 32).
  LocalFeatureGrid(const std::vector<IndexedLocalFeature>& features,
                   const std::vector<std::uint8_t>& codes);

  // For each query feature, the k nearest codes (Hamming distance in bits, nearest first; id -1
  // where fewer lie in reach) among the features within `reach` of its position in x and in y
  // (shares of the picture). Exact: every feature in reach is compared.
  std::vector<Neighbour> search(const std::vector<engine::LocalFeature>& queries, int k,
                                double reach) const;

 private:
  // The features of one square of the picture, in id order: codes 4 words each, positions x, y.
  struct Cell {
    std::vector<std::uint64_t> codes;
    std::vector<std::int64_t> ids;
    std::vector<float> positions;
  };
  std::vector<Cell> cells_;  // kCells x kCells, row by row from the top left
};

}  // namespace celtrace::index
