// Video decoding: container probing by content (the file has no extension), sampling, seeking.
#include <cstdint>
#include <string>

#include "engine/errors.h"
#include "engine/media.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = celtrace::fuzz::write_input("video", data, size);
  celtrace::engine::DecodeOptions options;
  options.sample_fps = celtrace::engine::kQuerySampleFps;
  options.detail_size = 320;
  options.limits.max_pixels = 2048LL * 2048;  // keeps each run short; the limits are tested
  options.limits.max_frames = 5000;
  options.limits.max_duration_seconds = 600;
  try {
    celtrace::engine::Frame frame;
    auto source = celtrace::engine::open_media(path, options);
    while (source->next(frame)) {
    }
    celtrace::engine::frames_between(path, 1.0, 1.0, options);
  } catch (const celtrace::Error&) {
  }
  return 0;
}
