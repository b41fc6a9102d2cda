// The FAISS seam: nearest-neighbour search over descriptors (inner product on unit vectors) and
// PDQ hashes (Hamming). Only vector_index.cpp includes FAISS; plain arrays cross this header.
// Index types are FAISS factory strings; the library catalog keeps each index's string.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace celtrace::index {

// One search result. For descriptors `score` is the inner product (cosine, -1..1, higher is
// nearer); for hashes it is the Hamming distance in bits (lower is nearer). id -1 = no result.
struct Neighbour {
  std::int64_t id = -1;
  float score = 0.f;
};

// Makes this process search on one thread. Forked batch workers call it first: OpenMP's thread
// pool does not survive fork(), and a child that starts a parallel region over a pool its parent
// had created waits forever; and under a memory limit, a BLAS thread whose buffer cannot be
// allocated leaves the search spinning forever (each new thread also reserves a 64 MB arena).
void search_on_one_thread();

// Stops the threads that OpenBLAS's pthread build (Debian's libopenblas0-pthread, the BLAS FAISS
// runs on) starts when it is loaded: each spins on sched_yield before it sleeps, about 0.1 s of
// CPU in every process (`index add` of vtest.avi: 0.65-0.68 CPU s, 0.54-0.55 with them stopped,
// 3 runs each). OpenBLAS starts them again when a BLAS call needs them. Call once, first thing.
void stop_idle_blas_threads();

// Refuses (FormatError) an exact index file ("Flat", "BFlat") whose header does not describe
// `count` vectors of `dimension` (bits for binary codes) in a file that holds them; files of other
// index types pass, and are checked when loaded.
void check_exact_header(const std::string& path, int dimension, std::int64_t count);

// Chooses a descriptor index type for a library of `count` vectors: exact ("Flat") while that is
// fast enough, an inverted file with 8-bit scalar quantisation beyond.
std::string auto_descriptor_factory(std::int64_t count);

// How a loaded index is held. kMapped: an inverted file's lists are mapped read-only from its file
// (FAISS's IO_FLAG_MMAP), so every process that opens one library shares them through the page
// cache and reads only the lists it probes; such an index cannot change. Exact indexes are read
// into private memory either way (FAISS 1.7 cannot map them). kPrivate: read into private memory,
// to be changed (add, remove_range) and saved as the next generation.
enum class Loading { kMapped, kPrivate };

class DescriptorIndex {
 public:
  virtual ~DescriptorIndex() = default;
  // vectors: count x dimension floats, row-major; ids are 0..count-1 in that order.
  // factory: a FAISS factory string ("Flat", "IVF1024,SQ8", "HNSW32", ...); training, when the
  // type needs it, uses the vectors themselves.
  static std::unique_ptr<DescriptorIndex> build(const std::string& factory, int dimension,
                                                const float* vectors, std::int64_t count);
  // Loads an index written by save() and checks it against what the catalog says it holds
  // (`dimension`, `count` vectors, inner-product metric): FormatError naming the file otherwise.
  // An exact index's header is checked against the file's size before FAISS allocates for it,
  // a mapped inverted file's lists against it before any is read.
  static std::unique_ptr<DescriptorIndex> load(const std::string& path, const std::string& factory,
                                               int dimension, std::int64_t count, Loading loading);
  virtual void save(const std::string& path) const = 0;
  // Appends `count` vectors (count x dimension floats) with ids size() onwards, without training
  // again: an inverted file keeps the lists it was trained with.
  virtual void add(const float* vectors, std::int64_t count) = 0;
  // Removes ids first..first+count-1; the ids above move down by count, as the catalog's
  // renumbering moves its frames when a reference is removed. Nothing is trained again.
  virtual void remove_range(std::int64_t first, std::int64_t count) = 0;
  // queries: count x dimension floats; returns count * k neighbours, best first per query.
  virtual std::vector<Neighbour> search(const float* queries, std::int64_t count, int k) const = 0;
  // As search, for near-duplicates only (neighbours within about 0.95 of a query, the shared
  // content of index/library.h): an inverted file probes a few lists instead of a lookup's 32,
  // since a near-duplicate lies in the lists nearest its query. At 100 reference hours this search
  // over every frame of a first build took 150 of its 400 s.
  virtual std::vector<Neighbour> search_near_duplicates(const float* queries, std::int64_t count,
                                                        int k) const = 0;
  // Whether search() returns the exact nearest neighbours (an exact index), not an inverted
  // file's approximation.
  virtual bool exact() const = 0;
  // The stored vectors of `ids` (ids.size() x dimension floats, in that order), as a search scores
  // them: an inverted file's are decoded from its 8-bit codes. A mapped inverted file keeps a map
  // from id to list for this (8 bytes a vector, built when it is loaded); an inverted file loaded
  // to be changed has none and throws Error.
  virtual std::vector<float> reconstruct(const std::vector<std::int64_t>& ids) const = 0;
  virtual std::string factory() const = 0;
  virtual std::int64_t size() const = 0;
};

// 256-bit binary codes under Hamming distance: PDQ hashes, and local features' ORB codes.
class HashIndex {
 public:
  virtual ~HashIndex() = default;
  // codes: count x 32 bytes (256-bit PDQ hashes); ids are 0..count-1.
  static std::unique_ptr<HashIndex> build(const std::string& factory, const std::uint8_t* codes,
                                          std::int64_t count);
  // As DescriptorIndex::load, for `count` 256-bit codes.
  static std::unique_ptr<HashIndex> load(const std::string& path, const std::string& factory,
                                         std::int64_t count, Loading loading);
  virtual void save(const std::string& path) const = 0;
  // As DescriptorIndex::add, for `count` 256-bit codes.
  virtual void add(const std::uint8_t* codes, std::int64_t count) = 0;
  // As DescriptorIndex::remove_range.
  virtual void remove_range(std::int64_t first, std::int64_t count) = 0;
  // Every code it holds, size() x 32 bytes in id order: what an index of another type is made
  // from (the library keeps local features' codes in their index only). FormatError when its ids
  // are not 0..size()-1, each once.
  virtual std::vector<std::uint8_t> codes() const = 0;
  virtual std::vector<Neighbour> search(const std::uint8_t* queries, std::int64_t count,
                                        int k) const = 0;
  virtual std::string factory() const = 0;
  virtual std::int64_t size() const = 0;
};

}  // namespace celtrace::index
