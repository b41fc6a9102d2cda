// Library catalog round trips and atomicity, on synthetic fingerprints (no decoding).
#include "index/library.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/errors.h"
#include "index/catalog.h"
#include "index/lookup.h"
#include "index/partial_search.h"
#include "tests/test_media.h"

extern char** environ;

namespace celtrace::index {
namespace {

using testing::TempDir;

NewReference synthetic_reference(const std::string& name, int frames, unsigned seed) {
  const engine::ProjectionModel& model = engine::default_model();
  NewReference r;
  r.name = name;
  r.title = "Synthetic Show";
  r.season = 1;
  r.episode = static_cast<int>(seed);
  r.path = "/nonexistent/" + name + ".mkv";
  r.checksum = "checksum-" + name;
  r.size_bytes = 1000;
  r.fingerprint.model_id = model.id;
  r.fingerprint.descriptor_size = model.output_size;
  r.fingerprint.sample_fps = 2;
  r.fingerprint.media.duration_seconds = frames / 2.0;
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  for (int i = 0; i < frames; ++i) {
    engine::Sample s;
    s.pts_seconds = i / 2.0;
    s.detail = i % 10 == 9 ? 0.1f : 5.0f;  // every tenth frame is flat: not indexed
    s.quality = 90;
    s.descriptor.resize(model.output_size);
    float norm = 0;
    for (float& v : s.descriptor) {
      v = normal(random);
      norm += v * v;
    }
    for (float& v : s.descriptor) v /= std::sqrt(norm);
    for (auto& byte : s.pdq.bytes) byte = static_cast<std::uint8_t>(random());
    r.fingerprint.samples.push_back(s);
  }
  return r;
}

// Makes sample `sample` of `r` a key frame with `count` local features at x = `x`, each with its
// own random code.
void add_local_features(NewReference& r, std::size_t sample, std::size_t count, float x) {
  std::mt19937 random(static_cast<unsigned>(std::hash<std::string>()(r.name) + sample));
  std::vector<engine::LocalFeature>& features = r.fingerprint.samples[sample].local_features;
  features.assign(count, {});
  for (engine::LocalFeature& f : features) {
    f.x = x;
    for (auto& byte : f.code) byte = static_cast<std::uint8_t>(random());
  }
}

// Every local feature of `r` is found, at distance 0, as a feature of its own key frame.
void expect_local_features_find_themselves(const Library& library, const NewReference& r) {
  std::int64_t id = -1;
  for (const auto& record : library.references()) {
    if (record.name == r.name) id = record.id;
  }
  ASSERT_GE(id, 0) << r.name;
  for (const engine::Sample& s : r.fingerprint.samples) {
    for (const engine::LocalFeature& f : s.local_features) {
      const Neighbour hit = library.local_features().search({f}, 1, 1.0).front();  // whole canvas
      ASSERT_GE(hit.id, 0) << r.name;
      EXPECT_EQ(hit.score, 0.f) << r.name << " at " << s.pts_seconds;
      const IndexedFrame& frame =
          library
              .frames()[static_cast<std::size_t>(library.local_features().feature(hit.id).frame)];
      EXPECT_EQ(frame.reference, id) << r.name;
      EXPECT_EQ(frame.pts_seconds, static_cast<float>(s.pts_seconds)) << r.name;
    }
  }
}

TEST(WholePictureSamples, FaintOnesOnlyWhenNoneIsInformative) {
  engine::Fingerprint query;
  query.samples.resize(3);
  query.samples[0].detail = 0.8f;  // a soft painted sky
  query.samples[1].detail = 0.2f;  // nearly black
  query.samples[2].detail = 3.0f;
  bool faint = true;
  std::vector<const engine::Sample*> searched = whole_picture_samples(query, faint);
  EXPECT_FALSE(faint);
  EXPECT_EQ(searched, std::vector<const engine::Sample*>{&query.samples[2]});

  query.samples[2].detail = 1.2f;
  searched = whole_picture_samples(query, faint);
  EXPECT_TRUE(faint);
  EXPECT_EQ(searched, (std::vector<const engine::Sample*>{&query.samples[0], &query.samples[2]}));

  query.samples[2].foreground_share = 0.2;  // a layer: searched by its foreground
  searched = whole_picture_samples(query, faint);
  EXPECT_EQ(searched, std::vector<const engine::Sample*>{&query.samples[0]});

  for (engine::Sample& s : query.samples) s.detail = 0.1f;
  EXPECT_TRUE(whole_picture_samples(query, faint).empty());
  EXPECT_FALSE(faint);
}

TEST(Library, RoundTripsReferencesAndFrames) {
  TempDir dir;
  {
    Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
    library.add({synthetic_reference("a", 100, 1), synthetic_reference("b", 50, 2)});
  }
  const Library library = Library::open(dir.path("lib"));
  const auto references = library.references();
  ASSERT_EQ(references.size(), 2u);
  EXPECT_EQ(references[0].name, "a");
  EXPECT_EQ(references[0].frame_count, 90);  // flat frames left out
  EXPECT_EQ(references[1].episode, 2);
  EXPECT_EQ(library.frames().size(), 135u);
  EXPECT_EQ(library.descriptors().size(), 135);
  EXPECT_EQ(library.hashes().size(), 135);
  EXPECT_EQ(library.descriptors().factory(), "Flat");
  // FAISS ids map back to (reference, time): frame 0 of "a" at 0 s.
  const auto a = synthetic_reference("a", 100, 1);
  const auto hit = library.descriptors().search(a.fingerprint.samples[3].descriptor.data(), 1, 1);
  const IndexedFrame& frame = library.frames()[static_cast<std::size_t>(hit[0].id)];
  EXPECT_EQ(library.reference(frame.reference).name, "a");
  EXPECT_FLOAT_EQ(frame.pts_seconds, 1.5f);
  EXPECT_NEAR(hit[0].score, 1.0, 1e-4);
}

TEST(Library, RemoveRebuildsIndexes) {
  TempDir dir;
  Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
  library.add({synthetic_reference("a", 100, 1), synthetic_reference("b", 50, 2)});
  library.remove("a");
  EXPECT_EQ(library.references().size(), 1u);
  EXPECT_EQ(library.descriptors().size(), 45);
  // Naming a reference the library lacks is a runtime error (exit 1), not a usage error (exit 2).
  try {
    library.remove("a");
    ADD_FAILURE() << "removing an unknown reference succeeded";
  } catch (const UsageError&) {
    ADD_FAILURE() << "an unknown reference is not a usage error";
  } catch (const Error&) {
  }
  EXPECT_EQ(Library::open(dir.path("lib")).frames().size(), 45u);
}

// Every indexed frame of `name` is its own nearest neighbour in the library's descriptor index.
void expect_frames_find_themselves(const Library& library, const NewReference& r) {
  std::int64_t id = -1;
  for (const auto& record : library.references()) {
    if (record.name == r.name) id = record.id;
  }
  ASSERT_GE(id, 0) << r.name;
  int checked = 0, found = 0;
  for (const engine::Sample& s : r.fingerprint.samples) {
    if (!is_informative(s)) continue;
    const auto hits = library.descriptors().search(s.descriptor.data(), 1, 1);
    ++checked;
    const std::int64_t hit = hits.front().id;
    found += hit >= 0 && library.frames()[static_cast<std::size_t>(hit)].reference == id &&
             library.frames()[static_cast<std::size_t>(hit)].pts_seconds ==
                 static_cast<float>(s.pts_seconds);
  }
  EXPECT_EQ(found, checked) << r.name;
}

TEST(Library, AddingExtendsTheIndexesWithoutTrainingAgain) {
  TempDir dir;
  Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
  const NewReference a = synthetic_reference("a", 2500, 1);
  NewReference b = synthetic_reference("b", 600, 2);
  add_local_features(b, 3, 5, 0.25f);
  const IndexChange first = library.add({a}, "IVF16,SQ8");
  EXPECT_TRUE(first.rebuilt);
  EXPECT_EQ(first.reason, "the library's first indexes");

  const IndexChange second = library.add({b}, "IVF16,SQ8");
  EXPECT_FALSE(second.rebuilt) << second.reason;
  EXPECT_EQ(library.descriptors().size(), 2250 + 540);
  EXPECT_EQ(library.descriptors().factory(), "IVF16,SQ8");
  ASSERT_EQ(library.local_features().size(), 5);
  EXPECT_NEAR(library.local_features().feature(0).x, 0.25, 1e-3);
  EXPECT_EQ(library.frames()[static_cast<std::size_t>(library.local_features().feature(0).frame)]
                .pts_seconds,
            1.5f);  // sample 3 of b
  expect_frames_find_themselves(library, a);
  expect_frames_find_themselves(library, b);
  expect_local_features_find_themselves(library, b);
  {
    const Library reopened = Library::open(dir.path("lib"));
    EXPECT_EQ(reopened.descriptors().size(), 2250 + 540);
    EXPECT_EQ(reopened.hashes().size(), 2250 + 540);
    expect_frames_find_themselves(reopened, b);
  }

  // Another index type asked for, or a removal that changes it: made again (descriptors from the
  // catalog, local features' codes from their index), and said why. Another writer's change
  // since this object opened the library is loaded first, and extended.
  NewReference c = synthetic_reference("c", 100, 3);
  add_local_features(c, 7, 4, 0.75f);
  const IndexChange other_type = library.add({c}, "IVF32,SQ8");
  EXPECT_TRUE(other_type.rebuilt);
  EXPECT_EQ(other_type.reason, "descriptor index IVF16,SQ8 -> IVF32,SQ8 at 2880 frames");
  expect_local_features_find_themselves(library, b);
  expect_local_features_find_themselves(library, c);
  NewReference d = synthetic_reference("d", 100, 4);
  add_local_features(d, 2, 6, 0.5f);
  Library::open(dir.path("lib")).add({d}, "IVF32,SQ8");
  const IndexChange stale = library.add({synthetic_reference("e", 100, 5)}, "IVF32,SQ8");
  EXPECT_FALSE(stale.rebuilt) << stale.reason;
  expect_frames_find_themselves(library, d);
  expect_local_features_find_themselves(library, d);
  // A removal keeps no inverted file asked for before: at this size the library is exact again.
  const IndexChange type_on_removal = library.remove("d");
  EXPECT_TRUE(type_on_removal.rebuilt);
  EXPECT_EQ(type_on_removal.reason, "descriptor index IVF32,SQ8 -> Flat at 2970 frames");
  ASSERT_EQ(library.local_features().size(), 5 + 4);
  expect_local_features_find_themselves(library, b);
  expect_local_features_find_themselves(library, c);
  const IndexChange after_removal = library.add({synthetic_reference("f", 100, 6)});
  EXPECT_FALSE(after_removal.rebuilt) << after_removal.reason;
  expect_frames_find_themselves(library, a);
  expect_frames_find_themselves(library, b);
  expect_frames_find_themselves(library, synthetic_reference("f", 100, 6));

  // Removing a reference takes its frames and local features out of the indexes as they stand.
  const IndexChange removal = library.remove("b");
  EXPECT_FALSE(removal.rebuilt) << removal.reason;
  EXPECT_EQ(library.descriptors().size(), 2250 + 3 * 90);  // a; c, e and f
  ASSERT_EQ(library.local_features().size(), 4);
  expect_local_features_find_themselves(library, c);
  expect_frames_find_themselves(library, a);
  expect_frames_find_themselves(library, synthetic_reference("f", 100, 6));
  const Library reopened = Library::open(dir.path("lib"));
  EXPECT_EQ(reopened.references().size(), 4u);
  expect_frames_find_themselves(reopened, synthetic_reference("e", 100, 5));
  expect_local_features_find_themselves(reopened, c);
}

// Frame ids, in id order, as (reference, time) pairs; the ids must be 0..n-1.
std::vector<std::pair<std::int64_t, double>> frames_by_id(const Catalog& catalog) {
  std::vector<std::pair<std::int64_t, double>> out;
  catalog.for_each_frame(false, [&](const FrameRecord& f) {
    EXPECT_EQ(f.id, static_cast<std::int64_t>(out.size()));
    out.emplace_back(f.reference_id, f.pts_seconds);
  });
  return out;
}

std::int64_t insert_frames(Catalog& catalog, const std::string& name, int count) {
  ReferenceRecord r;
  r.name = r.title = r.path = r.checksum = name;
  std::vector<FrameRecord> frames(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    // Inserted out of time order: ids follow time, not insertion.
    frames[static_cast<std::size_t>(i)].pts_seconds = (count - 1 - i) * 0.5;
    frames[static_cast<std::size_t>(i)].descriptor = {1.0f};
  }
  return catalog.insert_reference(r, frames);
}

TEST(Catalog, FrameIdsFollowReferenceAndTimeThroughAddsAndRemovals) {
  TempDir dir;
  Catalog catalog(dir.path("catalog.sqlite"));
  const std::int64_t a = insert_frames(catalog, "a", 3);
  const std::int64_t b = insert_frames(catalog, "b", 2);
  catalog.renumber_frames();
  const std::int64_t c = insert_frames(catalog, "c", 4);
  catalog.renumber_frames();  // only c's frames are numbered
  using Frames = std::vector<std::pair<std::int64_t, double>>;
  EXPECT_EQ(
      frames_by_id(catalog),
      (Frames{{a, 0}, {a, 0.5}, {a, 1}, {b, 0}, {b, 0.5}, {c, 0}, {c, 0.5}, {c, 1}, {c, 1.5}}));
  catalog.remove_reference(b);  // the frames after b's move down
  EXPECT_EQ(frames_by_id(catalog),
            (Frames{{a, 0}, {a, 0.5}, {a, 1}, {c, 0}, {c, 0.5}, {c, 1}, {c, 1.5}}));
  catalog.renumber_frames();
  const std::int64_t d = insert_frames(catalog, "d", 1);
  catalog.remove_reference(a);
  catalog.renumber_frames();
  EXPECT_EQ(frames_by_id(catalog), (Frames{{c, 0}, {c, 0.5}, {c, 1}, {c, 1.5}, {d, 0}}));
  // Ids that are not 0..m-1 (a library damaged, or changed by another version) are all made
  // again.
  catalog.database().execute("UPDATE frames SET id = id + 10 WHERE reference_id = " +
                             std::to_string(d));
  const std::int64_t e = insert_frames(catalog, "e", 2);
  catalog.renumber_frames();
  EXPECT_EQ(frames_by_id(catalog),
            (Frames{{c, 0}, {c, 0.5}, {c, 1}, {c, 1.5}, {d, 0}, {e, 0}, {e, 0.5}}));
}

// Shots whose picture turns steadily (pans): each frame's descriptor a fixed angle from the last,
// so the frames a second from a query's time still resemble it (cos 2 x 26 degrees = 0.62, far
// above unrelated frames) but can lie in lists an inverted file does not probe.
TEST(Library, NearestFramesReturnTheShotAroundAHitFromListsNotProbed) {
  TempDir dir;
  const int dimension = engine::default_model().output_size;
  constexpr int kShots = 800, kShotFrames = 12;
  constexpr double kTurn = 26 * 3.14159265 / 180;  // radians between successive frames
  NewReference pans = synthetic_reference("pans", kShots * kShotFrames, 7);
  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  const auto unit = [&] {
    std::vector<float> v(static_cast<std::size_t>(dimension));
    float norm = 0;
    for (float& x : v) {
      x = normal(random);
      norm += x * x;
    }
    for (float& x : v) x /= std::sqrt(norm);
    return v;
  };
  for (int shot = 0; shot < kShots; ++shot) {
    std::vector<float> a = unit(), b = unit();
    float along = 0;  // b made orthogonal to a
    for (int d = 0; d < dimension; ++d) along += a[d] * b[d];
    float norm = 0;
    for (int d = 0; d < dimension; ++d) {
      b[d] -= along * a[d];
      norm += b[d] * b[d];
    }
    for (float& x : b) x /= std::sqrt(norm);
    for (int i = 0; i < kShotFrames; ++i) {
      engine::Sample& s =
          pans.fingerprint.samples[static_cast<std::size_t>(shot * kShotFrames + i)];
      s.detail = 5;  // every frame indexed: ids follow samples
      for (int d = 0; d < dimension; ++d)
        s.descriptor[d] =
            static_cast<float>(std::cos(kTurn * i) * a[d] + std::sin(kTurn * i) * b[d]);
    }
  }
  Library::open_or_create(dir.path("lib"), engine::default_model()).add({pans}, "IVF256,SQ8");
  const Library library = Library::open(dir.path("lib"));
  ASSERT_FALSE(library.descriptors().exact());
  // Queries: the middle frame of each shot, a little changed (a re-encoded copy).
  constexpr int k = 24;
  std::vector<float> queries;
  std::vector<int> middles;
  for (int shot = 0; shot < kShots; shot += 4) {
    const int middle = shot * kShotFrames + kShotFrames / 2;
    std::vector<float> q = pans.fingerprint.samples[static_cast<std::size_t>(middle)].descriptor;
    const std::vector<float> change = unit();
    float norm = 0;
    for (int d = 0; d < dimension; ++d) {
      q[d] += 0.2f * change[d];
      norm += q[d] * q[d];
    }
    for (float& x : q) x /= std::sqrt(norm);
    queries.insert(queries.end(), q.begin(), q.end());
    middles.push_back(middle);
  }
  const auto count = static_cast<std::int64_t>(middles.size());
  const auto alone = library.descriptors().search(queries.data(), count, k);
  const auto nearest = library.nearest_frames(queries.data(), count, k);
  // The frames within a second of each query's time: how many each search returned.
  int positives = 0, by_index = 0, by_nearest = 0;
  for (std::int64_t q = 0; q < count; ++q) {
    const auto returned = [&](const std::vector<Neighbour>& hits, std::int64_t id) {
      return std::any_of(hits.begin() + q * k, hits.begin() + (q + 1) * k,
                         [&](const Neighbour& n) { return n.id == id; });
    };
    for (int step = -2; step <= 2; ++step) {
      const std::int64_t id = middles[static_cast<std::size_t>(q)] + step;
      ++positives;
      by_index += returned(alone, id);
      by_nearest += returned(nearest, id);
    }
    // Best first, each frame once.
    std::set<std::int64_t> seen;
    for (int j = 0; j < k; ++j) {
      const Neighbour& n = nearest[static_cast<std::size_t>(q * k + j)];
      EXPECT_TRUE(seen.insert(n.id).second) << n.id;
      if (j > 0) {
        EXPECT_LE(n.score, nearest[static_cast<std::size_t>(q * k + j - 1)].score);
      }
    }
  }
  std::printf("frames within a second returned: index alone %d, nearest_frames %d of %d\n",
              by_index, by_nearest, positives);
  EXPECT_LT(by_index, positives);  // the index alone misses some: the case this is for
  EXPECT_EQ(by_nearest, positives);
}

TEST(Library, FailedAddLeavesThePreviousLibrary) {
  TempDir dir;
  Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
  library.add({synthetic_reference("a", 40, 1)});
  NewReference broken = synthetic_reference("broken", 40, 3);
  broken.fingerprint.samples[5].descriptor.resize(3);  // fails after "b" was inserted
  EXPECT_ANY_THROW(library.add({synthetic_reference("b", 40, 2), broken}));
  const Library reopened = Library::open(dir.path("lib"));
  ASSERT_EQ(reopened.references().size(), 1u);
  EXPECT_EQ(reopened.references()[0].name, "a");
  EXPECT_EQ(reopened.descriptors().size(), 36);
}

TEST(Library, LeftoversOfACrashedChangeAreIgnoredThenCleaned) {
  TempDir dir;
  {
    Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
    library.add({synthetic_reference("a", 40, 1)});
  }
  // A crash after writing generation 2's files, before the catalog switched to them.
  testing::write_bytes(dir.path("lib/descriptors-2.faiss"), "half-written garbage");
  testing::write_bytes(dir.path("lib/hashes-2.faiss.partial"), "garbage");
  Library library = Library::open(dir.path("lib"));
  EXPECT_EQ(library.references().size(), 1u);
  library.add({synthetic_reference("b", 40, 2)});
  EXPECT_EQ(Library::open(dir.path("lib")).references().size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir.path("lib/hashes-2.faiss.partial")));
  EXPECT_FALSE(std::filesystem::exists(dir.path("lib/descriptors-1.faiss")));
}

TEST(Library, RefusesOtherModelsVersionsAndDuplicates) {
  TempDir dir;
  Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
  library.add({synthetic_reference("a", 20, 1)});
  EXPECT_THROW(library.add({synthetic_reference("a", 20, 9)}), UsageError);  // name taken
  // The same content under another name (another `index add` got there first): said so, not in
  // the catalog's SQL terms.
  NewReference again = synthetic_reference("b", 20, 1);
  again.checksum = "checksum-a";
  try {
    library.add({again});
    ADD_FAILURE() << "the same content was added twice";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("same content as 'a'"), std::string::npos) << e.what();
  }
  engine::ProjectionModel other = engine::default_model();
  other.id = "ctd1-other";
  EXPECT_THROW(Library::open_or_create(dir.path("lib"), other), UsageError);
  EXPECT_THROW(Library::open(dir.path("missing")), Error);
  {
    Catalog catalog(dir.path("lib/catalog.sqlite"));
    catalog.set_meta("format_version", "99");
  }
  EXPECT_THROW(Library::open(dir.path("lib")), FormatError);
}

