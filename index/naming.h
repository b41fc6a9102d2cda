// Titles, seasons and episodes from file names and catalogue CSV files.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace celtrace::index {

struct EpisodeName {
  std::string title;
  std::optional<int> season, episode;
};

// Parses "Show.Name.S02E03.mkv", "Show Name - 2x03.mp4", "Show_Name_S2E3_1080p.mkv",
// "Show Name - 03.avi" (episode only) and plain names (title only, dots and underscores read as
// spaces, trailing release tags dropped).
EpisodeName parse_episode_name(const std::string& file_name);

// Reads a catalogue CSV with a header naming some of: path (or file), title, season, episode,
// name. Rows are keyed by the file's base name. Quoted fields may hold commas and quotes ("").
// Throws UsageError on a malformed file.
struct CatalogueRow {
  EpisodeName episode;
  std::string name;
};
std::map<std::string, CatalogueRow> read_catalogue_csv(const std::string& path);

}  // namespace celtrace::index
