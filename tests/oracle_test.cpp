// Index results against brute force on seeded data: FAISS, for every index type the library
// uses, and the partial search's grid of local features.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "engine/errors.h"
#include "index/local_grid.h"
#include "index/vector_index.h"
#include "tests/test_media.h"

namespace celtrace::index {
namespace {

std::vector<float> unit_vectors(int count, int dimension, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<std::size_t>(count) * dimension);
  for (int i = 0; i < count; ++i) {
    float norm = 0;
    for (int d = 0; d < dimension; ++d) {
      v[i * dimension + d] = normal(random);
      norm += v[i * dimension + d] * v[i * dimension + d];
    }
    for (int d = 0; d < dimension; ++d) v[i * dimension + d] /= std::sqrt(norm);
  }
  return v;
}

// Exact top-k by inner product.
std::vector<std::int64_t> brute_force(const std::vector<float>& base, const float* query,
                                      int dimension, int k) {
  const int count = static_cast<int>(base.size() / dimension);
  std::vector<std::pair<float, std::int64_t>> scored;
  for (int i = 0; i < count; ++i) {
    float dot = 0;
    for (int d = 0; d < dimension; ++d) dot += base[i * dimension + d] * query[d];
    scored.push_back({-dot, i});
  }
  std::partial_sort(scored.begin(), scored.begin() + k, scored.end());
  std::vector<std::int64_t> ids;
  for (int i = 0; i < k; ++i) ids.push_back(scored[i].second);
  return ids;
}

TEST(DescriptorIndexOracle, FlatEqualsBruteForce) {
  const int dimension = 64, count = 3000, queries = 50, k = 10;
  const auto base = unit_vectors(count, dimension, 1);
  const auto query = unit_vectors(queries, dimension, 2);
  const auto index = DescriptorIndex::build("Flat", dimension, base.data(), count);
  const auto hits = index->search(query.data(), queries, k);
  for (int q = 0; q < queries; ++q) {
    const auto expected = brute_force(base, query.data() + q * dimension, dimension, k);
    for (int j = 0; j < k; ++j)
      EXPECT_EQ(hits[q * k + j].id, expected[j]) << "query " << q << " rank " << j;
  }
}

TEST(DescriptorIndexOracle, InvertedFileKeepsRecall) {
  // Clustered data, as descriptors of many frames of few shots are.
  const int dimension = 64, centres = 200, per_centre = 60, queries = 200, k = 10;
  const auto centre = unit_vectors(centres, dimension, 3);
  const auto noise = unit_vectors(centres * per_centre, dimension, 4);
  std::vector<float> base(static_cast<std::size_t>(centres) * per_centre * dimension);
  for (int i = 0; i < centres * per_centre; ++i) {
    float norm = 0;
    for (int d = 0; d < dimension; ++d) {
      float& value = base[i * dimension + d];
      value = centre[(i / per_centre) * dimension + d] + 0.6f * noise[i * dimension + d];
      norm += value * value;
    }
    for (int d = 0; d < dimension; ++d) base[i * dimension + d] /= std::sqrt(norm);
  }
  const int count = centres * per_centre;
  const std::string factory = "IVF256,SQ8";
  const auto index = DescriptorIndex::build(factory, dimension, base.data(), count);
  const auto hits = index->search(base.data(), queries, k);  // the first frames as queries
  int found = 0;
  for (int q = 0; q < queries; ++q) {
    const auto expected = brute_force(base, base.data() + q * dimension, dimension, k);
    for (int j = 0; j < k; ++j) {
      found += std::any_of(expected.begin(), expected.end(),
                           [&](std::int64_t id) { return id == hits[q * k + j].id; });
    }
  }
  const double recall = static_cast<double>(found) / (queries * k);
  std::printf("IVF256,SQ8 recall@10 against brute force: %.3f\n", recall);
  EXPECT_GE(recall, 0.9);
}

TEST(HashIndexOracle, BinaryFlatEqualsBruteForceHamming) {
  std::mt19937 random(5);
  const int count = 2000, queries = 30, k = 5;
  std::vector<std::uint8_t> codes(count * 32);
  for (auto& byte : codes) byte = static_cast<std::uint8_t>(random());
  const auto index = HashIndex::build("BFlat", codes.data(), count);
  const auto hits = index->search(codes.data(), queries, k);
  for (int q = 0; q < queries; ++q) {
    std::vector<int> distance(count);
    for (int i = 0; i < count; ++i) {
      for (int b = 0; b < 32; ++b)
        distance[i] += __builtin_popcount(codes[q * 32 + b] ^ codes[i * 32 + b]);
    }
    std::vector<int> sorted = distance;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(hits[q * k].id, q);
    for (int j = 0; j < k; ++j)
      EXPECT_EQ(hits[q * k + j].score, sorted[j]) << "query " << q << " rank " << j;
  }
}

// The partial search's grid against brute force: the k nearest codes among the features within
// reach of each query, on features clustered near cell edges and the picture's border, where a
// grid would lose them first.
TEST(LocalFeatureGridOracle, EqualsBruteForceWithinReach) {
  std::mt19937 random(7);
  std::uniform_real_distribution<float> anywhere(0.f, 1.f), jitter(-0.002f, 0.002f);
  const int count = 6000, k = 8;
  const double reach = 0.06;
  std::vector<IndexedLocalFeature> features(count);
  std::vector<std::uint8_t> codes(count * 32);
  for (int i = 0; i < count; ++i) {
    // A third on cell edges (multiples of 1/32) or the border, the rest anywhere.
    const auto place = [&] {
      return i % 3
                 ? anywhere(random)
                 : std::clamp(static_cast<float>(random() % 33) / 32.f + jitter(random), 0.f, 1.f);
    };
    // Positions as the grid keeps them (1/65535 of the picture), so that reach compares alike.
    const auto kept = [](float p) { return std::round(p * 65535.f) / 65535.f; };
    features[i] = {i / 40, kept(place()), kept(place())};
  }
  // Codes from a few prototypes with a few bits changed: many ties and near ties, as corners have.
  for (int i = 0; i < count; ++i) {
    for (int b = 0; b < 32; ++b) codes[i * 32 + b] = static_cast<std::uint8_t>(((i % 7) * 37) ^ b);
    for (int flip = 0; flip < 12; ++flip) codes[i * 32 + random() % 32] ^= 1u << (random() % 8);
  }
  const LocalFeatureGrid grid(features, codes);
  std::vector<engine::LocalFeature> queries(40);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const IndexedLocalFeature& near = features[(q * 131) % count];
    queries[q].x = near.x + jitter(random) * 10;
    queries[q].y = near.y + jitter(random) * 10;
    std::memcpy(queries[q].code.data(), codes.data() + ((q * 131) % count) * 32, 32);
    queries[q].code[q % 32] ^= 0x11;
  }
  const std::vector<Neighbour> hits = grid.search(queries, k, reach);
  ASSERT_EQ(hits.size(), queries.size() * k);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    std::vector<std::pair<int, std::int64_t>> in_reach;  // (distance, id)
    for (int i = 0; i < count; ++i) {
      if (std::abs(features[i].x - queries[q].x) > reach ||
          std::abs(features[i].y - queries[q].y) > reach)
        continue;
      int d = 0;
      for (int b = 0; b < 32; ++b) d += __builtin_popcount(queries[q].code[b] ^ codes[i * 32 + b]);
      in_reach.push_back({d, i});
    }
    std::sort(in_reach.begin(), in_reach.end());
    ASSERT_GE(in_reach.size(), static_cast<std::size_t>(k)) << "query " << q;
    for (int j = 0; j < k; ++j) {
      const Neighbour& hit = hits[q * k + j];
      EXPECT_EQ(hit.score, in_reach[j].first) << "query " << q << " rank " << j;
      ASSERT_GE(hit.id, 0);
      const IndexedLocalFeature found = grid.feature(hit.id);
      EXPECT_LE(std::abs(found.x - queries[q].x), reach);
      EXPECT_LE(std::abs(found.y - queries[q].y), reach);
      int d = 0;
      for (int b = 0; b < 32; ++b)
        d += __builtin_popcount(queries[q].code[b] ^ grid.code(hit.id)[b]);
      EXPECT_EQ(d, hit.score) << "query " << q << " rank " << j;
    }
  }
  // Fewer features in reach than k: the rest is padded with id -1.
  std::vector<engine::LocalFeature> lonely(1);
  const LocalFeatureGrid sparse({{0, 0.5f, 0.5f}, {0, 0.9f, 0.9f}}, std::vector<std::uint8_t>(64));
  const std::vector<Neighbour> few = sparse.search(lonely, 3, reach);  // query at (0, 0)
  EXPECT_EQ(few[0].id, -1);
  lonely[0].x = lonely[0].y = 0.47f;
  const std::vector<Neighbour> one = sparse.search(lonely, 3, reach);
  EXPECT_EQ(one[0].id, 0);
  EXPECT_EQ(one[1].id, -1);
}

