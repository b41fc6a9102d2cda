#include "index/vector_index.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <type_traits>

#include <faiss/IndexBinary.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <omp.h>

#include "engine/errors.h"
#include "index/nearest_codes.h"

namespace celtrace::index {
namespace {

// Inverted-file indexes search this many of their lists: measured to keep recall@10 above 0.95
// on descriptor libraries (benchmarks/lookup_scaling).
constexpr int kProbes = 32;
// Near-duplicate search (shared content): with 4 probes every copy within 0.95 was found among
// 72,000 planted in 720,000 clustered vectors (IVF4096,SQ8), 0.998 with 2, 0.964 with 1.
constexpr int kNearDuplicateProbes = 4;
// Training an inverted file: FAISS's k-means defaults (up to 256 points per list, 25 iterations)
// trained the 4,096 lists of 720,000 descriptors in 78 s; 64 points and 10 iterations in 30 s.
// The lists only route a search: recall is measured by benchmarks/lookup_scaling.
constexpr int kTrainingPointsPerList = 64;
constexpr int kTrainingIterations = 10;
constexpr std::int64_t kExactLimit = 250'000;  // about 35 reference hours at 2 fps
// Binary inverted files (the PDQ index's alternatives, local-feature indexes of libraries made
// before their codes were only stored): lists probed per search.
constexpr int kLocalProbes = 16;
// A binary inverted file's lists are trained by FAISS's float k-means on the codes as 256-d
// vectors; with its defaults (up to 256 points per list, 25 iterations) training the lists of a
// 3.4-hour library (806,000 codes, 4,096 lists) took 470 of the 527 CPU seconds of `index add`.
// The lists only route a search, so a sample trains them.
constexpr int kLocalTrainingPointsPerList = 32;
constexpr int kLocalTrainingIterations = 10;

template <typename Call>
auto guarded(const std::string& what, Call call) {
  try {
    return call();
  } catch (const faiss::FaissException& e) {
    throw Error(what + ": " + e.msg);
  }
}

// FAISS writes in place; write beside and rename so a reader never sees half an index.
template <typename Write>
void save_atomically(const std::string& path, Write write) {
  const std::string temporary = path + ".partial";
  guarded(path, [&] {
    write(temporary.c_str());
    return 0;
  });
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) throw Error(path + ": cannot write (" + error.message() + ")");
}

// Removes ids [first, first + count) from `index` and moves the ids above down by count. Exact
// indexes compact their arrays, which moves the ids by itself; an inverted file keeps its entries'
// ids, which are moved here.
template <typename Index>
void remove_id_range(Index* index, std::int64_t first, std::int64_t count) {
  if (count <= 0) return;
  const faiss::IDSelectorRange range(first, first + count);
  index->remove_ids(range);
  faiss::InvertedLists* lists = nullptr;
  if constexpr (std::is_same_v<Index, faiss::Index>) {
    if (auto* inverted = dynamic_cast<faiss::IndexIVF*>(index)) lists = inverted->invlists;
  } else {
    if (auto* inverted = dynamic_cast<faiss::IndexBinaryIVF*>(index)) lists = inverted->invlists;
  }
  if (lists == nullptr) return;
  auto* arrays = dynamic_cast<faiss::ArrayInvertedLists*>(lists);
  if (arrays == nullptr) throw Error("index: inverted lists of an unexpected kind");
  for (auto& ids : arrays->ids) {
    for (auto& id : ids) {
      if (id >= first + count) id -= count;
    }
  }
}

int io_flags(Loading loading) {
  return loading == Loading::kMapped ? faiss::IO_FLAG_MMAP : 0;
}

// A mapped inverted file (FAISS's OnDiskInvertedLists) as a lookup needs it. FAISS maps the lists
// at the offsets its header gives without comparing them with the file's size: in a cut or damaged
// file a search would touch pages past its end (SIGBUS). And before each search it starts up to 32
// threads that read the probed lists ahead (for lists on a slow disk), which outlive the search
// and ignore a process's one-thread setting: the page cache serves a library, so they are off.
void prepare_mapped_lists(const std::string& path, faiss::InvertedLists* lists) {
  auto* mapped = dynamic_cast<faiss::OnDiskInvertedLists*>(lists);
  if (mapped == nullptr) return;
  mapped->prefetch_nthread = 0;
  const std::size_t entry = mapped->code_size + sizeof(faiss::Index::idx_t);
  for (const faiss::OnDiskOneList& list : mapped->lists) {
    if (list.size > list.capacity ||
        list.capacity > mapped->totsize / std::max<std::size_t>(entry, 1) ||
        list.offset > mapped->totsize - list.capacity * entry) {
      throw FormatError(path + ": an inverted list lies beyond the file's " +
                        std::to_string(mapped->totsize) + " bytes (damaged library)");
    }
  }
}

void tune(faiss::Index* index) {
  if (auto* inverted = dynamic_cast<faiss::IndexIVF*>(index)) inverted->nprobe = kProbes;
}

void tune(faiss::IndexBinary* index) {
  if (auto* inverted = dynamic_cast<faiss::IndexBinaryIVF*>(index)) inverted->nprobe = kLocalProbes;
}

class FaissDescriptorIndex final : public DescriptorIndex {
 public:
  FaissDescriptorIndex(std::unique_ptr<faiss::Index> index, std::string factory)
      : index_(std::move(index)), factory_(std::move(factory)) {
    tune(index_.get());
  }
  void save(const std::string& path) const override {
    save_atomically(path,
                    [&](const char* temporary) { faiss::write_index(index_.get(), temporary); });
  }
  void add(const float* vectors, std::int64_t count) override {
    if (count <= 0) return;
    guarded("descriptor index '" + factory_ + "'", [&] {
      index_->add(count, vectors);
      return 0;
    });
  }
  void remove_range(std::int64_t first, std::int64_t count) override {
    guarded("descriptor index '" + factory_ + "'", [&] {
      remove_id_range<faiss::Index>(index_.get(), first, count);
      return 0;
    });
  }
  std::vector<Neighbour> search(const float* queries, std::int64_t count, int k) const override {
    return search_with(queries, count, k, nullptr);
  }
  std::vector<Neighbour> search_near_duplicates(const float* queries, std::int64_t count,
                                                int k) const override {
    faiss::SearchParametersIVF near;
    near.nprobe = kNearDuplicateProbes;
    return search_with(queries, count, k,
                       dynamic_cast<const faiss::IndexIVF*>(index_.get()) ? &near : nullptr);
  }
  bool exact() const override { return dynamic_cast<const faiss::IndexFlat*>(index_.get()); }
  std::vector<float> reconstruct(const std::vector<std::int64_t>& ids) const override {
    std::vector<float> out(ids.size() * static_cast<std::size_t>(index_->d));
    guarded("descriptor index '" + factory_ + "'", [&] {
      for (std::size_t i = 0; i < ids.size(); ++i)
        index_->reconstruct(ids[i], out.data() + i * static_cast<std::size_t>(index_->d));
      return 0;
    });
    return out;
  }
  std::string factory() const override { return factory_; }
  std::int64_t size() const override { return index_->ntotal; }

