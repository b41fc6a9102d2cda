// celtrace lookup: which production, episode and time a file comes from.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/decode/video_encoder.h"
#include "engine/errors.h"
#include "index/lookup.h"
#include "index/vector_index.h"
#include "tools/commands.h"
#include "tools/evidence.h"
#include "tools/lookup_json.h"

namespace celtrace::tools {
namespace {

struct LookupSettings {
  std::string library;
  std::vector<std::string> paths;
  bool json = false;
  bool explain = false;
  std::string evidence;  // directory for the frame pairs, empty: none written
  index::LookupOptions options;
};

constexpr int kEvidenceSize = 480;  // pixels, longer side of each picture of a pair

// --evidence DIR: each match's checked frame pair side by side in colour, as the report shows
// it. Returns the files written by match (empty where none: no pair was checked, as for hash-only
// queries, or a reference cannot be read, which is a warning, not an error).
std::vector<std::string> write_evidence(const LookupSettings& s, const std::string& path,
                                        index::LookupResult& result) {
  std::vector<std::string> files(result.matches.size());
  if (s.evidence.empty()) return files;
  for (std::size_t i = 0; i < result.matches.size(); ++i) {
    const index::Match& m = result.matches[i];
    if (m.visual.candidate < 0) continue;
    const std::string file = (std::filesystem::path(s.evidence) /
                              evidence_file_name(path, static_cast<int>(i) + 1, m.reference.name))
                                 .string();
    try {
      const EvidencePictures pictures = evidence_pictures(path, m, s.options.decode, kEvidenceSize);
      engine::write_png(file, side_by_side(pictures, m));
      files[i] = file;
    } catch (const Error& e) {
      result.warnings.push_back("no evidence picture for " + m.reference.name + ": " + e.what());
    }
  }
  return files;
}

// --explain: why the verdict, and the frame pair shown as visual evidence.
void print_explanation(const index::Match& m) {
  std::printf("      why: %s\n", m.reason.c_str());
  const index::Verification& v = m.visual;
  if (v.candidate < 0) return;
  std::string pair = "      frame pair: query " + clock_text(m.evidence_query_time) +
                     ", reference " + clock_text(m.evidence_reference_time) + ", ";
  if (v.by_layout) {
    pair += "registered by its layout (too blurred or small for corners)";
  } else {
    pair += std::to_string(v.inliers) + " inliers" + (v.registered ? " (registered)" : "");
    if (v.registered) {
      char shares[96];
      std::snprintf(shares, sizeof shares,
                    ", unexplained structure %.2f of the query, %.2f of the reference",
                    v.unexplained_query, v.unexplained_reference);
      pair += shares;
    }
    if (v.plate) pair += ", a background plate";
  }
  std::printf("%s\n", pair.c_str());
}

void print_table(const std::string& path, const index::LookupResult& result, bool explain,
                 const std::vector<std::string>& evidence_files) {
  std::printf("%s (%s, %.1f s)\n", printable(path).c_str(), engine::to_string(result.media.kind),
              result.media.duration_seconds);
  for (const auto* list : {&result.media.warnings, &result.warnings}) {
    for (const std::string& warning : *list)
      std::printf("  warning: %s\n", printable(warning).c_str());
  }
  if (result.matches.empty()) {
    std::printf("  no match in the library\n");
    return;
  }
  // Columns as wide as their longest entry: names are never cut.
  int name_width = 9, title_width = 5;
  for (const index::Match& m : result.matches) {
    name_width = std::max(name_width, static_cast<int>(printable(m.reference.name).size()));
    title_width = std::max(title_width, static_cast<int>(printable(m.reference.title).size()));
  }
  std::printf("  %-*s %-*s %-7s %-27s %-27s %5s  %s\n", name_width, "REFERENCE", title_width,
              "TITLE", "S/E", "QUERY", "REFERENCE TIME", "SCORE", "VERDICT");
  for (std::size_t rank = 0; rank < result.matches.size(); ++rank) {
    const index::Match& m = result.matches[rank];
    std::string se = season_episode_text(m.reference.season, m.reference.episode);
    if (se.empty()) se = "-";
    const std::string name = printable(m.reference.name), title = printable(m.reference.title);
    std::string verdict = index::to_string(m.verdict);
    if (m.coverage == index::Coverage::kPartial) verdict += " partial";
    if (m.shared) verdict += " (shared: series-level)";
    for (std::size_t i = 0; i < m.segments.size(); ++i) {
      const auto& s = m.segments[i];
      const std::string q = clock_text(s.query_start) + " - " + clock_text(s.query_end);
      const std::string r = clock_text(s.reference_start) + " - " + clock_text(s.reference_end);
      std::printf("  %-*s %-*s %-7s %-27s %-27s %5.2f  %s%s\n", name_width, i ? "" : name.c_str(),
                  title_width, i ? "" : title.c_str(), i ? "" : se.c_str(), q.c_str(), r.c_str(),
                  s.score, i ? "" : verdict.c_str(), s.mirrored ? " [mirrored]" : "");
    }
    if (explain) print_explanation(m);
    if (!evidence_files[rank].empty())
      std::printf("      evidence: %s\n", printable(evidence_files[rank]).c_str());
  }
}

// One file: its table or JSON object (an error is thrown, as every command's). Several files:
// the library is loaded once, one table or JSON line per file in order; a file that fails gets
// its error (stderr, and an error object in JSON) and the others go on; exit 1 if any failed.
int run_lookup(const LookupSettings& s) {
  const auto report_error = [&](const std::string& path, const Error& e) {
    if (s.json) std::cout << json_line({{"query", path}, {"error", e.what()}}) << "\n";
  };
  // One lookup's search is a few dozen query vectors: FAISS's OpenMP threads and OpenBLAS's
  // pool gain little on them and then spin, taking the cores that decoding and visual
  // verification need (benchmarks/run's lookup p50 fell by about a fifth, README "Measured").
  index::search_on_one_thread();
  const index::Library library = [&] {
    try {
      return index::Library::open(s.library);
    } catch (const Error& e) {  // a bad library: JSON users get an object per file
      for (const std::string& path : s.paths) report_error(path, e);
      throw;
    }
  }();
  if (!s.evidence.empty()) {
    std::error_code error;
    std::filesystem::create_directories(s.evidence, error);
    if (error)
      throw Error("cannot create the evidence directory " + s.evidence + ": " + error.message());
  }
  int failed = 0;
  for (const std::string& path : s.paths) {
    try {
      index::LookupResult result = index::lookup(library, path, s.options);
      const std::vector<std::string> evidence_files = write_evidence(s, path, result);
      if (s.json) {
        nlohmann::json object = lookup_to_json(path, result);
        for (std::size_t i = 0; i < evidence_files.size(); ++i) {
          if (!evidence_files[i].empty())
            object["matches"][i]["evidence"]["picture"] = evidence_files[i];
        }
        std::cout << json_line(object) << "\n";
      } else {
        print_table(path, result, s.explain, evidence_files);
      }
    } catch (const UsageError&) {
      throw;  // the command line is wrong for every file
    } catch (const Error& e) {
      report_error(path, e);
      if (s.paths.size() == 1) throw;
      std::cout << std::flush;
      std::cerr << "celtrace: " << printable(e.what()) << "\n";
      ++failed;
    }
  }
  return failed > 0 ? 1 : 0;
}

}  // namespace

void add_lookup_options(CLI::App& command, index::LookupOptions& options) {
  command.add_option("--top", options.top, "Most matches listed")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command
      .add_option("--fps", options.sample_fps,
                  "Query frames sampled per second (default: 6 for short clips, about 40 samples "
                  "in all, at least 2)")
      ->check(finite_in(0, 1000));
  command
      .add_option("--sequence-fps", options.decode.sequence_fps,
                  "Frame rate of image sequences and numbered frame folders")
      ->capture_default_str()
      ->check(finite_in(0, 1000, true));
  command.add_flag("!--no-verify", options.verify, "Skip visual verification (at most 'possible')");
  add_limit_options(command, options.decode.limits);
}

void register_lookup_command(CLI::App& app, Action& action) {
  auto s = std::make_shared<LookupSettings>();
  CLI::App* command = app.add_subcommand(
      "lookup",
      "Find which reference (production, episode) and where in it a video, still or frame\n"
      "sequence comes from. Verdicts: 'confirmed' needs many sampled frames agreeing on one time\n"
      "mapping AND a visual check of the best frame pairs; one kind of evidence gives 'possible'.\n"
      "Content shared by several references (openings, recaps) is reported for all of them,\n"
      "marked shared, and never confirmed. Exit code 0 whether or not anything matched.\n"
      "Work-in-progress layers (a character on white or on a transparent background, a cel, a\n"
      "pencil test on paper) are searched by their foreground's local features too; a match on\n"
      "part of the picture is marked 'partial', and the JSON gives the region and its box in\n"
      "the reference frame. A layer that fits several episodes alike (a character in the same\n"
      "pose) is series-level, never confirmed.\n"
      "Several files: the library is loaded once, one table each (with --json one object per\n"
      "line, JSON Lines); a file that fails gets its error and the rest go on, exit code 1.\n"
      "A fingerprint saved by 'celtrace hash --save' (.ctfp) is a query without the media:\n"
      "matched by its timing only (no visual check: at most 'possible'; no mirror or layers).\n"
      "So is a vPDQ file (.vpdq or .txt: Meta's vpdq-hash-video or 'celtrace hash' lines),\n"
      "matched through the library's PDQ of whole frames (libraries built since this\n"
      "version); short clips need at least 6 hashes of quality 50 or more.\n"
      "  celtrace lookup lib/ leaked_clip.mp4\n"
      "  celtrace lookup lib/ 'wip/sc012_%04d.png' --json\n"
      "  celtrace lookup lib/ a.mp4 b.png shots/ --json > results.jsonl");
  command->add_option("library", s->library, "Library directory (see celtrace index add)")
      ->required();
  command
      ->add_option("paths", s->paths,
                   "Videos, images, frame directories, printf patterns, saved fingerprints "
                   "(.ctfp) or vPDQ files (.vpdq, .txt), one or more")
      ->required();
  command->add_flag("--json", s->json, "Print one JSON object instead of a table");
  command->add_flag("--explain", s->explain,
                    "Under each match: why its verdict (which rule), and the frame pair checked "
                    "(times, inliers, unexplained structure). The JSON always has \"reason\"");
  command->add_option("--evidence", s->evidence,
                      "Write each match's checked frame pair to this directory as a PNG in colour "
                      "(query left, reference right; a layer's box outlined in red), named "
                      "QUERY-RANK-REFERENCE.png; the table and JSON give the file");
  add_lookup_options(*command, s->options);
  command->callback([s, &action] { action = [s] { return run_lookup(*s); }; });
}

}  // namespace celtrace::tools