// Appending and removing a run of ids leave every index type answering as one built from the
// remaining vectors would: each vector finds itself under its renumbered id (the ids above a
// removed run move down by its length, as the catalog's frames do).
TEST(DescriptorIndex, AppendsAndRemovesRunsOfIds) {
  const int dimension = 32, count = 3000, added = 400, first = 1000, removed = 500;
  const std::vector<float> base = unit_vectors(count + added, dimension, 11);
  for (const std::string factory : {"Flat", "IVF16,SQ8"}) {
    const auto index = DescriptorIndex::build(factory, dimension, base.data(), count);
    index->add(base.data() + std::size_t{count} * dimension, added);
    index->remove_range(first, removed);
    ASSERT_EQ(index->size(), count + added - removed) << factory;
    for (int i = 0; i < count + added; i += 7) {
      if (i >= first && i < first + removed) continue;
      const auto hit = index->search(base.data() + std::size_t(i) * dimension, 1, 1).front();
      EXPECT_EQ(hit.id, i < first ? i : i - removed) << factory << " vector " << i;
    }
  }
}

TEST(HashIndex, AppendsAndRemovesRunsOfIds) {
  std::mt19937 random(9);
  const int count = 3000, added = 400, first = 1000, removed = 500;
  std::vector<std::uint8_t> codes(std::size_t{count + added} * 32);
  for (auto& byte : codes) byte = static_cast<std::uint8_t>(random());
  for (const std::string factory : {"BFlat", "BIVF16"}) {
    const auto index = HashIndex::build(factory, codes.data(), count);
    index->add(codes.data() + std::size_t{count} * 32, added);
    index->remove_range(first, removed);
    ASSERT_EQ(index->size(), count + added - removed) << factory;
    for (int i = 0; i < count + added; i += 7) {
      if (i >= first && i < first + removed) continue;
      const auto hit = index->search(codes.data() + std::size_t(i) * 32, 1, 1).front();
      EXPECT_EQ(hit.id, i < first ? i : i - removed) << factory << " code " << i;
      EXPECT_EQ(hit.score, 0) << factory << " code " << i;
    }
    // Its codes read back in id order: what an index of another type is made from.
    std::vector<std::uint8_t> kept(codes.begin(), codes.begin() + first * 32);
    kept.insert(kept.end(), codes.begin() + (first + removed) * 32, codes.end());
    EXPECT_TRUE(index->codes() == kept) << factory;
  }
}

