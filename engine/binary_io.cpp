#include "engine/binary_io.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>
#include <zlib.h>

namespace celtrace::engine {

std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  return static_cast<std::uint32_t>(::crc32_z(0, data, size));
}

BinaryReader::BinaryReader(const std::vector<std::uint8_t>& bytes, std::string what)
    : bytes_(bytes), what_(std::move(what)) {
  if (bytes.size() < 4) fail("too short");
  end_ = bytes.size() - 4;
  std::uint32_t stored;
  std::memcpy(&stored, bytes.data() + end_, 4);
  if (stored != crc32(bytes.data(), end_)) fail("checksum mismatch (file is corrupt)");
}

const std::uint8_t* BinaryReader::take(std::size_t size) {
  if (size > end_ - position_) fail("truncated");
  const std::uint8_t* at = bytes_.data() + position_;
  position_ += size;
  return at;
}

std::string BinaryReader::get_string(std::size_t max_size) {
  const auto size = get<std::uint32_t>();
  if (size > max_size) fail("implausible string length");
  const auto* at = take(size);
  return std::string(reinterpret_cast<const char*>(at), size);
}

std::vector<float> BinaryReader::get_floats(std::size_t count) {
  if (count > (end_ - position_) / sizeof(float)) fail("truncated");
  std::vector<float> values(count);
  // memcpy from or to null is undefined even for 0 bytes (an empty vector's data() may be null).
  if (count > 0) std::memcpy(values.data(), take(count * sizeof(float)), count * sizeof(float));
  return values;
}

void BinaryReader::fail(const std::string& why) const {
  throw FormatError(what_ + ": " + why);
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::size_t max_size) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path + ": cannot open for reading");
  const auto size = static_cast<std::size_t>(in.tellg());
  if (size > max_size) throw FormatError(path + ": larger than any valid file of its kind");
  std::vector<std::uint8_t> bytes(size);
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw Error(path + ": read failed");
  }
  return bytes;
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(temporary + ": cannot open for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      throw Error(temporary + ": write failed");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    throw Error(path + ": cannot replace (" + error.message() + ")");
  }
}

}  // namespace celtrace::engine
