#include "index/local_grid.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "engine/errors.h"

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
    Neighbour* best = out.data() + q * k;  // sorted, nearest first
    int filled = 0;
    std::uint64_t words[4];
    std::memcpy(words, query.code.data(), 32);
    for (int cy = cell_of(query.y - reach); cy <= cell_of(query.y + reach); ++cy) {
      for (int cx = cell_of(query.x - reach); cx <= cell_of(query.x + reach); ++cx) {
        const Cell& cell = cells_[static_cast<std::size_t>(cy * kCells + cx)];
        for (std::size_t i = 0; i < cell.ids.size(); ++i) {
          const std::uint64_t* code = cell.codes.data() + 4 * i;
          const int d = std::popcount(words[0] ^ code[0]) + std::popcount(words[1] ^ code[1]) +
                        std::popcount(words[2] ^ code[2]) + std::popcount(words[3] ^ code[3]);
          if (filled == k && d >= best[k - 1].score) continue;
          if (std::abs(cell.positions[2 * i] - query.x) > reach ||
              std::abs(cell.positions[2 * i + 1] - query.y) > reach)
            continue;
          int at = filled < k ? filled++ : k - 1;
          while (at > 0 && best[at - 1].score > d) {
            best[at] = best[at - 1];
            --at;
          }
          best[at] = {cell.ids[i], static_cast<float>(d)};
        }
      }
    }
  }
  return out;
}

}  // namespace celtrace::index