 private:
  std::vector<Neighbour> search_with(const float* queries, std::int64_t count, int k,
                                     const faiss::SearchParameters* parameters) const {
    std::vector<Neighbour> out(static_cast<std::size_t>(count) * k);
    if (count == 0 || index_->ntotal == 0) return out;
    std::vector<float> scores(out.size());
    std::vector<faiss::Index::idx_t> labels(out.size());
    guarded("descriptor search", [&] {
      index_->search(count, queries, k, scores.data(), labels.data(), parameters);
      return 0;
    });
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = {labels[i], scores[i]};
    return out;
  }

  std::unique_ptr<faiss::Index> index_;
  std::string factory_;
};

// Exact k nearest 256-bit codes, `queries` rows in parallel. Debian's FAISS is built for the
// x86-64 baseline, whose lack of POPCNT makes each 64-bit count a libgcc call (75% of a layer
// lookup's time, measured with perf); this scan over IndexBinaryFlat's codes is compiled with the
// instruction (index/CMakeLists.txt).
void scan_codes(const std::uint8_t* codes, std::int64_t total, const std::uint8_t* queries,
                std::int64_t count, int k, Neighbour* out) {
#pragma omp parallel for schedule(dynamic, 16)
  for (std::int64_t q = 0; q < count; ++q) {
    NearestCodes nearest(out + q * k, k);
    std::uint64_t query[4];
    std::memcpy(query, queries + 32 * q, 32);
    for (std::int64_t i = 0; i < total; ++i) {
      std::uint64_t code[4];
      std::memcpy(code, codes + 32 * i, 32);
      const int d = hamming_distance(query, code);
      if (nearest.admits(d)) nearest.add(i, d);
    }
  }
}

class FaissHashIndex final : public HashIndex {
 public:
  FaissHashIndex(std::unique_ptr<faiss::IndexBinary> index, std::string factory)
      : index_(std::move(index)), factory_(std::move(factory)) {
    tune(index_.get());
  }
  void save(const std::string& path) const override {
    save_atomically(
        path, [&](const char* temporary) { faiss::write_index_binary(index_.get(), temporary); });
  }
  void add(const std::uint8_t* codes, std::int64_t count) override {
    if (count <= 0) return;
    guarded("hash index '" + factory_ + "'", [&] {
      index_->add(count, codes);
      return 0;
    });
  }
  void remove_range(std::int64_t first, std::int64_t count) override {
    guarded("hash index '" + factory_ + "'", [&] {
      remove_id_range<faiss::IndexBinary>(index_.get(), first, count);
      return 0;
    });
  }
  std::vector<std::uint8_t> codes() const override {
    const auto total = static_cast<std::size_t>(index_->ntotal);
    if (const auto* flat = dynamic_cast<const faiss::IndexBinaryFlat*>(index_.get()))
      return std::vector<std::uint8_t>(flat->xb.begin(), flat->xb.begin() + 32 * total);
    const auto* inverted = dynamic_cast<const faiss::IndexBinaryIVF*>(index_.get());
    if (inverted == nullptr) throw Error("hash index '" + factory_ + "': codes cannot be read");
    return guarded("hash index '" + factory_ + "'", [&] {
      std::vector<std::uint8_t> out(32 * total);
      std::vector<bool> seen(total);
      std::size_t entries = 0;
      const faiss::InvertedLists& lists = *inverted->invlists;
      for (std::size_t list = 0; list < lists.nlist; ++list) {
        const std::size_t size = lists.list_size(list);
        faiss::InvertedLists::ScopedIds ids(&lists, list);
        faiss::InvertedLists::ScopedCodes list_codes(&lists, list);
        // A mapped file's ids need not be 8-byte aligned: copied, not loaded in place.
        const auto* id_bytes = reinterpret_cast<const unsigned char*>(ids.get());
        for (std::size_t i = 0; i < size; ++i, ++entries) {
          std::int64_t stored = 0;
          std::memcpy(&stored, id_bytes + i * sizeof stored, sizeof stored);
          const auto id = static_cast<std::size_t>(stored);
          if (stored < 0 || id >= total || seen[id])
            throw FormatError("hash index '" + factory_ + "': an inverted list holds id " +
                              std::to_string(stored) + " (damaged library)");
          seen[id] = true;
          std::memcpy(out.data() + 32 * id, list_codes.get() + 32 * i, 32);
        }
      }
      if (entries != total)
        throw FormatError("hash index '" + factory_ + "': its lists hold " +
                          std::to_string(entries) + " codes, its header " + std::to_string(total) +
                          " (damaged library)");
      return out;
    });
  }
  std::vector<Neighbour> search(const std::uint8_t* queries, std::int64_t count,
                                int k) const override {
    std::vector<Neighbour> out(static_cast<std::size_t>(count) * k);
    if (count == 0 || index_->ntotal == 0) return out;
    if (const auto* flat = dynamic_cast<const faiss::IndexBinaryFlat*>(index_.get())) {
      scan_codes(flat->xb.data(), flat->ntotal, queries, count, k, out.data());
      return out;
    }
    std::vector<std::int32_t> distances(out.size());
    std::vector<faiss::Index::idx_t> labels(out.size());
    guarded("hash search", [&] {
      index_->search(count, queries, k, distances.data(), labels.data());
      return 0;
    });
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = {labels[i], static_cast<float>(distances[i])};
    return out;
  }
  std::string factory() const override { return factory_; }
  std::int64_t size() const override { return index_->ntotal; }