std::string grid_file(const TempDir& dir) {
  return dir.path("lib/local-" +
                  Catalog(dir.path("lib/catalog.sqlite")).meta("generation").value_or("?") +
                  ".grid");
}

TEST(Library, DamagedLocalFeaturesAreRefused) {
  TempDir dir;
  NewReference r = synthetic_reference("a", 20, 1);
  add_local_features(r, 4, 10, 0.5f);
  Library::open_or_create(dir.path("lib"), engine::default_model()).add({r});
  EXPECT_EQ(Library::open(dir.path("lib")).local_features().size(), 10);
  const std::string grid = grid_file(dir);
  const auto size = std::filesystem::file_size(grid);
  std::filesystem::resize_file(grid, size - 8);
  EXPECT_THROW(Library::open(dir.path("lib")), FormatError);  // truncated
  std::filesystem::resize_file(grid, size);
  EXPECT_NO_THROW(Library::open(dir.path("lib")));  // the cut bytes were places: zeros now
  const std::string original = testing::read_bytes(grid);
  for (const std::size_t offset : {0, 8, 16, 24 + 8 * 528}) {  // magic, squares, count, a start
    std::string damaged = original;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x40);
    testing::write_bytes(grid, damaged);
    try {
      Library::open(dir.path("lib"));
      ADD_FAILURE() << "damaged byte " << offset << " accepted";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(grid), std::string::npos) << e.what();
    }
  }
  testing::write_bytes(grid, original);
  Catalog(dir.path("lib/catalog.sqlite")).set_meta("local_features", "11");
  EXPECT_THROW(Library::open(dir.path("lib")), FormatError);  // not the catalog's count
  Catalog(dir.path("lib/catalog.sqlite")).set_meta("local_features", "ten");
  EXPECT_THROW(Library::open(dir.path("lib")), FormatError);

  // A feature of a frame the library does not have: refused when a search meets it.
  engine::Sample layer;
  layer.local_features.assign(8, {});
  for (engine::LocalFeature& f : layer.local_features) f.x = f.y = 0.5f;
  const std::vector<IndexedLocalFeature> stray(8, {99999, 0.5f, 0.5f});
  EXPECT_EQ(LocalFeatureGrid::write(grid, LocalFeatureGrid(), {}, stray,
                                    std::vector<std::uint8_t>(32 * stray.size())),
            8);
  Catalog(dir.path("lib/catalog.sqlite")).set_meta("local_features", "8");
  const Library library = Library::open(dir.path("lib"));
  engine::Fingerprint query;
  query.samples = {layer};
  EXPECT_THROW(search_partial(library, query), FormatError);
}

