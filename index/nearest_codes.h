// Exact Hamming search building blocks shared by the POPCNT scans (index/vector_index.cpp over an
// exact index, index/local_grid.cpp over the features near a position). Include only from files
// compiled with -mpopcnt (index/CMakeLists.txt): std::popcount is a libgcc call otherwise.
#pragma once

#include <bit>
#include <cstdint>

#include "index/vector_index.h"

namespace celtrace::index {

// Bits that differ between two 256-bit codes, each 4 words.
inline int hamming_distance(const std::uint64_t* a, const std::uint64_t* b) {
  return std::popcount(a[0] ^ b[0]) + std::popcount(a[1] ^ b[1]) + std::popcount(a[2] ^ b[2]) +
         std::popcount(a[3] ^ b[3]);
}

// The k nearest codes met so far, kept sorted in `best` (k slots, nearest first; slots not yet
// filled keep their id -1).
class NearestCodes {
 public:
  NearestCodes(Neighbour* best, int k) : best_(best), k_(k) {}
  // Whether a code at distance d would be kept.
  bool admits(int d) const { return filled_ < k_ || d < best_[k_ - 1].score; }
  // The distance from which codes are not kept: admits(d) is d < limit().
  int limit() const { return filled_ < k_ ? 257 : static_cast<int>(best_[k_ - 1].score); }
  void add(std::int64_t id, int d) {
    int at = filled_ < k_ ? filled_++ : k_ - 1;
    while (at > 0 && best_[at - 1].score > d) {
      best_[at] = best_[at - 1];
      --at;
    }
    best_[at] = {id, static_cast<float>(d)};
  }

 private:
  Neighbour* best_;
  int k_;
  int filled_ = 0;
};

}  // namespace celtrace::index
