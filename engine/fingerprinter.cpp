#include "engine/fingerprinter.h"

#include <algorithm>

#include "engine/descriptor.h"
#include "engine/pdq.h"
#include "engine/preprocess.h"

namespace celtrace::engine {

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
  if (options.mirrored) {
    sample.mirrored_pdq = pdq_mirrored(pdq.dct);
    sample.mirrored_descriptor = model_.project(mirror_raw_descriptor(raw.values));
  }
  return sample;
}

Fingerprint Fingerprinter::fingerprint(const std::string& path, const FingerprintOptions& options,
                                       const ProgressCallback& progress) const {
  auto source = open_media(path, options.decode);
  Fingerprint result;
  result.model_id = model_.id;
  result.descriptor_size = model_.output_size;
  result.sample_fps = options.decode.sample_fps;
  const bool still = source->info().kind == MediaKind::kImage;
  const int hash_size = still ? options.decode.still_analysis_size : options.hash_size;
  Frame frame;
  while (source->next(frame)) {
    result.samples.push_back(sample_of(frame, options, hash_size));
    if (progress) progress(frame.pts_seconds, source->info().duration_seconds);
  }
  result.media = source->info();
  if (still) result.sample_fps = 0;
  return result;
}

}  // namespace celtrace::engine
