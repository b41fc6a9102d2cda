// The one error policy of celtrace: library code throws these, never prints or exits;
// each tool's main maps them to exit codes (0 ok, 1 runtime error, 2 usage).
#pragma once

#include <stdexcept>
#include <string>

namespace celtrace {

// Base of every error the library throws; what() is one line meant for a person.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An input file that cannot be read or decoded (missing, truncated, not media, corrupt).
class MediaError : public Error {
 public:
  using Error::Error;
};

// An input that is readable but exceeds a configured safety limit (pixels, duration, frames).
class LimitError : public MediaError {
 public:
  using MediaError::MediaError;
};

// An allocation failed while decoding: the process's memory limit was reached, or the input asked
// for an absurd amount (libav refuses those as out of memory too).
class OutOfMemoryError : public LimitError {
 public:
  using LimitError::LimitError;
};

// A celtrace file (fingerprint, model, library) that is corrupt, truncated or of another version.
class FormatError : public Error {
 public:
  using Error::Error;
};

// A caller passed arguments that make no sense (bad option value, unknown model ID).
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace celtrace
