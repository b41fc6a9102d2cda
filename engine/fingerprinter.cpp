#include "engine/fingerprinter.h"

#include <algorithm>

#include "engine/descriptor.h"
#include "engine/foreground.h"
#include "engine/pdq.h"
#include "engine/preprocess.h"
#include "engine/vpdq.h"

namespace celtrace::engine {
namespace {

// Reference key frames: local features are kept for a frame when the picture changed since the
// last key frame (whole-picture descriptor similarity below kKeyFrameChange), and at least every
// kKeyFrameInterval seconds in a held shot. Animation holds drawings for several frames, so this
// spends the library's size on new drawings. A small character moving over a held background
// barely changes the whole-picture descriptor but moves its corners out of the partial search's
// reach (index/partial_search.cpp): a PDQ distance of kKeyFrameMotion bits (which follows where
// things are) makes a key frame too, at most one per kKeyFrameMotionGap. The sizes set the
// library's bytes per hour (README, "Partial pictures").
constexpr float kKeyFrameChange = 0.80f;
constexpr double kKeyFrameInterval = 3.0;       // seconds
constexpr int kKeyFrameMotion = 64;             // bits of 256
constexpr double kKeyFrameMotionGap = 1.0;      // seconds
constexpr int kReferenceFeatures = 80;          // per key frame
constexpr int kLayerFeatures = 200;             // per query layer picture
constexpr double kMinLayerContent = 0.005;      // share of the picture; less is a blank page
constexpr std::size_t kMinSparseFeatures = 30;  // a sparse whole picture's corners to be searched

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  float sum = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

Sample Fingerprinter::sample_of(const Frame& frame, const FingerprintOptions& options,
                                int hash_size) const {
  const GrayImage picture = remove_bars(frame.luma);
  const GrayImage content = fit_within(picture, hash_size);
  Sample sample;
  sample.pts_seconds = frame.pts_seconds;
  const PdqResult pdq = pdq_from_image(content);
  sample.pdq = pdq.hash;
  sample.quality = pdq.quality;
  const RawDescriptor raw = raw_descriptor(content);
  sample.detail = raw.detail;
  sample.descriptor = model_.project(raw.values);
  if (options.insets) {
    // Found at analysis resolution, where the inset's borders are still sharp.
    if (const auto inset = detect_inset(picture)) {
      sample.inset_descriptor = model_.project(raw_descriptor(crop(picture, *inset)).values);
    }
  }
  if (options.local_features == LocalFeatureUse::kLayers) {
    const Foreground foreground = find_foreground(frame.luma, frame.alpha, frame.colour);
    const GrayImage& detailed = frame.detail.empty() ? frame.luma : frame.detail;
    // A picture in a picture on a pale page is a finished frame, searched by its inset.
    if (!foreground.mask.empty() && foreground.share >= kMinLayerContent &&
        sample.inset_descriptor.empty()) {
      sample.foreground_share = foreground.share;
      sample.local_features = local_features(detailed, foreground.mask, kLayerFeatures);
    } else if (sample.detail < kFlatDetail && foreground.pale_page) {
      // Below the flat bar, as thin lines on paper are (an animatic, a pencil test, line art), yet
      // it may hold corners: searched by local features over the whole picture, and by its whole
      // picture (index::is_informative). Black, grey and faded frames have none; title cards and
      // credits on a dark or coloured page are not drawings and stay unsearched.
      sample.local_features = local_features(remove_bars(detailed), {}, kLayerFeatures);
      if (sample.local_features.size() < kMinSparseFeatures) sample.local_features.clear();
    }
  }
  if (options.mirrored) {
    sample.mirrored_pdq = pdq_mirrored(pdq.dct);
    sample.mirrored_descriptor = model_.project(mirror_raw_descriptor(raw.values));
  }
  return sample;
}

Fingerprint Fingerprinter::fingerprint(const std::string& path, const FingerprintOptions& options,
                                       const ProgressCallback& progress) const {
  FingerprintOptions used = options;
  if (options.local_features != LocalFeatureUse::kNone) {
    used.decode.detail_size = kLocalFeatureSide;
  }
  // The foreground finder tells a keying-green backdrop by its colour.
  if (options.local_features == LocalFeatureUse::kLayers) used.decode.colour = true;
  used.decode.whole_frame_rgb_interval = options.whole_frame_pdq_interval;
  auto source = open_media(path, used.decode);
  Fingerprint result;
  result.model_id = model_.id;
  result.descriptor_size = model_.output_size;
  result.sample_fps = options.decode.sample_fps;
  const bool still = source->info().kind == MediaKind::kImage;
  const int hash_size = still ? options.decode.still_analysis_size : options.hash_size;
  Frame frame;
  double last_key_time = -1e9;
  std::vector<float> last_key_descriptor;
  PdqHash last_key_pdq;
  while (source->next(frame)) {
    Sample sample = sample_of(frame, used, hash_size);
    const double since_key = frame.pts_seconds - last_key_time;
    if (options.local_features == LocalFeatureUse::kKeyFrames && sample.detail >= kFlatDetail &&
        (since_key >= kKeyFrameInterval ||
         dot(sample.descriptor, last_key_descriptor) < kKeyFrameChange ||
         (since_key >= kKeyFrameMotionGap &&
          sample.pdq.distance(last_key_pdq) >= kKeyFrameMotion))) {
      const GrayImage& detailed = frame.detail.empty() ? frame.luma : frame.detail;
      sample.local_features = local_features(remove_bars(detailed), {}, kReferenceFeatures);
      last_key_time = frame.pts_seconds;
      last_key_descriptor = sample.descriptor;
      last_key_pdq = sample.pdq;
    }
    if (!frame.whole_rgb.empty()) {
      const PdqResult whole = pdq_from_rgb(frame.whole_rgb);
      sample.pdq = whole.hash;
      sample.quality = whole.quality;
      if (options.mirrored) sample.mirrored_pdq = pdq_mirrored(whole.dct);
    }
    result.samples.push_back(std::move(sample));
    if (progress) progress(frame.pts_seconds, source->info().duration_seconds);
  }
  result.media = source->info();
  if (still) result.sample_fps = 0;
  return result;
}

}  // namespace celtrace::engine
