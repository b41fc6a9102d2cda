// The batch's outputs for people and spreadsheets: results.csv (one row per matched segment)
// and report.html (one self-contained page: summary per production and episode, then each file
// with its verdict, side-by-side thumbnails and a timeline bar of where it sits in the episode).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace celtrace::tools {

struct ReportItem {
  std::string path, kind, status;
  nlohmann::json result;  // the results.jsonl object
};

// Every text from the inputs (file names, titles) is escaped; names need not be valid UTF-8.
std::string html_escape(const std::string& text);

void write_outputs(const std::string& directory, const std::vector<ReportItem>& items);

}  // namespace celtrace::tools
