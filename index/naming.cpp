#include "index/naming.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <vector>

#include "engine/errors.h"

namespace celtrace::index {
namespace {

std::string tidy_title(std::string text) {
  std::replace(text.begin(), text.end(), '.', ' ');
  std::replace(text.begin(), text.end(), '_', ' ');
  // Drop separators and spaces at the ends ("Show Name - ").
  const auto keep = [](unsigned char c) { return !(std::isspace(c) || c == '-'); };
  const auto begin = std::find_if(text.begin(), text.end(), keep);
  const auto end = std::find_if(text.rbegin(), text.rend(), keep).base();
  return begin < end ? std::string(begin, end) : std::string();
}

std::vector<std::string> split_csv_line(const std::string& line, int line_number,
                                        const std::string& path) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) throw UsageError(path + ":" + std::to_string(line_number) + ": unterminated quote");
  return fields;
}

std::optional<int> parse_number(const std::string& text, const std::string& where) {
  if (text.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used != text.size() || value < 0) throw std::invalid_argument(text);
    return value;
  } catch (const std::exception&) {
    throw UsageError(where + ": '" + text + "' is not a number");
  }
}

}  // namespace

EpisodeName parse_episode_name(const std::string& file_name) {
  const std::string stem = std::filesystem::path(file_name).stem().string();
  std::smatch match;
  static const std::regex season_episode(
      R"(^(.*?)[\s._-]*[Ss](\d{1,3})[\s._-]?[Ee](\d{1,4})(?!\d).*$)");
  static const std::regex cross(R"(^(.*?)[\s._-]*(\d{1,2})x(\d{1,4})(?!\d).*$)");
  static const std::regex episode_only(R"(^(.*?)\s+-\s+(\d{1,4})(?!\d)(\s.*)?$)");
  EpisodeName name;
  if (std::regex_match(stem, match, season_episode) || std::regex_match(stem, match, cross)) {
    name.title = tidy_title(match[1].str());
    name.season = std::stoi(match[2].str());
    name.episode = std::stoi(match[3].str());
  } else if (std::regex_match(stem, match, episode_only)) {
    name.title = tidy_title(match[1].str());
    name.episode = std::stoi(match[2].str());
  } else {
    name.title = tidy_title(stem);
  }
  if (name.title.empty()) name.title = stem;
  return name;
}

std::map<std::string, CatalogueRow> read_catalogue_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(path + ": cannot read catalogue");
  std::string line;
  if (!std::getline(in, line)) throw UsageError(path + ": empty catalogue");
  std::vector<std::string> header = split_csv_line(line, 1, path);
  std::map<std::string, int> column;
  for (int i = 0; i < static_cast<int>(header.size()); ++i) {
    std::string key = header[i];
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    column[tidy_title(key)] = i;
  }
  if (!column.count("path") && !column.count("file"))
    throw UsageError(path + ": catalogue needs a 'path' column");
  const int file_column = column.count("path") ? column["path"] : column["file"];
  std::map<std::string, CatalogueRow> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const auto fields = split_csv_line(line, number, path);
    auto field = [&](const char* key) -> std::string {
      const auto it = column.find(key);
      return it != column.end() && it->second < static_cast<int>(fields.size()) ? fields[it->second]
                                                                                : "";
    };
    if (file_column >= static_cast<int>(fields.size())) continue;
    const std::string where = path + ":" + std::to_string(number);
    CatalogueRow row;
    row.episode.title = field("title");
    row.episode.season = parse_number(field("season"), where);
    row.episode.episode = parse_number(field("episode"), where);
    row.name = field("name");
    rows[std::filesystem::path(fields[file_column]).filename().string()] = row;
  }
  return rows;
}

}  // namespace celtrace::index