// Inverted files loaded for search map their lists from the file: the same neighbours as the same
// index read into memory, and a cut file is refused when it is loaded rather than read past its
// end by a search.
TEST(MappedIndexes, SearchAsLoadedIntoMemoryAndRefuseACutFile) {
  testing::TempDir dir;
  const int dimension = 32, count = 3000;
  const std::vector<float> vectors = unit_vectors(count, dimension, 5);
  std::mt19937 random(5);
  std::vector<std::uint8_t> codes(std::size_t{count} * 32);
  for (auto& byte : codes) byte = static_cast<std::uint8_t>(random());
  const std::string descriptors = dir.path("descriptors.faiss"), hashes = dir.path("hashes.faiss");
  DescriptorIndex::build("IVF16,SQ8", dimension, vectors.data(), count)->save(descriptors);
  HashIndex::build("BIVF16", codes.data(), count)->save(hashes);
  const auto mapped =
      DescriptorIndex::load(descriptors, "IVF16,SQ8", dimension, count, Loading::kMapped);
  const auto in_memory =
      DescriptorIndex::load(descriptors, "IVF16,SQ8", dimension, count, Loading::kPrivate);
  const auto mapped_hashes = HashIndex::load(hashes, "BIVF16", count, Loading::kMapped);
  const auto hashes_in_memory = HashIndex::load(hashes, "BIVF16", count, Loading::kPrivate);
  for (int i = 0; i < count; i += 97) {
    const auto a = mapped->search(vectors.data() + std::size_t(i) * dimension, 1, 10);
    const auto b = in_memory->search(vectors.data() + std::size_t(i) * dimension, 1, 10);
    for (int j = 0; j < 10; ++j) EXPECT_EQ(a[j].id, b[j].id) << i;
    EXPECT_EQ(a.front().id, i);
    const auto c = mapped_hashes->search(codes.data() + std::size_t(i) * 32, 1, 10);
    const auto d = hashes_in_memory->search(codes.data() + std::size_t(i) * 32, 1, 10);
    for (int j = 0; j < 10; ++j) EXPECT_EQ(c[j].id, d[j].id) << i;
    EXPECT_EQ(c.front().id, i);
  }
  EXPECT_TRUE(mapped_hashes->codes() == codes);
  // An index held in memory can still be changed; the library saves it as a new file.
  in_memory->remove_range(0, 10);
  EXPECT_EQ(in_memory->size(), count - 10);

  for (const auto& [path, is_descriptors] : {std::pair{descriptors, true}, {hashes, false}}) {
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size - size / 3);
    if (is_descriptors) {
      EXPECT_THROW(DescriptorIndex::load(path, "IVF16,SQ8", dimension, count, Loading::kMapped)
                       ->search(vectors.data(), 1, 10),
                   FormatError);
    } else {
      EXPECT_THROW(
          HashIndex::load(path, "BIVF16", count, Loading::kMapped)->search(codes.data(), 1, 10),
          FormatError);
    }
  }
}

TEST(DescriptorIndex, AutoFactoryIsExactForSmallLibraries) {
  EXPECT_EQ(auto_descriptor_factory(1000), "Flat");
  EXPECT_EQ(auto_descriptor_factory(100000), "Flat");
  EXPECT_EQ(auto_descriptor_factory(1000000).rfind("IVF", 0), 0u);
}

}  // namespace
}  // namespace celtrace::index