// A library of format version 3 (local features' codes in a FAISS index, their positions in the
// catalog) is read as it was, and written as a version 4 library by its next change.
TEST(Library, AVersion3LibraryIsReadAndMovesToTheGridOnItsNextChange) {
  TempDir dir;
  NewReference a = synthetic_reference("a", 100, 1), b = synthetic_reference("b", 100, 2);
  add_local_features(a, 4, 10, 0.25f);
  add_local_features(a, 9, 6, 0.75f);
  add_local_features(b, 2, 7, 0.5f);
  Library::open_or_create(dir.path("lib"), engine::default_model()).add({a});
  {
    // As version 3 stored them: the codes in the catalog's key-frame order, in local-<G>.faiss.
    std::vector<std::uint8_t> codes;
    for (const engine::Sample& s : a.fingerprint.samples) {
      for (const engine::LocalFeature& f : s.local_features)
        codes.insert(codes.end(), f.code.begin(), f.code.end());
    }
    const std::string grid = grid_file(dir);
    const std::string faiss = grid.substr(0, grid.size() - 4) + "faiss";
    HashIndex::build("BFlat", codes.data(), static_cast<std::int64_t>(codes.size() / 32))
        ->save(faiss);
    std::filesystem::remove(grid);
    Catalog catalog(dir.path("lib/catalog.sqlite"));
    catalog.set_meta("format_version", "3");
    catalog.set_meta("local_factory", "BFlat");
    catalog.database().execute("DELETE FROM meta WHERE key = 'local_features'");
  }
  {
    const Library old = Library::open(dir.path("lib"));
    EXPECT_EQ(old.local_index_type(), "BFlat");
    EXPECT_EQ(old.local_features().size(), 16);
    expect_local_features_find_themselves(old, a);
  }
  Library library = Library::open(dir.path("lib"));
  EXPECT_FALSE(library.add({b}).rebuilt);
  EXPECT_EQ(library.local_index_type(), "grid32");
  EXPECT_TRUE(std::filesystem::exists(grid_file(dir)));
  EXPECT_EQ(Catalog(dir.path("lib/catalog.sqlite")).meta("format_version"), "4");
  const Library reopened = Library::open(dir.path("lib"));
  EXPECT_EQ(reopened.local_features().size(), 16 + 7);
  expect_local_features_find_themselves(reopened, a);
  expect_local_features_find_themselves(reopened, b);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path("lib"))) {
    const std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.rfind("local-", 0) == 0 && entry.path().extension() == ".faiss") << name;
  }
}

