// Each verdict rule on synthetic evidence (index/decision.h).
#include <gtest/gtest.h>

#include "index/decision.h"
#include "index/verify.h"

namespace celtrace::index {
namespace {

Evidence full(Coverage coverage) {
  Evidence e;
  e.coverage = coverage;
  e.score = 0.8;
  e.temporal = e.registered = e.agreed = true;
  return e;
}

TEST(Decision, BothKindsOfAgreeingEvidenceConfirm) {
  EXPECT_EQ(decide(full(Coverage::kWhole)), Verdict::kConfirmed);
  EXPECT_EQ(decide(full(Coverage::kPartial)), Verdict::kConfirmed);
}

TEST(Decision, SharedContentIsNeverConfirmed) {
  Evidence e = full(Coverage::kWhole);
  e.shared = true;  // an opening, or a character in the same pose in several episodes
  EXPECT_EQ(decide(e), Verdict::kPossible);
}

TEST(Decision, ADisagreeingPairKeepsItPossible) {
  Evidence e = full(Coverage::kWhole);
  e.agreed = false;  // a reused background under other characters
  EXPECT_EQ(decide(e), Verdict::kPossible);
}

TEST(Decision, TemporalEvidenceAloneIsListedAsPossible) {
  Evidence e = full(Coverage::kWhole);
  e.registered = e.agreed = false;  // the reference could not be verified (moved, damaged)
  EXPECT_EQ(decide(e), Verdict::kPossible);
}

TEST(Decision, AClearVisualFailureOfAWholePictureIsNotListed) {
  Evidence e = full(Coverage::kWhole);
  e.registered = e.agreed = false;
  e.checked = true;
  e.inliers = kClearVisualFailureInliers - 1;  // an unrelated picture at the mapped time
  EXPECT_EQ(decide(e), std::nullopt);
  e.inliers = kClearVisualFailureInliers;  // near registering: a heavy work-in-progress change
  EXPECT_EQ(decide(e), Verdict::kPossible);
  e.inliers = 0;
  e.checked = false;  // no check ran (reference missing): timing alone still lists it
  EXPECT_EQ(decide(e), Verdict::kPossible);
  e.checked = true;
  e.coverage = Coverage::kPartial;  // a layer's one-sided check says less when it fails
  EXPECT_EQ(decide(e), Verdict::kPossible);
}

TEST(Decision, AFaintQueryIsListedOnlyWithARegisteredPair) {
  Evidence e = full(Coverage::kWhole);
  e.faint = true;  // a soft painted sky: its descriptors resemble any soft frame's
  EXPECT_EQ(decide(e), Verdict::kConfirmed);
  e.agreed = false;
  EXPECT_EQ(decide(e), Verdict::kPossible);
  e.registered = false;  // timing alone
  EXPECT_EQ(decide(e), std::nullopt);
  e.checked = true;
  e.inliers = kClearVisualFailureInliers;
  EXPECT_EQ(decide(e), std::nullopt);
}

TEST(Decision, ALayerThatDoesNotAgreeIsNotListedWhenAnotherReferenceAgreed) {
  Evidence e = full(Coverage::kPartial);
  e.registered = e.agreed = false;
  e.checked = true;
  e.inliers = 9;  // the same character at the same place in another episode, another pose
  EXPECT_EQ(decide(e), Verdict::kPossible);
  e.other_agreed = true;  // ... and the query's own episode passed the check
  EXPECT_EQ(decide(e), std::nullopt);
  e.checked = false;  // not among the verified: the check that ran chose the other
  EXPECT_EQ(decide(e), std::nullopt);
  e.registered = e.checked = true;  // registered, yet not agreeing at three moments
  EXPECT_EQ(decide(e), std::nullopt);
  e.agreed = true;  // both agree: the same pose in two episodes, listed (series level)
  e.shared = true;
  EXPECT_EQ(decide(e), Verdict::kPossible);
  Evidence whole = full(Coverage::kWhole);
  whole.registered = whole.agreed = false;
  whole.other_agreed = true;  // whole pictures keep their own rule (timing alone lists them)
  EXPECT_EQ(decide(whole), Verdict::kPossible);
}

// Each verdict names its rule, and what kept a listed match from `confirmed`.
TEST(Decision, EachVerdictIsExplained) {
  Evidence e = full(Coverage::kWhole);
  e.checked = true;
  EXPECT_NE(explain(e).find("content is this reference's alone"), std::string::npos);
  e.shared = true;
  EXPECT_NE(explain(e).find("series level"), std::string::npos);
  e = full(Coverage::kWhole);
  e.registered = e.agreed = false;
  EXPECT_NE(explain(e).find("no visual check ran"), std::string::npos);
  e.checked = true;
  e.inliers = 22;
  EXPECT_NE(explain(e).find("found 22 inliers, short of the 30"), std::string::npos);
  e.coverage = Coverage::kPartial;
  e.inliers = 61;  // registered, then refused by a layer's canvas check
  EXPECT_NE(explain(e).find("61 inliers) but not where the frame has it"), std::string::npos);
  e.coverage = Coverage::kWhole;
  e.registered = true;
  EXPECT_NE(explain(e).find("structure the other lacks"), std::string::npos);
  e.coverage = Coverage::kPartial;
  EXPECT_NE(explain(e).find("three moments"), std::string::npos);
  e = full(Coverage::kWhole);
  e.temporal = false;
  EXPECT_NE(explain(e).find("without timing evidence"), std::string::npos);
  e.registered = false;
  EXPECT_EQ(explain(e), "not listed");
}

TEST(Decision, VisualEvidenceAloneNeedsAScore) {
  Evidence e = full(Coverage::kWhole);
  e.temporal = false;  // a still
  EXPECT_EQ(decide(e), Verdict::kPossible);
  e.score = kVisualOnlyScore - 0.01;
  EXPECT_EQ(decide(e), std::nullopt);
}

TEST(Decision, ARegisteredLayerIsListedWhateverItsVotes) {
  Evidence e = full(Coverage::kPartial);
  e.temporal = false;  // a cel
  e.score = 0.35;      // few consistent features in the search
  e.inliers = kRegistrationInliers;
  EXPECT_EQ(decide(e), Verdict::kPossible);
  e.inliers = kLayerRegistrationInliers;  // registered as a layer, but weakly: timing must back it
  EXPECT_EQ(decide(e), std::nullopt);
  e.temporal = true;
  EXPECT_EQ(decide(e), Verdict::kConfirmed);
  e.temporal = false;
  e.inliers = kRegistrationInliers;
  e.registered = e.agreed = false;
  EXPECT_EQ(decide(e), std::nullopt);
}

TEST(Decision, AgreeingMomentsThatFollowTheTimingAreTimingEvidence) {
  Evidence e = full(Coverage::kPartial);
  e.temporal = false;  // a moving layer meeting sparse key frames: few votes per sample
  e.score = 0.2;
  e.inliers = kLayerRegistrationInliers;
  e.moments_follow_timing = true;
  EXPECT_EQ(decide(e), Verdict::kConfirmed);
  EXPECT_NE(explain(e).find("timing agrees"), std::string::npos);
  e.shared = true;  // several references' frames agree: the series only
  EXPECT_EQ(decide(e), Verdict::kPossible);
  e.shared = false;
  e.agreed = false;  // the moments were not all the query's drawing
  EXPECT_EQ(decide(e), std::nullopt);
}

TEST(Decision, NoEvidenceIsNotListed) {
  Evidence e;
  e.score = 0.9;
  EXPECT_EQ(decide(e), std::nullopt);
}

TEST(ListingOrder, ConfirmedThenMoreKindsOfEvidence) {
  Evidence confirmed = full(Coverage::kPartial);
  confirmed.score = 0.3;
  Evidence disagreeing = full(Coverage::kWhole);
  disagreeing.agreed = false;
  Evidence timing_only = full(Coverage::kWhole);
  timing_only.registered = timing_only.agreed = false;
  EXPECT_TRUE(listed_before(confirmed, disagreeing));
  EXPECT_FALSE(listed_before(disagreeing, confirmed));
  Evidence shared_agreeing = full(Coverage::kWhole);
  shared_agreeing.shared = true;  // possible, with an agreeing pair and timing
  EXPECT_TRUE(listed_before(shared_agreeing, disagreeing));
  EXPECT_TRUE(listed_before(disagreeing, timing_only));
  EXPECT_TRUE(listed_before(timing_only, Evidence{}));
}

TEST(ListingOrder, ARegisteredPairBeforeOneThatDidNotRegister) {
  // An animatic of a dark painted frame: the layer registers with its episode (43 inliers) but
  // does not agree; a lighter episode's whole picture scores higher and does not register (18).
  Evidence layer = full(Coverage::kPartial);
  layer.agreed = false;
  layer.score = 0.53;
  Evidence whole = full(Coverage::kWhole);
  whole.registered = whole.agreed = false;
  whole.checked = true;
  whole.inliers = 18;
  whole.score = 0.66;
  EXPECT_TRUE(listed_before(layer, whole));
  EXPECT_FALSE(listed_before(whole, layer));
}

TEST(ListingOrder, WholeBeforePartialThenByScore) {
  Evidence whole = full(Coverage::kWhole), partial = full(Coverage::kPartial);
  whole.agreed = partial.agreed = false;
  whole.score = 0.5;
  partial.score = 0.9;
  EXPECT_TRUE(listed_before(whole, partial));
  Evidence better = whole;
  better.score = 0.6;
  EXPECT_TRUE(listed_before(better, whole));
  EXPECT_FALSE(listed_before(whole, whole));
}

}  // namespace
}  // namespace celtrace::index
