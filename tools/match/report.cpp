#include "tools/match/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "engine/binary_io.h"
#include "engine/errors.h"
#include "tools/lookup_json.h"
#include "tools/match/batch.h"

namespace celtrace::tools {
namespace {

using nlohmann::json;

std::string csv_field(const std::string& text) {
  const std::string clean = valid_utf8(text);
  if (clean.find_first_of(",\"\n\r") == std::string::npos) return clean;
  std::string out = "\"";
  for (char c : clean) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(const json& value, const char* format = "%.2f") {
  if (!value.is_number()) return "";
  char text[32];
  std::snprintf(text, sizeof text, format, value.get<double>());
  return text;
}

std::string episode_label(const json& match) {
  auto number = [&](const char* key) {
    return match[key].is_number() ? std::optional<int>(match[key].get<int>()) : std::nullopt;
  };
  const std::string se = season_episode_text(number("season"), number("episode"));
  const std::string label = match.value("title", "") + (se.empty() ? "" : " " + se);
  const std::string reference = match.value("reference", "");
  // A reference named like its title (a film: "Megamind") is not repeated.
  return label == reference || reference.empty() ? label : label + " (" + reference + ")";
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;background:#fff}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
.file{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin:10px 0}
.path{font-family:monospace;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff;margin-left:6px}
.confirmed{background:#1a7f37}.possible{background:#bf8700}.no_match{background:#6e7781}.skipped{background:#8c959f}.error{background:#cf222e}
.pair{display:flex;gap:10px;align-items:flex-start;margin:8px 0}.pair figure{margin:0}
.pair img{width:240px;border:1px solid #ccc;display:block}.pair figcaption{font-size:12px;color:#555}
.shot{position:relative;width:242px}.region{position:absolute;border:2px solid #cf222e;box-sizing:border-box}
.bar{position:relative;height:10px;width:480px;background:#e5e5e5;border-radius:5px;margin:4px 0 10px}
.bar span{position:absolute;top:0;height:10px;background:#0969da;border-radius:5px;min-width:3px}
.muted{color:#6e7781}
)";

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : valid_utf8(text)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void write_outputs(const std::string& directory, const std::vector<ReportItem>& items) {
  // results.csv: one row per matched segment.
  std::ostringstream csv;
  csv << "path,status,reference,title,season,episode,verdict,coverage,score,shared,mirrored,"
         "query_start,query_end,reference_start,reference_end\n";
  struct Episode {
    int files = 0;
    double seconds = 0;
  };
  std::map<std::string, Episode> episodes;
  int counts[5] = {0, 0, 0, 0, 0};  // matched, no_match, skipped, error, pending
  for (const ReportItem& item : items) {
    counts[item.status == "matched"    ? 0
           : item.status == "no_match" ? 1
           : item.status == "skipped"  ? 2
           : item.status == "error"    ? 3
                                       : 4]++;
    if (!item.result.contains("matches")) continue;
    for (const json& m : item.result["matches"]) {
      Episode& e = episodes[episode_label(m)];
      ++e.files;
      for (const json& s : m["segments"]) {
        e.seconds += s.value("query_end", 0.0) - s.value("query_start", 0.0);
        csv << csv_field(item.path) << "," << item.status << ","
            << csv_field(m.value("reference", "")) << "," << csv_field(m.value("title", "")) << ","
            << (m["season"].is_number() ? std::to_string(m["season"].get<int>()) : "") << ","
            << (m["episode"].is_number() ? std::to_string(m["episode"].get<int>()) : "") << ","
            << m.value("verdict", "") << "," << s.value("coverage", "whole") << ","
            << number(s["score"]) << "," << (m.value("shared", false) ? "yes" : "no") << ","
            << (s.value("mirrored", false) ? "yes" : "no") << "," << number(s["query_start"]) << ","
            << number(s["query_end"]) << "," << number(s["reference_start"]) << ","
            << number(s["reference_end"]) << "\n";
      }
    }
  }
  engine::write_file_atomically(directory + "/results.csv", csv.str());

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>celtrace "
          "report</title><style>"
       << kStyle << "</style></head><body>\n<h1>celtrace batch report</h1>\n<p>" << items.size()
       << " items: " << counts[0] << " matched, " << counts[1] << " without match, " << counts[2]
       << " skipped, " << counts[3] << (counts[3] == 1 ? " error" : " errors")
       << (counts[4] ? ", " + std::to_string(counts[4]) + " not yet processed" : std::string())
       << ".</p>\n";
  html << "<h2>By production and episode</h2>\n";
  if (episodes.empty()) {
    html << "<p class=\"muted\">No file matched the library.</p>\n";
  } else {
    html << "<table><tr><th>Episode</th><th>Files</th><th>Matched minutes</th></tr>\n";
    for (const auto& [label, e] : episodes) {
      char minutes[32];
      std::snprintf(minutes, sizeof minutes, "%.2f", e.seconds / 60);
      html << "<tr><td>" << html_escape(label) << "</td><td>" << e.files << "</td><td>" << minutes
           << "</td></tr>\n";
    }
    html << "</table>\n";
  }
  html << "<h2>Files</h2>\n";
  // Matches first (confirmed before possible), then files without match, errors, skipped.
  std::vector<const ReportItem*> ordered;
  for (const ReportItem& item : items) ordered.push_back(&item);
  auto rank = [](const ReportItem* item) {
    if (item->status == "matched") {
      return item->result["matches"][0].value("verdict", "") == "confirmed" ? 0 : 1;
    }
    return item->status == "no_match" ? 2 : item->status == "error" ? 3 : 4;
  };
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](const ReportItem* a, const ReportItem* b) { return rank(a) < rank(b); });
  for (const ReportItem* entry : ordered) {
    const ReportItem& item = *entry;
    const json& r = item.result;
    html << "<div class=\"file\"><div><span class=\"path\">" << html_escape(item.path) << "</span>";
    if (item.status == "matched") {
      for (const json& m : r["matches"]) {
        html << "<span class=\"badge " << html_escape(m.value("verdict", "")) << "\">"
             << html_escape(m.value("verdict", "")) << "</span>";
        break;
      }
    } else {
      html << "<span class=\"badge " << html_escape(item.status) << "\">"
           << html_escape(item.status == "no_match" ? "no match" : item.status) << "</span>";
    }
    html << "</div>\n";
    if (r.contains("reason"))
      html << "<div class=\"muted\">" << html_escape(r.value("reason", "")) << "</div>\n";
    if (r.contains("error"))
      html << "<div class=\"muted\">" << html_escape(r.value("error", "")) << "</div>\n";
    if (r.contains("files"))
      html << "<div class=\"muted\">" << r["files"].size() << " frames</div>\n";
    if (!r.contains("matches")) {
      html << "</div>\n";
      continue;
    }
    for (const json& m : r["matches"]) {
      html << "<div><b>" << html_escape(episode_label(m)) << "</b> &middot; score "
           << number(m["score"]) << " &middot; " << html_escape(m.value("verdict", ""))
           << (m.value("shared", false) ? " (shared content: series level)" : "") << "</div>\n";
      const double duration = m.value("reference_duration", 0.0);
      if (duration > 0) {
        html << "<div class=\"bar\" title=\"position in the episode\">";
        for (const json& s : m["segments"]) {
          const double left = 100 * s.value("reference_start", 0.0) / duration;
          const double width =
              100 * (s.value("reference_end", 0.0) - s.value("reference_start", 0.0)) / duration;
          char style[96];
          std::snprintf(style, sizeof style, "left:%.2f%%;width:%.2f%%", std::max(0.0, left),
                        std::max(0.0, width));
          html << "<span style=\"" << style << "\"></span>";
        }
        html << "</div>\n";
      }
      for (const json& s : m["segments"]) {
        html << "<div>query " << clock_text(s.value("query_start", 0.0)) << " &ndash; "
             << clock_text(s.value("query_end", 0.0)) << " &rarr; episode "
             << clock_text(s.value("reference_start", 0.0)) << " &ndash; "
             << clock_text(s.value("reference_end", 0.0))
             << (s.value("mirrored", false) ? " (mirrored)" : "") << "</div>\n";
      }
      if (m.contains("thumbnails")) {
        const json& t = m["thumbnails"];
        const json& e = m["evidence"];
        html << "<div class=\"pair\">";
        if (t.contains("query")) {
          html << "<figure><img alt=\"query frame\" src=\"" << html_escape(t.value("query", ""))
               << "\"><figcaption>this file at " << clock_text(e.value("query_time", 0.0))
               << "</figcaption></figure>";
        }
        if (t.contains("reference")) {
          html << "<figure><div class=\"shot\"><img alt=\"episode frame\" src=\""
               << html_escape(t.value("reference", "")) << "\">";
          // Partial evidence: where the file's content lies in the episode's frame.
          if (e.contains("reference_box")) {
            const json& b = e["reference_box"];
            char style[128];
            std::snprintf(style, sizeof style, "left:%.1f%%;top:%.1f%%;width:%.1f%%;height:%.1f%%",
                          100 * b.value("x", 0.0), 100 * b.value("y", 0.0),
                          100 * b.value("width", 0.0), 100 * b.value("height", 0.0));
            html << "<span class=\"region\" title=\"the file's content\" style=\"" << style
                 << "\"></span>";
          }
          html << "</div><figcaption>episode at " << clock_text(e.value("reference_time", 0.0))
               << " (" << e.value("visual_inliers", 0) << " matching features"
               << (e.contains("reference_box") ? "; the box: this file's content" : "")
               << ")</figcaption></figure>";
        }
        html << "</div>\n";
      }
    }
    html << "</div>\n";
  }
  html << "</body></html>\n";
  engine::write_file_atomically(directory + "/report.html", html.str());
}

}  // namespace celtrace::tools
