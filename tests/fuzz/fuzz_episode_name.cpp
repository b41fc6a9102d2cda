// The file-name parser: any name gives a title (possibly empty) and episode numbers in range.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "index/naming.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string name(reinterpret_cast<const char*>(data), size);
  const celtrace::index::EpisodeName parsed = celtrace::index::parse_episode_name(name);
  if (parsed.season && *parsed.season < 0) std::abort();
  if (parsed.episode && *parsed.episode < 0) std::abort();
  return 0;
}
