// Little-endian binary writing and bounds-checked reading for celtrace's own file formats
// (fingerprints, models), with a CRC-32 trailer so corruption is detected, not misread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "engine/errors.h"

namespace celtrace::engine {

// CRC-32 (IEEE 802.3 polynomial) of `size` bytes, by zlib.
std::uint32_t crc32(const std::uint8_t* data, std::size_t size);

class BinaryWriter {
 public:
  template <typename T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* raw = reinterpret_cast<const std::uint8_t*>(&value);
    bytes_.insert(bytes_.end(), raw, raw + sizeof(T));
  }
  void put_string(const std::string& text) {
    put<std::uint32_t>(static_cast<std::uint32_t>(text.size()));
    bytes_.insert(bytes_.end(), text.begin(), text.end());
  }
  void put_floats(const std::vector<float>& values) {
    const auto* raw = reinterpret_cast<const std::uint8_t*>(values.data());
    bytes_.insert(bytes_.end(), raw, raw + values.size() * sizeof(float));
  }
  void put_raw(const std::uint8_t* data, std::size_t size) {
    bytes_.insert(bytes_.end(), data, data + size);
  }
  // Appends the CRC-32 of everything written so far and returns the finished bytes.
  std::vector<std::uint8_t> finish() {
    put<std::uint32_t>(crc32(bytes_.data(), bytes_.size()));
    return std::move(bytes_);
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

class BinaryReader {
 public:
  // Verifies the CRC-32 trailer; `what` names the file in errors.
  BinaryReader(const std::vector<std::uint8_t>& bytes, std::string what);

  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  std::string get_string(std::size_t max_size = 1 << 20);
  std::vector<float> get_floats(std::size_t count);
  const std::uint8_t* take(std::size_t size);
  bool at_end() const { return position_ == end_; }
  [[noreturn]] void fail(const std::string& why) const;

 private:
  const std::vector<std::uint8_t>& bytes_;
  std::string what_;
  std::size_t position_ = 0;
  std::size_t end_ = 0;  // excludes the CRC trailer
};

std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::size_t max_size);
// Writes to a temporary name in the same directory, then renames: readers never see half a file.
void write_file_atomically(const std::string& path, std::string_view bytes);
inline void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  write_file_atomically(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace celtrace::engine
