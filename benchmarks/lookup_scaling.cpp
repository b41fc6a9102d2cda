// Lookup cost as the library grows: search plus temporal alignment for a 10 s query (decode and
// visual verification excluded) against libraries of 1, 10, 100 or 1,000 reference hours, and for
// the same 10 s as a layer (its characters on white: the partial search's cost); recall
// of the query's known positives against exact search (as a lookup searches them,
// index::Library::nearest_frames, and by the index alone); a lookup process's start-up time and
// memory; the wall time of adding one 22-minute episode's frames (the index change; the episode's
// fingerprint is not timed) and of removing it again; with --compare, candidate index types for
// the whole-picture descriptors and the PDQ hashes, built from the same library's catalog.
//
// Each library holds one real generated episode (the query's source, with the local features a
// reference gets) and synthetic filler frames: real samples of other generated episodes (their
// descriptors, PDQ hashes and key frames' local features), perturbed, so that the filler clusters
// like real data and has real key-frame rates. The query path is the real one: the query is
// fingerprinted as `celtrace lookup` does (index::fingerprint_query) and matched by index::match.
//
//   lookup_scaling WORK_DIR [--keep] [--no-local] [--compare] [HOURS...]
//       Builds library-<H>h in WORK_DIR for each H (default 1 10 100) and measures it. --keep
//       leaves the libraries; --no-local gives the filler no local features; --compare (an hour
//       or more: inverted files need vectors to train on) also
//       measures other index types.
//   lookup_scaling --measure WORK_DIR LIBRARY [--compare]
//       Measures a library made by an earlier run (another build of the program, another FAISS).
//   lookup_scaling --probe LIBRARY QUERY
//       One lookup process, as the two modes above start it: opens LIBRARY, fingerprints QUERY
//       and matches it once; prints open ms, match ms and its memory (MB: peak resident, resident
//       anonymous, resident file-backed).
// Run with OMP_NUM_THREADS=1 to build on one core as well; lookups are always timed on one.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>

#include "benchmarks/generator/cartoon.h"
#include "engine/decode/video_encoder.h"
#include "engine/fingerprinter.h"
#include "index/lookup.h"

namespace {

using namespace celtrace;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kQueryStart = 60.0;  // seconds into the source episode
constexpr int kNeighbours = 24;       // as index::match searches
constexpr int kPdqDistance = 31;      // as hash-only lookups match (Meta's default)
constexpr int kLocalDistance = 64;    // as the partial search takes a local feature's match
constexpr int kLocalNeighbours = 8;   // ... among this many nearest codes
constexpr int kRuns = 21;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void write_episode(const std::string& path, int series, int episode, double story_seconds) {
  const bench::Series s = bench::make_series(series, "Scaling " + std::to_string(series));
  const bench::Episode e = bench::make_episode(s, episode, story_seconds);
  engine::VideoEncoder encoder(path, 320, 180, bench::kFps);
  for (int f = 0; f < e.total_frames(); ++f) {
    const cv::Mat frame = bench::render_frame(e, f, bench::Render::kFinal, 320, 180);
    encoder.write_bgr(frame.data, static_cast<int>(frame.step), f / bench::kFps);
  }
  encoder.finish();
}

// The query: 10 s of the source episode from kQueryStart, re-encoded; `render` kNoBackground
// gives the layer query (its characters on white), searched by the partial search.
void write_query(const std::string& path, bench::Render render = bench::Render::kFinal) {
  const bench::Series s = bench::make_series(61, "Scaling 61");
  const bench::Episode e = bench::make_episode(s, 1, 120);
  engine::VideoEncoder encoder(path, 320, 180, bench::kFps, {"libx264", 30});
  for (int f = 0; f < 240; ++f) {
    const cv::Mat frame =
        bench::render_frame(e, static_cast<int>(kQueryStart * bench::kFps) + f, render, 320, 180);
    encoder.write_bgr(frame.data, static_cast<int>(frame.step), f / bench::kFps);
  }
}

double status_megabytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  }
  return 0;
}