 private:
  std::unique_ptr<faiss::IndexBinary> index_;
  std::string factory_;
};

}  // namespace

// The header of an exact index file as FAISS writes it (faiss/impl/index_write.cpp): its
// fourcc, then for "IxFI"/"IxF2" (float vectors): d (int32), ntotal (int64), two unused int64, the
// trained flag (1 byte), the metric (int32), the number of floats that follow (uint64); for
// "IBxF" (binary codes): d (int32), code size (int32), ntotal (int64), the trained flag, the
// metric, the number of code bytes that follow. A file whose header claims more than it holds, or
// other vectors than the catalog's, is refused before FAISS reads it (it would allocate what the
// header claims first). Other index types are checked after loading (dimension, count).
void check_exact_header(const std::string& path, int dimension, std::int64_t count) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw Error(path + ": cannot open");
  unsigned char header[45] = {};
  const std::size_t got = std::fread(header, 1, sizeof header, file);
  std::fclose(file);
  const auto read = [&](std::size_t offset, auto value) {
    std::memcpy(&value, header + offset, sizeof value);
    return value;
  };
  const std::string fourcc(reinterpret_cast<const char*>(header), 4);
  std::int64_t d = 0, ntotal = 0, values_per_vector = 0, value_size = 1;
  std::uint64_t stored = 0;
  std::size_t data_offset = 0;
  const bool exact_floats = fourcc == "IxFI" || fourcc == "IxF2", exact_codes = fourcc == "IBxF";
  if (got < 4 || (exact_floats && got < 45) || (exact_codes && got < 33))
    throw FormatError(path + ": cut short (" + std::to_string(got) + " bytes of header)");
  if (exact_floats) {
    d = read(4, std::int32_t{});
    ntotal = read(8, std::int64_t{});
    stored = read(37, std::uint64_t{});
    values_per_vector = d;
    value_size = sizeof(float);
    data_offset = 45;
  } else if (exact_codes) {
    d = read(4, std::int32_t{});
    ntotal = read(12, std::int64_t{});
    stored = read(25, std::uint64_t{});
    values_per_vector = d / 8;
    data_offset = 33;
  } else {
    return;  // not an exact index: checked after loading
  }
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (d != dimension || ntotal != count ||
      stored != static_cast<std::uint64_t>(ntotal * values_per_vector) || error ||
      size < data_offset + stored * static_cast<std::uint64_t>(value_size)) {
    throw FormatError(path + ": index header claims " + std::to_string(ntotal) + " vectors of " +
                      std::to_string(d) + " dimensions in a file of " + std::to_string(size) +
                      " bytes; the catalog has " + std::to_string(count) + " of " +
                      std::to_string(dimension) + " (damaged library)");
  }
}

