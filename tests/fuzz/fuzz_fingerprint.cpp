// The fingerprint file loader (.ctfp). Random bytes rarely pass the CRC-32 trailer, so when the
// first byte is odd the harness writes a correct trailer first and the parser behind it is fuzzed.
#include <cstdint>
#include <vector>

#include "engine/binary_io.h"
#include "engine/errors.h"
#include "engine/fingerprint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::uint8_t> bytes(data + 1, data + size);
  if ((data[0] & 1) && bytes.size() >= 4) {
    const std::uint32_t crc = celtrace::engine::crc32(bytes.data(), bytes.size() - 4);
    for (int i = 0; i < 4; ++i)
      bytes[bytes.size() - 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  }
  try {
    const celtrace::engine::Fingerprint fingerprint =
        celtrace::engine::parse_fingerprint(bytes, "fuzz.ctfp");
    // What parsed must serialise again.
    celtrace::engine::serialise(fingerprint);
  } catch (const celtrace::Error&) {
  }
  return 0;
}
