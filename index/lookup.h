// Single-file lookup, wired in one place (lookup.cpp):
//   fingerprint the query (both orientations; a layer's foreground features)
//   -> whole-picture search: FAISS nearest neighbours per informative sample (a query with none:
//      per faint whole picture, index/library.h)
//   -> partial search: the foreground's local features against library key frames
//      (index/partial_search.h), for layers only
//   -> temporal alignment per reference, for each kind -> shared-content check
//   -> visual verification of the best frame pairs (one-sided for partial evidence)
//   -> verdict, a pure function of the evidence (index/decision.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/fingerprint.h"
#include "engine/media.h"
#include "index/alignment.h"
#include "index/decision.h"
#include "index/library.h"
#include "index/verify.h"

namespace celtrace::index {

struct MatchSegment {
  double query_start = 0, query_end = 0;          // seconds in the query
  double reference_start = 0, reference_end = 0;  // seconds in the reference
  double score = 0;  // mean descriptor similarity along the alignment, unmatched samples as 0
  double speed = 1;  // reference seconds per query second
  bool mirrored = false;
  bool partial = false;    // found by the query's foreground (local features), not whole pictures
  int support = 0;         // query samples that agree
  double specificity = 0;  // see alignment.h
};

struct Match {
  ReferenceRecord reference;
  double score = 0;  // the best segment's score (0..1); see README "How a lookup decides"
  Verdict verdict = Verdict::kPossible;
  Coverage coverage = Coverage::kWhole;  // the evidence's kind (index/decision.h)
  bool shared = false;    // content that recurs across references: identifies the series only
  bool temporal = false;  // evidence 1: enough samples agree on one time mapping
  // ... or, for a video layer or plate, its agreeing moments follow the query's timing
  // (index/decision.h, Evidence::moments_follow_timing).
  bool moments_follow_timing = false;
  Verification visual;  // evidence 2: the best verified frame pair
  double evidence_query_time = 0, evidence_reference_time = 0;  // that pair's times
  std::string reason;  // why the verdict is what it is (index/decision.h, explain)
  std::vector<MatchSegment> segments;
};

struct LookupOptions {
  int top = 5;
  double sample_fps = 0;  // 0: query_sample_fps(duration)
  bool verify = true;     // visual verification (decodes the best frame pairs again)
  engine::DecodeOptions decode;
};

struct LookupResult {
  engine::MediaInfo media;  // media.warnings: what the decoder skipped or repaired in the query
  int informative_samples = 0;
  std::vector<Match> matches;  // passing the decision threshold, best first
  // What weakened the evidence on the library's side (a reference moved or changed since it was
  // indexed, so no visual check against it).
  std::vector<std::string> warnings;
};

// Queries are sampled densely when short (a 2 s clip still gives 12 samples) and at about 40
// samples in all when longer, which bounds the search cost: 6 fps up to 6.7 s, 2 fps from 20 s.
double query_sample_fps(double duration_seconds);

// A query without the media: a saved fingerprint (.ctfp) or vPDQ lines (.vpdq, .txt).
bool is_hash_only_query(const std::string& path);

// fingerprint_query then match; a saved fingerprint (`celtrace hash --save`, a .ctfp file) is
// matched as it is, without visual verification.
LookupResult lookup(const Library& library, const std::string& path, const LookupOptions& options);

// The query's fingerprint as lookups make it: the library's model, query sampling, mirrored
// descriptors and inset descriptors.
engine::Fingerprint fingerprint_query(const Library& library, const std::string& path,
                                      const LookupOptions& options);

// The matching part alone, on a query fingerprint that has mirrored descriptors; visual
// verification needs `query_path` (empty: skipped). Exposed for benchmarks of search time.
LookupResult match(const Library& library, const engine::Fingerprint& query,
                   const std::string& query_path, const LookupOptions& options);

}  // namespace celtrace::index