// OpenBLAS (the BLAS Debian's FAISS runs on when libopenblas0 is installed) has its own thread
// pool besides OpenMP's; weak, so that another BLAS leaves them null. blas_thread_shutdown_ is its
// own name for stopping the pool (blas_server.c).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" void blas_thread_shutdown_() __attribute__((weak));

void stop_idle_blas_threads() {
  if (blas_thread_shutdown_ != nullptr) blas_thread_shutdown_();
}

void search_on_one_thread() {
  omp_set_num_threads(1);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
  // Setting the count starts OpenBLAS's pool (in a forked batch worker it had none), and its
  // threads spin in sched_yield before they sleep: measured as 1.8 of 5.3 CPU s of a batch of 17
  // short files. With one thread set, OpenBLAS never needs the pool again.
  stop_idle_blas_threads();
}

std::string auto_descriptor_factory(std::int64_t count) {
  if (count <= kExactLimit) return "Flat";
  // About 4 sqrt(n) lists, a power of two, trained on the vectors themselves.
  int lists = 1;
  while (lists * lists < 16 * count) lists *= 2;
  return "IVF" + std::to_string(std::min(lists, 65536)) + ",SQ8";
}

std::unique_ptr<DescriptorIndex> DescriptorIndex::build(const std::string& factory, int dimension,
                                                        const float* vectors, std::int64_t count) {
  return guarded("descriptor index '" + factory + "'", [&] {
    std::unique_ptr<faiss::Index> index(
        faiss::index_factory(dimension, factory.c_str(), faiss::METRIC_INNER_PRODUCT));
    if (auto* inverted = dynamic_cast<faiss::IndexIVF*>(index.get())) {
      inverted->cp.max_points_per_centroid = kTrainingPointsPerList;
      inverted->cp.min_points_per_centroid = kTrainingPointsPerList / 2;  // else it warns
      inverted->cp.niter = kTrainingIterations;
    }
    if (!index->is_trained) {
      if (count < 1000)
        throw UsageError("index type " + factory + " needs more vectors to train on");
      index->train(count, vectors);
    }
    if (count > 0) index->add(count, vectors);
    return std::make_unique<FaissDescriptorIndex>(std::move(index), factory);
  });
}

