// The lookup result as JSON: the object `celtrace lookup --json` prints and every line of a
// batch's results.jsonl starts from.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "index/lookup.h"

namespace celtrace::tools {

nlohmann::json lookup_to_json(const std::string& path, const index::LookupResult& result);

// `text` safe to print on a terminal: control characters (escape sequences, newlines, a name's
// carriage return) as \xNN, so a hostile file name cannot rewrite the screen or forge lines.
std::string printable(const std::string& text);

// Media time as H:MM:SS.s, as tables and reports show it.
std::string clock_text(double seconds);

// "S02E03", "E03" or "" as tables and reports show season and episode.
std::string season_episode_text(std::optional<int> season, std::optional<int> episode);

}  // namespace celtrace::tools