// A library made before the catalog's opening indexes (index/catalog.cpp) on write-protected
// media (an evidence copy) opens as it did: the indexes are not created, the frames are read
// from the rows. Root writes whatever the permissions, so the check needs another user.
TEST(Library, AWriteProtectedLibraryMadeBeforeTheOpeningIndexesStillOpens) {
  if (geteuid() == 0) GTEST_SKIP() << "write protection does not hold for root";
  TempDir dir;
  Library::open_or_create(dir.path("lib"), engine::default_model())
      .add({synthetic_reference("a", 100, 1), synthetic_reference("b", 50, 2)});
  Catalog(dir.path("lib/catalog.sqlite"))
      .database()
      .execute(
          "DROP INDEX frames_head; DROP INDEX key_frames;"
          " CREATE INDEX frames_by_id ON frames(id);");
  namespace fs = std::filesystem;
  fs::permissions(dir.path("lib/catalog.sqlite"), fs::perms::owner_write, fs::perm_options::remove);
  fs::permissions(dir.path("lib"), fs::perms::owner_write, fs::perm_options::remove);
  const Library library = Library::open(dir.path("lib"));
  EXPECT_EQ(library.references().size(), 2u);
  EXPECT_EQ(library.frames().size(), 135u);
  fs::permissions(dir.path("lib"), fs::perms::owner_write, fs::perm_options::add);
}

