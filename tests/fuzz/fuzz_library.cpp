// The library loaders: catalog (SQLite rows), index files (header checks against the catalog),
// model. A small valid library is built once; each input names one of its files and patches it
// (set, xor or truncate at places given as shares of the file), then the library is opened and, if
// that succeeds, searched. Any damage must end as a celtrace::Error.
//
// Input: byte 0 picks the file (in name order), then records of 4 bytes: u16 place (share of the
// file's size, in 65536ths), u8 value, u8 operation (0 set, 1 xor, 2 truncate).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/model.h"
#include "index/library.h"
#include "index/lookup.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace fs = std::filesystem;
using namespace celtrace;

engine::Fingerprint synthetic_fingerprint(std::mt19937& random, int samples) {
  const engine::ProjectionModel& model = engine::default_model();
  std::normal_distribution<float> normal;
  engine::Fingerprint print;
  print.model_id = model.id;
  print.descriptor_size = model.output_size;
  print.sample_fps = 2;
  print.media.duration_seconds = samples / 2.0;
  for (int i = 0; i < samples; ++i) {
    engine::Sample s;
    s.pts_seconds = i / 2.0;
    s.detail = 5;
    s.descriptor.resize(static_cast<std::size_t>(model.output_size));
    float norm = 0;
    for (float& v : s.descriptor) {
      v = normal(random);
      norm += v * v;
    }
    for (float& v : s.descriptor) v /= std::sqrt(norm);
    s.mirrored_descriptor = s.descriptor;
    for (int f = 0; f < (i % 6 == 0 ? 20 : 0); ++f) {
      engine::LocalFeature feature;
      feature.x = static_cast<float>(random() % 100) / 100.f;
      feature.y = static_cast<float>(random() % 100) / 100.f;
      for (auto& byte : feature.code) byte = static_cast<std::uint8_t>(random());
      s.local_features.push_back(feature);
    }
    print.samples.push_back(std::move(s));
  }
  return print;
}

struct Pristine {
  fs::path directory;
  std::vector<fs::path> files;
  engine::Fingerprint query;
};

const Pristine& pristine() {
  static const Pristine built = [] {
    Pristine p;
    p.directory = fuzz::work_directory() / "pristine";
    fs::remove_all(p.directory);
    std::mt19937 random(7);
    std::vector<index::NewReference> references;
    for (int n = 0; n < 2; ++n) {
      index::NewReference r;
      r.fingerprint = synthetic_fingerprint(random, 60);
      r.name = "Show.S01E0" + std::to_string(n + 1);
      r.title = "Show";
      r.season = 1;
      r.episode = n + 1;
      r.path = "/nonexistent/" + r.name + ".mp4";
      r.checksum = r.name;
      references.push_back(std::move(r));
    }
    p.query = references[0].fingerprint;
    p.query.samples.resize(12);
    index::Library::open_or_create(p.directory.string(), engine::default_model()).add(references);
    for (const auto& entry : fs::directory_iterator(p.directory)) p.files.push_back(entry.path());
    std::sort(p.files.begin(), p.files.end());
    return p;
  }();
  return built;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Pristine& p = pristine();
  const fs::path work = fuzz::work_directory() / "library";
  fs::remove_all(work);
  fs::copy(p.directory, work);
  const fs::path target = work / p.files[data[0] % p.files.size()].filename();
  std::string bytes;
  {
    std::ifstream in(target, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::size_t i = 1; i + 4 <= size; i += 4) {
    if (bytes.empty()) break;
    const std::size_t place = (data[i] | (data[i + 1] << 8)) * bytes.size() / 65536;
    switch (data[i + 3] % 3) {
      case 0:
        bytes[place] = static_cast<char>(data[i + 2]);
        break;
      case 1:
        bytes[place] = static_cast<char>(bytes[place] ^ data[i + 2]);
        break;
      default:
        bytes.resize(place);
        break;
    }
  }
  std::ofstream(target, std::ios::binary | std::ios::trunc) << bytes;
  try {
    const index::Library library = index::Library::open(work.string());
    index::LookupOptions options;
    options.verify = false;
    index::match(library, p.query, "", options);
    library.hashes().search(p.query.samples.front().pdq.bytes.data(), 1, 4);
  } catch (const Error&) {
  }
  return 0;
}
