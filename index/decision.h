// The verdict on one candidate reference: a pure function of its evidence, so each rule has a
// unit test (tests/decision_test.cpp) and lookup.cpp only gathers evidence.
#pragma once

#include <optional>
#include <string>

namespace celtrace::index {

enum class Verdict { kConfirmed, kPossible };
const char* to_string(Verdict verdict);

// How much of the picture the evidence covers: the whole picture (a copy, a re-render), or part
// of it (a character layer, a cel, a pencil test on paper: the query's foreground only).
enum class Coverage { kWhole, kPartial };
const char* to_string(Coverage coverage);

struct Evidence {
  Coverage coverage = Coverage::kWhole;
  double score = 0;       // the best listed segment's score, 0..1
  bool temporal = false;  // enough samples agree on one time mapping
  // A video layer or plate agreed at several moments a second apart, at reference times that
  // follow the query's own timing, each registering strongly (index/lookup.cpp): timing evidence
  // of its own, as a layer's sparse key frames may give too few votes per sample for `temporal`.
  bool moments_follow_timing = false;
  bool registered = false;  // a verified frame pair registered (shares a drawing)
  bool agreed = false;      // ... and every registered pair agreed (one-sided for partial)
  // The content recurs in other references (an opening, a reused background), or a layer fits
  // several references' frames as well (a character in the same pose): series level only.
  bool shared = false;
  // A visual check compared the pictures (the reference was at hand and decodable), finding this
  // many feature matches consistent with one transform (index/verify.h).
  bool checked = false;
  int inliers = 0;
  // Another reference's frames passed the visual check for the same query.
  bool other_agreed = false;
  // The query's pictures are all faint (soft painting with little contrast, index/library.h):
  // their descriptors resemble any soft frame's, so timing and score say little without a
  // registered pair.
  bool faint = false;
};

// Listing on visual evidence alone needs at least this score (a drawing of a frame, a still).
inline constexpr double kVisualOnlyScore = 0.50;

// A whole picture checked against the reference and found this far from registering (under half
// the 30 inliers registration needs) is not it, whatever the timing suggests: on the benchmarks,
// unrelated pictures listed on timing alone had 5-16 inliers, and no right answer was listed
// without registering; line art and animatics of the right frame reach 18-21.
inline constexpr int kClearVisualFailureInliers = 15;

// nullopt: not listed. A faint query's candidate is listed only once a pair registers. A clear
// visual failure of a whole picture is not listed, nor a partial candidate whose frames did not
// agree while another reference's did (the same character at the same place in another episode:
// the partial search lists such rivals for a visual check, and the check chose). Listed with
// temporal evidence (for a video layer or plate, agreeing moments that follow the query's timing
// count as such), or with a registered pair and a score of kVisualOnlyScore (a still, a drawing of
// the frame) or, for a layer, any score and the inliers a whole picture registers with; confirmed
// only with both kinds of evidence, the pair agreeing, and content that identifies one reference.
// For partial evidence "agreed" asks more (index/lookup.cpp): several moments of the layer agree,
// at reference times that follow the query's own timing.
std::optional<Verdict> decide(const Evidence& evidence);

// The listing order of listed candidates: confirmed first; then those with more kinds of evidence
// (an agreeing frame pair counts twice, temporal agreement once); then those whose checked pair
// registered (the same drawing, though not agreeing everywhere: an animatic of a dark painted
// frame lacks most of its background's lines) before those whose pair did not; then whole
// pictures before partial ones, and by score, which is comparable within one coverage only.
bool listed_before(const Evidence& a, const Evidence& b);

// One line for a person: which rule gave the verdict, or what kept a listed match from
// `confirmed` (lookup --explain, the JSON's "reason").
std::string explain(const Evidence& evidence);

}  // namespace celtrace::index