// Found by fuzzing: a frame time of -1e25 s reached temporal alignment and overflowed its integer
// offset bins. Times that no media has are refused when the library is opened.
TEST(Library, ImplausibleFrameTimesAreRefused) {
  TempDir dir;
  Library::open_or_create(dir.path("lib"), engine::default_model())
      .add({synthetic_reference("a", 20, 1)});
  for (const char* time : {"-1e25", "1e300", "-0.5"}) {
    {
      Catalog catalog(dir.path("lib/catalog.sqlite"));
      catalog.database().execute(std::string("UPDATE frames SET pts = ") + time +
                                 " WHERE rowid = (SELECT MIN(rowid) FROM frames)");
    }
    EXPECT_THROW(Library::open(dir.path("lib")), FormatError) << time;
  }
}

// Each index file of a library damaged in the ways a copy or an attacker can (in the style of
// FAISS's test_io_corrupted): the library is refused with an error naming the file, before FAISS
// allocates what a header claims.
TEST(Library, DamagedIndexFilesAreRefused) {
  TempDir dir;
  {
    Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
    library.add({synthetic_reference("a", 100, 1)});
  }
  std::vector<std::string> indexes;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path("lib"))) {
    if (entry.path().extension() == ".faiss") indexes.push_back(entry.path().string());
  }
  ASSERT_EQ(indexes.size(), 2u);  // descriptors and PDQ hashes (the local-feature grid: below)
  // Byte offsets in FAISS's exact formats: dimension at 4 in both; vector count at 8 (floats) or
  // 12 (binary codes); metric at 33 (floats); the number of stored values at 37 or 25 (a 4 GiB
  // claim in a file of a few KB once made lookup allocate it).
  struct Damage {
    const char* what;
    std::size_t offset;
    std::int64_t value;
    int bytes;
  };
  for (const std::string& path : indexes) {
    const bool binary = path.find("descriptors") == std::string::npos;
    const std::string original = testing::read_bytes(path);
    std::vector<Damage> damages = {{"dimension", 4, binary ? 512 : 128, 4},
                                   {"count", binary ? 12u : 8u, std::int64_t{1} << 32, 8},
                                   {"stored size", binary ? 25u : 37u, std::int64_t{1} << 30, 8}};
    if (!binary) damages.push_back({"metric", 33, 1, 4});
    for (const Damage& d : damages) {
      std::string damaged = original;
      std::memcpy(damaged.data() + d.offset, &d.value, static_cast<std::size_t>(d.bytes));
      testing::write_bytes(path, damaged);
      try {
        Library::open(dir.path("lib")).hashes();  // the PDQ index is read on first use
        ADD_FAILURE() << path << ": damaged " << d.what << " accepted";
      } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      }
    }
    testing::write_bytes(path, original.substr(0, original.size() / 2));
    EXPECT_THROW(Library::open(dir.path("lib")).hashes(), Error) << path << " truncated";
    testing::write_bytes(path, original);
  }
  EXPECT_EQ(Library::open(dir.path("lib")).frames().size(), 90u);
  // The catalog's generation number (which names the index files), damaged: an error about the
  // library, not an internal error from the number parser.
  for (const char* generation : {"abc", "99999999999999999999999", "-1"}) {
    {
      Catalog catalog(dir.path("lib/catalog.sqlite"));
      catalog.set_meta("generation", generation);
    }
    EXPECT_THROW(Library::open(dir.path("lib")), FormatError) << generation;
  }
}