int probe(const std::string& library_path, const std::string& query_path) {
  const auto open_start = Clock::now();
  const index::Library library = index::Library::open(library_path);
  const double open_ms = seconds_since(open_start) * 1e3;
  index::search_on_one_thread();
  index::LookupOptions options;
  options.verify = false;
  const engine::Fingerprint query = index::fingerprint_query(library, query_path, options);
  const auto match_start = Clock::now();
  const index::LookupResult result = index::match(library, query, query_path, options);
  const double match_ms = seconds_since(match_start) * 1e3;
  std::printf("%.1f %.1f %.1f %.1f %.1f %zu\n", open_ms, match_ms, status_megabytes("VmHWM"),
              status_megabytes("RssAnon"), status_megabytes("RssFile"), result.matches.size());
  return 0;
}

// A lookup process, started as `celtrace lookup` would be: this program with --probe.
struct ProcessFigures {
  double wall_ms = 0, open_ms = 0, match_ms = 0, peak_mb = 0, anonymous_mb = 0, file_mb = 0;
};

ProcessFigures run_probe(const std::string& library, const std::string& query) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  const auto start = Clock::now();
  const pid_t child = fork();
  if (child == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    execl("/proc/self/exe", "lookup_scaling", "--probe", library.c_str(), query.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ProcessFigures f;
  f.wall_ms = seconds_since(start) * 1e3;
  std::istringstream in(text);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      !(in >> f.open_ms >> f.match_ms >> f.peak_mb >> f.anonymous_mb >> f.file_mb))
    throw std::runtime_error("probe failed: " + text);
  return f;
}

// Every frame of a library's catalog: descriptors (row-major) and PDQ hashes, in id order.
struct CatalogVectors {
  std::vector<float> descriptors;
  std::vector<std::uint8_t> hashes;
  std::int64_t count = 0;
};

CatalogVectors read_catalog(const fs::path& library) {
  CatalogVectors v;
  const index::Catalog catalog((library / "catalog.sqlite").string());
  catalog.for_each_frame(true, [&](const index::FrameRecord& f) {
    v.descriptors.insert(v.descriptors.end(), f.descriptor.begin(), f.descriptor.end());
    v.hashes.insert(v.hashes.end(), f.pdq.begin(), f.pdq.end());
    ++v.count;
  });
  return v;
}

// The query's informative descriptors and PDQ hashes, and their sample times.
struct QueryVectors {
  std::vector<float> descriptors;
  std::vector<std::uint8_t> hashes;
  std::vector<double> times;
};

QueryVectors query_vectors(const engine::Fingerprint& query) {
  QueryVectors q;
  for (const engine::Sample& s : query.samples) {
    if (!index::is_informative(s)) continue;
    q.descriptors.insert(q.descriptors.end(), s.descriptor.begin(), s.descriptor.end());
    q.hashes.insert(q.hashes.end(), s.pdq.bytes.begin(), s.pdq.bytes.end());
    q.times.push_back(s.pts_seconds);
  }
  return q;
}

// Recall of the known positives: of the exact top-k neighbours of each query sample, those in the
// source episode within 1 s of the sample's true time; the share of them the index under test
// also returns in its top-k.
struct Recall {
  int positives = 0, found = 0;
  double value() const { return positives ? static_cast<double>(found) / positives : 0; }
};

Recall descriptor_recall(const std::vector<index::Neighbour>& exact,
                         const std::vector<index::Neighbour>& tested,
                         const std::vector<double>& times, const index::Library& library,
                         std::int64_t source) {
  Recall r;
  for (std::size_t q = 0; q < times.size(); ++q) {
    std::set<std::int64_t> returned;
    for (int j = 0; j < kNeighbours; ++j) returned.insert(tested[q * kNeighbours + j].id);
    for (int j = 0; j < kNeighbours; ++j) {
      const std::int64_t id = exact[q * kNeighbours + j].id;
      if (id < 0) continue;
      const index::IndexedFrame& frame = library.frames()[static_cast<std::size_t>(id)];
      if (frame.reference != source || std::abs(frame.pts_seconds - (kQueryStart + times[q])) > 1.0)
        continue;
      ++r.positives;
      r.found += returned.count(id) ? 1 : 0;
    }
  }
  return r;
}

// Code positives: every library code within `max_bits` of a query code among the exact search's
// `k` nearest (PDQ hashes, local features).
Recall code_recall(const std::vector<index::Neighbour>& exact,
                   const std::vector<index::Neighbour>& tested, std::size_t queries, int k,
                   float max_bits) {
  Recall r;
  for (std::size_t q = 0; q < queries; ++q) {
    std::set<std::int64_t> returned;
    for (int j = 0; j < k; ++j) {
      const index::Neighbour& n = tested[q * k + j];
      if (n.id >= 0 && n.score <= max_bits) returned.insert(n.id);
    }
    for (int j = 0; j < k; ++j) {
      const index::Neighbour& n = exact[q * k + j];
      if (n.id < 0 || n.score > max_bits) continue;
      ++r.positives;
      r.found += returned.count(n.id) ? 1 : 0;
    }
  }
  return r;
}