std::unique_ptr<DescriptorIndex> DescriptorIndex::load(const std::string& path,
                                                       const std::string& factory, int dimension,
                                                       std::int64_t count, Loading loading) {
  check_exact_header(path, dimension, count);
  return guarded(path, [&] {
    std::unique_ptr<faiss::Index> index(faiss::read_index(path.c_str(), io_flags(loading)));
    auto* inverted = dynamic_cast<faiss::IndexIVF*>(index.get());
    if (inverted) prepare_mapped_lists(path, inverted->invlists);
    // FAISS reads the metric into its enum unchecked: a damaged file can hold a value the enum
    // lacks, which must not be read as the enum.
    std::int32_t metric = 0;
    static_assert(sizeof metric == sizeof index->metric_type);
    std::memcpy(&metric, &index->metric_type, sizeof metric);
    if (index->d != dimension || index->ntotal != count || metric != faiss::METRIC_INNER_PRODUCT) {
      throw FormatError(path + ": index of " + std::to_string(index->ntotal) + " vectors of " +
                        std::to_string(index->d) + " dimensions (metric " + std::to_string(metric) +
                        "), the catalog has " + std::to_string(count) + " of " +
                        std::to_string(dimension) + " by inner product (damaged library)");
    }
    // A mapped inverted file is never changed: reconstruct() may keep an id's list and offset.
    if (inverted && loading == Loading::kMapped) inverted->make_direct_map(true);
    return std::make_unique<FaissDescriptorIndex>(std::move(index), factory);
  });
}

std::unique_ptr<HashIndex> HashIndex::build(const std::string& factory, const std::uint8_t* codes,
                                            std::int64_t count) {
  return guarded("hash index '" + factory + "'", [&] {
    std::unique_ptr<faiss::IndexBinary> index(faiss::index_binary_factory(256, factory.c_str()));
    if (auto* inverted = dynamic_cast<faiss::IndexBinaryIVF*>(index.get())) {
      inverted->cp.max_points_per_centroid = kLocalTrainingPointsPerList;
      inverted->cp.min_points_per_centroid = kLocalTrainingPointsPerList / 2;  // else it warns
      inverted->cp.niter = kLocalTrainingIterations;
    }
    if (!index->is_trained) {
      if (count < 1000)
        throw UsageError("index type " + factory + " needs more hashes to train on");
      index->train(count, codes);
    }
    if (count > 0) index->add(count, codes);
    return std::make_unique<FaissHashIndex>(std::move(index), factory);
  });
}

std::unique_ptr<HashIndex> HashIndex::load(const std::string& path, const std::string& factory,
                                           std::int64_t count, Loading loading) {
  check_exact_header(path, 256, count);
  return guarded(path, [&] {
    std::unique_ptr<faiss::IndexBinary> index(
        faiss::read_index_binary(path.c_str(), io_flags(loading)));
    if (auto* inverted = dynamic_cast<faiss::IndexBinaryIVF*>(index.get()))
      prepare_mapped_lists(path, inverted->invlists);
    if (index->d != 256 || index->ntotal != count) {
      throw FormatError(path + ": index of " + std::to_string(index->ntotal) + " codes of " +
                        std::to_string(index->d) + " bits, the catalog has " +
                        std::to_string(count) + " of 256 (damaged library)");
    }
    return std::make_unique<FaissHashIndex>(std::move(index), factory);
  });
}

}  // namespace celtrace::index