// Every file of a library, each byte of a sample flipped and each file cut at several lengths:
// opening and searching it either works or ends in a celtrace::Error (never a crash or another
// exception). The fuzz target `library` does the same at random (tests/fuzz/).
TEST(Library, EveryFileDamagedAnywhereEndsCleanly) {
  TempDir dir;
  NewReference r = synthetic_reference("a", 60, 1);
  add_local_features(r, 6, 20, 0.25f);
  Library::open_or_create(dir.path("lib"), engine::default_model()).add({r});
  engine::Fingerprint query = r.fingerprint;
  query.samples.resize(10);
  for (engine::Sample& s : query.samples) s.mirrored_descriptor = s.descriptor;

  const auto open_and_search = [&](const std::string& what) {
    try {
      const Library library = Library::open(dir.path("lib"));
      LookupOptions options;
      options.verify = false;
      match(library, query, "", options);
      library.hashes().search(query.samples.front().pdq.bytes.data(), 1, 4);
    } catch (const Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": " << e.what();
    }
  };
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path("lib")))
    files.push_back(entry.path().string());
  ASSERT_EQ(files.size(), 5u);  // catalog, model, descriptor, PDQ hash and local-feature indexes
  int damaged = 0;
  for (const std::string& path : files) {
    const std::string original = testing::read_bytes(path);
    const std::size_t step = std::max<std::size_t>(1, original.size() / 150);
    for (std::size_t at = 0; at < original.size(); at += step, ++damaged) {
      std::string bytes = original;
      bytes[at] = static_cast<char>(bytes[at] ^ 0x5A);
      testing::write_bytes(path, bytes);
      open_and_search(path + " byte " + std::to_string(at));
    }
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, original.size() / 3, original.size() - 1}) {
      testing::write_bytes(path, original.substr(0, size));
      open_and_search(path + " cut at " + std::to_string(size));
    }
    testing::write_bytes(path, original);
  }
  EXPECT_GT(damaged, 400);
  EXPECT_EQ(Library::open(dir.path("lib")).frames().size(), 54u);
}

