#include "tools/lookup_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace celtrace::tools {
namespace {

// `text` with each byte that `escape` selects written as `format` (a printf format for it).
template <typename Select>
std::string escape_bytes(const std::string& text, Select escape, const char* format) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (escape(byte)) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, format, byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

// Bytes outside printable ASCII, '%' included, as %XX.
std::string percent_encoded(const std::string& text) {
  return escape_bytes(
      text, [](unsigned char b) { return b < 0x20 || b >= 0x7f || b == '%'; }, "%%%02X");
}

double rounded(double value) {
  return std::round(value * 1000.0) / 1000.0;
}

}  // namespace

nlohmann::json lookup_to_json(const std::string& path, const index::LookupResult& result) {
  nlohmann::json matches = nlohmann::json::array();
  for (const index::Match& m : result.matches) {
    nlohmann::json segments = nlohmann::json::array();
    for (const auto& s : m.segments) {
      segments.push_back({{"query_start", rounded(s.query_start)},
                          {"query_end", rounded(s.query_end)},
                          {"reference_start", rounded(s.reference_start)},
                          {"reference_end", rounded(s.reference_end)},
                          {"score", rounded(s.score)},
                          {"speed", rounded(s.speed)},
                          {"mirrored", s.mirrored},
                          {"coverage", s.partial ? "partial" : "whole"},
                          {"support", s.support},
                          {"specificity", rounded(s.specificity)}});
    }
    nlohmann::json evidence = {{"temporal", m.temporal},
                               {"visual", m.visual.passed},
                               {"visual_inliers", m.visual.inliers},
                               {"query_time", rounded(m.evidence_query_time)},
                               {"reference_time", rounded(m.evidence_reference_time)}};
    if (m.visual.by_layout) {
      evidence["registered_by_layout"] = true;  // a blurred or tiny still (index/verify.h)
    } else if (m.visual.registered) {
      // Shares of each picture's strong structure that the other lacks (index/verify.h).
      evidence["unexplained_query"] = rounded(m.visual.unexplained_query);
      evidence["unexplained_reference"] = rounded(m.visual.unexplained_reference);
    }
    if (m.visual.plate) evidence["background_plate"] = true;
    if (m.moments_follow_timing) evidence["moments_follow_timing"] = true;
    if (m.coverage == index::Coverage::kPartial && m.visual.registered) {
      // Boxes as shares of each picture's width and height: the query's content, and where it
      // lies in the reference frame at evidence.reference_time.
      const auto box = [](const index::Verification::Box& b) {
        return nlohmann::json{{"x", rounded(b.x)},
                              {"y", rounded(b.y)},
                              {"width", rounded(b.width)},
                              {"height", rounded(b.height)}};
      };
      evidence["query_region"] = box(m.visual.query_region);
      evidence["reference_box"] = box(m.visual.reference_region);
    }
    matches.push_back({{"reference", m.reference.name},
                       {"title", m.reference.title},
                       {"season", optional_number(m.reference.season)},
                       {"episode", optional_number(m.reference.episode)},
                       {"score", rounded(m.score)},
                       {"verdict", index::to_string(m.verdict)},
                       {"coverage", index::to_string(m.coverage)},
                       {"shared", m.shared},
                       {"reason", m.reason},
                       {"evidence", std::move(evidence)},
                       {"segments", std::move(segments)}});
  }
  // The decoder's (the query) and the library's (a reference moved) in one list.
  std::vector<std::string> warnings = result.media.warnings;
  warnings.insert(warnings.end(), result.warnings.begin(), result.warnings.end());
  return {{"query", path},
          {"kind", engine::to_string(result.media.kind)},
          {"duration", rounded(result.media.duration_seconds)},
          {"warnings", warnings},
          {"matches", std::move(matches)}};
}

std::string season_episode_text(std::optional<int> season, std::optional<int> episode) {
  char text[32] = "";
  if (season && episode) {
    std::snprintf(text, sizeof text, "S%02dE%02d", *season, *episode);
  } else if (episode) {
    std::snprintf(text, sizeof text, "E%02d", *episode);
  }
  return text;
}

std::string valid_utf8(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const int length = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    bool ok = length > 0 && i + length <= text.size();
    for (int k = 1; ok && k < length; ++k) ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 2;
    if (ok) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

nlohmann::json optional_number(const std::optional<int>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string json_line(nlohmann::json value) {
  if (value.contains("query") && value["query"].is_string()) {
    const std::string query = value["query"].get<std::string>();
    if (valid_utf8(query) != query) value["query_bytes"] = percent_encoded(query);
  }
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string printable(const std::string& text) {
  return escape_bytes(
      text, [](unsigned char b) { return b < 0x20 || b == 0x7f; }, "\\x%02x");
}

std::string clock_text(double seconds) {
  // Rounded once to tenths, then split: 59.984 s is 0:01:00.0, not 0:00:60.0; a mapping a few
  // milliseconds before the start is 0:00:00.0.
  const long long tenths = std::llround(std::max(0.0, seconds) * 10);
  char text[48];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld.%lld", tenths / 36000, tenths / 600 % 60,
                tenths / 10 % 60, tenths % 10);
  return text;
}

}  // namespace celtrace::tools
