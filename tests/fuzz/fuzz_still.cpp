// The still-image path: header checks (read_image_size) and libav's image decoders. The first
// byte picks the file extension (TGA is recognised by it), the rest is the file.
#include <cstdint>
#include <string>

#include "engine/decode/image_reader.h"
#include "engine/errors.h"
#include "engine/media.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const kExtensions[] = {".png",  ".jpg", ".bmp", ".gif",
                                            ".webp", ".tif", ".tga", ".pgm"};
  const std::string path = celtrace::fuzz::write_input(
      std::string("still") + kExtensions[data[0] % 8], data + 1, size - 1);
  celtrace::engine::DecodeOptions options;
  options.limits.max_pixels = 4096LL * 4096;  // keeps each run short; the limit itself is tested
  try {
    celtrace::engine::Frame frame;
    auto source = celtrace::engine::open_media(path, options);
    while (source->next(frame)) {
    }
  } catch (const celtrace::Error&) {
  }
  return 0;
}