// Readers beside a writer: 500 changes (adds and removes) while other threads open the library
// and search it. A reader once failed about once in 60 opens: the writer deleted the generation
// of index files the reader's catalog rows named, between its reads.
TEST(Library, ReadersNeverFailWhileItChanges) {
  TempDir dir;
  NewReference kept = synthetic_reference("kept", 40, 1);
  add_local_features(kept, 20, 12, 0.5f);
  const engine::LocalFeature kept_feature = kept.fingerprint.samples[20].local_features.front();
  Library::open_or_create(dir.path("lib"), engine::default_model()).add({kept});
  engine::Fingerprint query = kept.fingerprint;
  query.samples.resize(12);
  for (engine::Sample& s : query.samples) s.mirrored_descriptor = s.descriptor;
  std::atomic<bool> writing{true};
  std::atomic<int> opens{0}, failures{0};
  std::string first_failure;
  std::mutex failure_mutex;
  const auto read = [&] {
    while (writing) {
      try {
        const Library library = Library::open(dir.path("lib"));
        LookupOptions options;
        options.verify = false;
        if (match(library, query, "", options).matches.empty()) throw Error("kept not found");
        // The PDQ index is read on first use, after the writer may have deleted its generation.
        if (library.hashes().search(query.samples.front().pdq.bytes.data(), 1, 1).front().score)
          throw Error("kept's hash not found");
        // The local features' grid is mapped at opening, and searched after.
        if (library.local_features().search({kept_feature}, 1, 1.0).front().score != 0)
          throw Error("kept's local feature not found");
        ++opens;
      } catch (const std::exception& e) {
        if (failures++ == 0) {
          const std::lock_guard lock(failure_mutex);
          first_failure = e.what();
        }
      }
    }
  };
  std::thread reader_a(read), reader_b(read);
  {
    // 250 adds and removes at least, and on until the readers have opened the library 50 times
    // (a loaded machine can starve them; the count is not what is tested).
    Library library = Library::open(dir.path("lib"));
    for (int i = 0; i < 250 || (opens <= 50 && i < 2500); ++i) {
      library.add({synthetic_reference("churn", 20, 100 + static_cast<unsigned>(i))});
      library.remove("churn");
    }
  }
  writing = false;
  reader_a.join();
  reader_b.join();
  EXPECT_EQ(failures, 0) << "first: " << first_failure;
  EXPECT_GT(opens, 50);
}