template <typename Search>
std::pair<double, double> p50_p95_ms(Search search) {
  std::vector<double> ms;
  for (int run = 0; run < kRuns; ++run) {
    const auto start = Clock::now();
    search();
    ms.push_back(seconds_since(start) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 95 / 100]};
}

std::string join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& p : parts) text += "| " + p + " ";
  return text + "|";
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// One row of the comparison: an index made by `build` (timed), saved to `scratch` for its size,
// `search` timed, and its neighbours scored by `score` (a Recall).
template <typename Build, typename Search, typename Score>
void compare_row(double hours, const std::string& what, const std::string& factory,
                 const fs::path& scratch, Build build, Search search, Score score) {
  const auto start = Clock::now();
  const auto tested = build();
  const double build_seconds = seconds_since(start);
  tested->save(scratch.string());
  const double megabytes = static_cast<double>(fs::file_size(scratch)) / 1e6;
  const auto [p50, p95] = p50_p95_ms([&] { search(*tested); });
  const Recall recall = score(search(*tested));
  std::printf("%s\n", join({fixed(hours, 0), what, factory, fixed(build_seconds, 1),
                            fixed(megabytes / hours, 2), fixed(p50, 2), fixed(p95, 2),
                            fixed(recall.value(), 3) + " of " + std::to_string(recall.positives)})
                          .c_str());
  std::fflush(stdout);
}

