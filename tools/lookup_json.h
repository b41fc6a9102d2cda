// The lookup result as JSON: the object `celtrace lookup --json` prints and every line of a
// batch's results.jsonl starts from.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "index/lookup.h"

namespace celtrace::tools {

nlohmann::json lookup_to_json(const std::string& path, const index::LookupResult& result);

// One line of JSON output (no newline): invalid UTF-8 shown as U+FFFD, and a `query` name that
// is not valid UTF-8 also given exactly as `query_bytes`, percent-encoded.
std::string json_line(nlohmann::json value);

// `text` safe to print on a terminal: control characters (escape sequences, newlines, a name's
// carriage return) as \xNN, so a hostile file name cannot rewrite the screen or forge lines.
std::string printable(const std::string& text);

// A season or episode number as JSON: the number, or null when unknown.
nlohmann::json optional_number(const std::optional<int>& value);

// A string made valid UTF-8 (invalid bytes become U+FFFD), for JSON, CSV and HTML.
std::string valid_utf8(const std::string& text);

// Media time as H:MM:SS.s, as tables and reports show it.
std::string clock_text(double seconds);

// "S02E03", "E03" or "" as tables and reports show season and episode.
std::string season_episode_text(std::optional<int> season, std::optional<int> episode);

}  // namespace celtrace::tools