TEST(Library, SharedContentIsMarked) {
  TempDir dir;
  Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
  NewReference a = synthetic_reference("a", 40, 1), b = synthetic_reference("b", 40, 2);
  for (int i = 0; i < 8; ++i)
    b.fingerprint.samples[i].descriptor = a.fingerprint.samples[i].descriptor;  // same opening
  library.add({a, b});
  int shared = 0;
  for (const IndexedFrame& f : library.frames()) shared += f.shared;
  EXPECT_EQ(shared, 16);
}

#ifdef CELTRACE_CLI
// A batch add killed (SIGKILL) at any moment leaves a library that opens and is either the old
// or the new state, never a mixture.
TEST(Library, SurvivesKillDuringAdd) {
  TempDir dir;
  testing::write_cartoon_video(dir.path("one.mp4"), 1, 1, 20.0, 4.0);
  testing::write_cartoon_video(dir.path("two.mp4"), 1, 2, 20.0, 30.0);
  auto run = [&](const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    return pid;
  };
  int status = 0;
  waitpid(run({CELTRACE_CLI, "index", "add", dir.path("lib"), dir.path("one.mp4")}), &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  for (int delay_ms : {50, 150, 300, 600}) {
    const pid_t pid = run({CELTRACE_CLI, "index", "add", dir.path("lib"), dir.path("two.mp4")});
    usleep(delay_ms * 1000);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    const Library library = Library::open(dir.path("lib"));
    const auto references = library.references();
    ASSERT_TRUE(references.size() == 1 || references.size() == 2) << delay_ms;
    std::int64_t frames = 0;
    for (const auto& r : references) frames += r.frame_count;
    EXPECT_EQ(frames, library.descriptors().size()) << delay_ms;
    if (references.size() == 2) break;  // the add finished before the kill
  }
}
#endif

}  // namespace
}  // namespace celtrace::index