// Other index types built from the library's catalog (`all`), searched with the query's vectors:
// one table row each. `exact_descriptors`: the exact search's neighbours of the query's samples.
void compare_index_types(const fs::path& directory, const index::Library& library,
                         const CatalogVectors& all,
                         const std::vector<index::Neighbour>& exact_descriptors,
                         const QueryVectors& query, double hours, std::int64_t source) {
  const int dimension = library.model().output_size;
  const auto queries = static_cast<std::int64_t>(query.times.size());
  const auto exact_hashes = index::HashIndex::build("BFlat", all.hashes.data(), all.count)
                                ->search(query.hashes.data(), queries, kNeighbours);
  const std::string lists = std::to_string(std::stoi(
      index::auto_descriptor_factory(std::max<std::int64_t>(all.count, 250'001)).substr(3)));
  const fs::path scratch = directory / "compare.faiss";
  // Types whose build is linear in the vectors times the lists (a flat quantizer assigning every
  // vector), or a graph over every vector (HNSW), take hours past a million entries on 2 cores:
  // they are compared below that. IVF-PQ was tried at 1 hour: 190 s to train, recall as SQ8.
  const bool small = all.count <= 1'000'000;
  std::vector<std::string> descriptor_types = {"IVF" + lists + ",SQ8",
                                               "IVF" + lists + "_HNSW32,SQ8"};
  if (small) descriptor_types.push_back("HNSW32,SQ8");
  std::vector<std::string> hash_types = {"BFlat", "BIVF" + lists + "_HNSW32"};
  if (small) hash_types.push_back("BIVF" + lists);
  for (const std::string& factory : descriptor_types) {
    compare_row(
        hours, "descriptors", factory, scratch,
        [&] {
          return index::DescriptorIndex::build(factory, dimension, all.descriptors.data(),
                                               all.count);
        },
        [&](const index::DescriptorIndex& tested) {
          return tested.search(query.descriptors.data(), queries, kNeighbours);
        },
        [&](const std::vector<index::Neighbour>& found) {
          return descriptor_recall(exact_descriptors, found, query.times, library, source);
        });
  }
  for (const std::string& factory : hash_types) {
    compare_row(
        hours, "PDQ hashes", factory, scratch,
        [&] { return index::HashIndex::build(factory, all.hashes.data(), all.count); },
        [&](const index::HashIndex& tested) {
          return tested.search(query.hashes.data(), queries, kNeighbours);
        },
        [&](const std::vector<index::Neighbour>& found) {
          return code_recall(exact_hashes, found, query.times.size(), kNeighbours, kPdqDistance);
        });
  }
  // Local features: the source episode's key-frame codes with 16 of 256 bits flipped (a redrawn
  // corner), searched among every local feature; positives within 64 bits, as the partial
  // search takes them.
  const index::LocalFeatureGrid& grid = library.local_features();
  std::vector<std::uint8_t> codes;
  for (std::int64_t i = 0; i < grid.size(); ++i)
    codes.insert(codes.end(), grid.code(i), grid.code(i) + 32);
  std::vector<std::uint8_t> queries_local;
  std::mt19937 random(11);
  for (std::int64_t i = 0; i < grid.size() && queries_local.size() < 32 * 1000; ++i) {
    const auto frame = static_cast<std::size_t>(grid.feature(i).frame);
    if (library.frames()[frame].reference != source) continue;
    std::array<std::uint8_t, 32> code;
    std::copy_n(grid.code(i), 32, code.begin());
    for (int b = 0; b < 16; ++b)
      code[random() % 32] ^= static_cast<std::uint8_t>(1u << (random() % 8));
    queries_local.insert(queries_local.end(), code.begin(), code.end());
  }
  const auto local_count = static_cast<std::int64_t>(codes.size() / 32);
  const auto local_queries = static_cast<std::int64_t>(queries_local.size() / 32);
  fs::remove(scratch);
  if (local_count < 1000 || local_queries == 0) return;
  const auto exact_local = index::HashIndex::build("BFlat", codes.data(), local_count)
                               ->search(queries_local.data(), local_queries, kLocalNeighbours);
  const std::string local_lists = std::to_string(std::stoi(  // as many lists as for descriptors
      index::auto_descriptor_factory(std::max<std::int64_t>(local_count, 250'001)).substr(3)));
  std::vector<std::string> local_types = {"BFlat", "BIVF" + local_lists + "_HNSW32"};
  if (local_count <= 1'000'000) local_types.push_back("BIVF" + local_lists);
  for (const std::string& factory : local_types) {
    compare_row(
        hours, "local features (" + std::to_string(local_queries) + " codes)", factory, scratch,
        [&] { return index::HashIndex::build(factory, codes.data(), local_count); },
        [&](const index::HashIndex& tested) {
          return tested.search(queries_local.data(), local_queries, kLocalNeighbours);
        },
        [&](const std::vector<index::Neighbour>& found) {
          return code_recall(exact_local, found, static_cast<std::size_t>(local_queries),
                             kLocalNeighbours, kLocalDistance);
        });
  }
  fs::remove(scratch);
}

// Measures the library in `directory`, `build_seconds` the time it took to build (negative: not
// built by this run), and prints its table row; then times one episode added and removed.
void measure(const fs::path& directory, const std::string& query_path,
             const std::string& layer_path, double build_seconds,
             const std::function<index::NewReference()>& episode, bool compare) {
  // Two lookup processes one after the other: the second finds the library in the page cache.
  run_probe(directory.string(), query_path);
  const ProcessFigures process = run_probe(directory.string(), query_path);

  index::search_on_one_thread();
  const index::Library library = index::Library::open(directory.string());
  const double hours = library.frames().size() / 2.0 / 3600;
  std::int64_t source = -1;
  for (const auto& r : library.references()) {
    if (r.name == "source") source = r.id;
  }
  index::LookupOptions options;
  options.verify = false;
  const engine::Fingerprint query = index::fingerprint_query(library, query_path, options);
  bool found = false;
  const auto [p50, p95] = p50_p95_ms([&] {
    const index::LookupResult result = index::match(library, query, query_path, options);
    found = !result.matches.empty() && result.matches.front().reference.id == source &&
            std::abs(result.matches.front().segments.front().reference_start - kQueryStart) < 0.5;
  });
  // The layer query's lookup: the partial search over the library's local features, its
  // alignment, and the whole-picture search of its samples (mostly blank).
  const engine::Fingerprint layer = index::fingerprint_query(library, layer_path, options);
  bool layer_found = false;
  const auto [layer_p50, layer_p95] = p50_p95_ms([&] {
    const index::LookupResult result = index::match(library, layer, layer_path, options);
    layer_found = !result.matches.empty() && result.matches.front().reference.id == source;
  });
  const QueryVectors vectors = query_vectors(query);
  const auto queries = static_cast<std::int64_t>(vectors.times.size());
  CatalogVectors all = read_catalog(directory);
  const auto exact_descriptors = index::DescriptorIndex::build("Flat", library.model().output_size,
                                                               all.descriptors.data(), all.count)
                                     ->search(vectors.descriptors.data(), queries, kNeighbours);
  // As a lookup searches (Library::nearest_frames), and the index alone.
  const Recall recall = descriptor_recall(
      exact_descriptors, library.nearest_frames(vectors.descriptors.data(), queries, kNeighbours),
      vectors.times, library, source);
  const Recall index_recall = descriptor_recall(
      exact_descriptors,
      library.descriptors().search(vectors.descriptors.data(), queries, kNeighbours), vectors.times,
      library, source);
  // The catalog's vectors are kept only for the comparison (about 2 GB at 1,000 hours).
  if (!compare) all = {};
  double add_seconds = -1, remove_seconds = -1;
  if (episode) {
    index::Library changing = index::Library::open(directory.string());
    const index::NewReference added = episode();
    auto start = Clock::now();
    changing.add({added});
    add_seconds = seconds_since(start);
    start = Clock::now();
    changing.remove(added.name);
    remove_seconds = seconds_since(start);
  }
  const double disk = static_cast<double>(library.disk_bytes()) / 1e6;
  std::printf("%s\n", join({fixed(hours, 0),
                            std::to_string(library.frames().size()),
                            std::to_string(library.local_features().size()),
                            library.descriptors().factory(),
                            build_seconds < 0 ? "-" : fixed(build_seconds, 0),
                            add_seconds < 0 ? "-" : fixed(add_seconds, 1),
                            remove_seconds < 0 ? "-" : fixed(remove_seconds, 1),
                            fixed(disk / hours, 2),
                            fixed(process.open_ms, 0),
                            fixed(process.wall_ms, 0),
                            fixed(process.peak_mb, 0),
                            fixed(process.anonymous_mb, 0),
                            fixed(process.file_mb, 0),
                            fixed(p50, 1),
                            fixed(p95, 1),
                            fixed(recall.value(), 3) + " of " + std::to_string(recall.positives),
                            fixed(index_recall.value(), 3),
                            found ? "yes" : "NO",
                            fixed(layer_p50, 1),
                            fixed(layer_p95, 1),
                            layer_found ? "yes" : "NO"})
                          .c_str());
  std::fflush(stdout);
  if (compare)
    compare_index_types(directory, library, all, exact_descriptors, vectors, hours, source);
}

void print_header() {
  std::printf(
      "| hours | frames | local features | descriptor index | build s | add 22 min s | remove "
      "it s | disk MB/hour | lookup process: open ms | wall ms | peak MB | anonymous MB | "
      "file-backed MB | search + alignment p50 ms | p95 ms | recall of positives | index alone | "
      "found | layer p50 ms | layer p95 ms | layer found |\n");
  std::printf(
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "--probe") {
    try {
      return probe(args[1], args[2]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "probe: %s\n", e.what());
      return 1;
    }
  }
  // A first argument that looks like an option is no work directory (`--help` made one).
  const bool help = !args.empty() && (args[0] == "--help" || args[0] == "-h");
  if (args.empty() || (args[0] == "--measure" && args.size() < 3) ||
      (args[0].starts_with('-') && args[0] != "--measure")) {
    std::fprintf(help ? stdout : stderr,
                 "usage: lookup_scaling WORK_DIR [--keep] [--no-local] [--compare] [HOURS...]\n"
                 "       lookup_scaling --measure WORK_DIR LIBRARY [--compare]\n");
    return help ? 0 : 2;
  }
  index::stop_idle_blas_threads();
  try {
    const bool measure_only = args[0] == "--measure";
    const fs::path work = measure_only ? args[1] : args[0];
    bool keep = false, local = true, compare = false;
    std::vector<double> hours;
    for (std::size_t i = measure_only ? 3 : 1; i < args.size(); ++i) {
      if (args[i] == "--keep")
        keep = true;
      else if (args[i] == "--no-local")
        local = false;
      else if (args[i] == "--compare")
        compare = true;
      else
        hours.push_back(std::stod(args[i]));
    }
    if (hours.empty()) hours = {1, 10, 100};
    fs::create_directories(work);
    const std::string query_path = (work / "query.mp4").string();
    if (!fs::exists(query_path)) write_query(query_path);
    const std::string layer_path = (work / "layer.mp4").string();
    if (!fs::exists(layer_path)) write_query(layer_path, bench::Render::kNoBackground);
    if (measure_only) {
      print_header();
      measure(args[2], query_path, layer_path, -1, {}, compare);
      return 0;
    }
    const engine::ProjectionModel& model = engine::default_model();
    const engine::Fingerprinter fingerprinter(model);
    const engine::FingerprintOptions reference_options = index::reference_fingerprint_options();
    // The query's source episode and a pool of real samples for the filler.
    const std::string source = (work / "source.mp4").string();
    if (!fs::exists(source)) write_episode(source, 61, 1, 120);
    const engine::Fingerprint source_print = fingerprinter.fingerprint(source, reference_options);
    std::vector<engine::Sample> pool;
    for (int series : {62, 63, 64}) {
      const std::string path = (work / ("pool" + std::to_string(series) + ".mp4")).string();
      if (!fs::exists(path)) write_episode(path, series, 1, 120);
      for (const auto& s : fingerprinter.fingerprint(path, reference_options).samples) {
        if (index::is_informative(s)) pool.push_back(s);
      }
    }
    std::mt19937 random(7);
    std::normal_distribution<float> noise(0.f, 0.35f);
    std::uniform_real_distribution<float> shift(-0.05f, 0.05f);
    // A reference of `frames` filler frames: real samples with noise on the descriptor, 16 PDQ
    // bits and 24 bits of each local feature's code flipped, local features moved a little.
    const auto filler = [&](const std::string& name, std::int64_t frames) {
      index::NewReference r;
      r.name = name;
      r.title = "Filler";
      r.path = "/nonexistent";
      r.checksum = r.name;
      r.fingerprint.model_id = model.id;
      r.fingerprint.descriptor_size = model.output_size;
      r.fingerprint.sample_fps = 2;
      r.fingerprint.media.duration_seconds = static_cast<double>(frames) / 2.0;
      const auto flip = [&](auto& bytes, int bits) {
        for (int b = 0; b < bits; ++b) {
          const auto at = random() % (bytes.size() * 8);
          bytes[at / 8] ^= static_cast<std::uint8_t>(1u << (at % 8));
        }
      };
      for (std::int64_t i = 0; i < frames; ++i) {
        const engine::Sample& from = pool[random() % pool.size()];
        engine::Sample s;
        s.pts_seconds = static_cast<double>(i) / 2.0;
        s.detail = from.detail;
        s.quality = from.quality;
        s.pdq = from.pdq;
        flip(s.pdq.bytes, 16);
        s.descriptor = from.descriptor;
        float norm = 0;
        for (float& v : s.descriptor) {
          v += noise(random);
          norm += v * v;
        }
        for (float& v : s.descriptor) v /= std::sqrt(norm);
        if (local) {
          s.local_features = from.local_features;
          for (engine::LocalFeature& l : s.local_features) {
            l.x = std::clamp(l.x + shift(random), 0.f, 1.f);
            l.y = std::clamp(l.y + shift(random), 0.f, 1.f);
            flip(l.code, 24);
          }
        }
        r.fingerprint.samples.push_back(std::move(s));
      }
      return r;
    };
    print_header();
    for (double h : hours) {
      const fs::path directory = work / ("library-" + std::to_string(static_cast<int>(h)) + "h");
      fs::remove_all(directory);
      const auto build_start = Clock::now();
      {
        index::Library library = index::Library::open_or_create(directory.string(), model);
        std::vector<index::NewReference> references;
        index::NewReference real;
        real.fingerprint = source_print;
        real.name = "source";
        real.title = "Scaling";
        real.path = source;
        real.checksum = "source";
        references.push_back(real);
        // Filler in 30-minute references at 2 samples per second.
        const auto filler_frames = static_cast<std::int64_t>(h * 3600 * 2) -
                                   static_cast<std::int64_t>(source_print.samples.size());
        for (std::int64_t done = 0, n = 0; done < filler_frames; ++n) {
          const std::int64_t frames = std::min<std::int64_t>(3600, filler_frames - done);
          references.push_back(filler("filler-" + std::to_string(n), frames));
          done += frames;
        }
        library.add(references);
      }
      measure(
          directory, query_path, layer_path, seconds_since(build_start),
          [&] { return filler("added-episode", 22 * 60 * 2); }, compare);
      if (!keep) fs::remove_all(directory);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lookup_scaling: %s\n", e.what());
    return 1;
  }
}
