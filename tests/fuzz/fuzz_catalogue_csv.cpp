// The catalogue CSV reader: a malformed file is a UsageError, never a crash or another exception.
#include <cstdint>

#include "engine/errors.h"
#include "index/naming.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = celtrace::fuzz::write_input("catalogue.csv", data, size);
  try {
    celtrace::index::read_catalogue_csv(path);
  } catch (const celtrace::Error&) {
  }
  return 0;
}
