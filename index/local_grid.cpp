#include "index/local_grid.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/errors.h"
#include "index/nearest_codes.h"

namespace celtrace::index {
namespace {

// Squares per side. A query reaches 0.06 of the picture each way (index/partial_search.cpp): 5 x 5
// squares of 1/32, about 2.5% of the library's features.
constexpr int kCells = 32;

int cell_of(double position) {
  return std::clamp(static_cast<int>(std::floor(position * kCells)), 0, kCells - 1);
}

}  // namespace

LocalFeatureGrid::LocalFeatureGrid(const std::vector<IndexedLocalFeature>& features,
                                   const std::vector<std::uint8_t>& codes)
    : cells_(static_cast<std::size_t>(kCells * kCells)) {
  if (codes.size() != 32 * features.size())
    throw Error("local features: " + std::to_string(features.size()) + " positions, " +
                std::to_string(codes.size() / 32) + " codes");
  for (std::size_t i = 0; i < features.size(); ++i) {
    const IndexedLocalFeature& f = features[i];
    Cell& cell = cells_[static_cast<std::size_t>(cell_of(f.y) * kCells + cell_of(f.x))];
    std::uint64_t words[4];
    std::memcpy(words, codes.data() + 32 * i, 32);
    cell.codes.insert(cell.codes.end(), words, words + 4);
    cell.ids.push_back(static_cast<std::int64_t>(i));
    cell.positions.push_back(f.x);
    cell.positions.push_back(f.y);
  }
}

std::vector<Neighbour> LocalFeatureGrid::search(const std::vector<engine::LocalFeature>& queries,
                                                int k, double reach) const {
  std::vector<Neighbour> out(queries.size() * static_cast<std::size_t>(std::max(k, 0)));
  if (k <= 0) return out;
  const auto count = static_cast<std::int64_t>(queries.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (std::int64_t q = 0; q < count; ++q) {
    const engine::LocalFeature& query = queries[static_cast<std::size_t>(q)];
    NearestCodes nearest(out.data() + q * k, k);
    std::uint64_t words[4];
    std::memcpy(words, query.code.data(), 32);
    for (int cy = cell_of(query.y - reach); cy <= cell_of(query.y + reach); ++cy) {
      for (int cx = cell_of(query.x - reach); cx <= cell_of(query.x + reach); ++cx) {
        const Cell& cell = cells_[static_cast<std::size_t>(cy * kCells + cx)];
        for (std::size_t i = 0; i < cell.ids.size(); ++i) {
          const int d = hamming_distance(words, cell.codes.data() + 4 * i);
          if (nearest.admits(d) && std::abs(cell.positions[2 * i] - query.x) <= reach &&
              std::abs(cell.positions[2 * i + 1] - query.y) <= reach)
            nearest.add(cell.ids[i], d);
        }
      }
    }
  }
  return out;
}

}  // namespace celtrace::index
