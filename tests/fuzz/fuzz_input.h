// Shared by the libFuzzer targets: celtrace reads files by path, so each input is written to a
// file in this process's own directory (on tmpfs where there is one) and read back through the
// same code the tools use.
#pragma once

#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace celtrace::fuzz {

// Created on first use, removed when the fuzzer exits normally (never destroyed itself, so that
// the exit handler can still read it).
inline const std::filesystem::path& work_directory() {
  static const std::filesystem::path& directory = *new std::filesystem::path([] {
    const char* shm = "/dev/shm";
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path base = std::filesystem::is_directory(shm) ? shm : (tmp ? tmp : "/tmp");
    auto path = base / ("celtrace-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(work_directory(), ignored);
    });
    return path;
  }());
  return directory;
}

// Writes `size` bytes to `name` in the work directory and returns its path.
inline std::string write_input(const std::string& name, const std::uint8_t* data,
                               std::size_t size) {
  const std::string path = (work_directory() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace celtrace::fuzz
