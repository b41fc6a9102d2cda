// celtrace bench: accuracy and speed of lookups on a query set with ground truth.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "engine/errors.h"
#include "index/lookup.h"
#include "tools/bench/metrics.h"
#include "tools/commands.h"

namespace celtrace::tools {
namespace {

using nlohmann::json;

struct BenchSettings {
  std::string library, queries, truth;
  bool json_output = false;
  std::string save_json;
  index::LookupOptions options;
};

std::vector<TruthQuery> read_truth(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(path + ": cannot read the truth file");
  json document;
  try {
    document = json::parse(in);
    std::vector<TruthQuery> queries;
    for (const json& q : document.at("queries")) {
      TruthQuery query;
      query.file = q.at("file").get<std::string>();
      query.transform_class = q.value("class", "unclassified");
      query.negative = q.value("negative", false);
      for (const json& t : q.value("truth", json::array())) {
        query.truth.push_back({t.at("reference").get<std::string>(),
                               t.value("reference_start", 0.0),
                               t.value("reference_end", t.value("reference_start", 0.0))});
      }
      if (!query.negative && query.truth.empty())
        throw UsageError(path + ": positive query " + query.file + " has no truth");
      queries.push_back(std::move(query));
    }
    return queries;
  } catch (const json::exception& e) {
    throw UsageError(path + ": not a truth file (" + e.what() + ")");
  }
}

json metrics_json(const Metrics& m) {
  return {{"queries", m.queries},
          {"positives", m.positives},
          {"negatives", m.negatives},
          {"top1", m.top1},
          {"confirmed", m.confirmed},
          {"micro_ap", m.micro_ap},
          {"recall_at_zero_fp", m.recall_at_zero_fp},
          {"confirmed_negatives", m.confirmed_negatives},
          {"median_start_error_s", m.median_start_error},
          {"p95_start_error_s", m.p95_start_error},
          {"segment_precision", m.segment_precision},
          {"segment_recall", m.segment_recall},
          {"lookup_p50_ms", m.lookup_p50_ms},
          {"lookup_p95_ms", m.lookup_p95_ms},
          {"match_p50_ms", m.match_p50_ms},
          {"match_p95_ms", m.match_p95_ms}};
}

int run_bench(const BenchSettings& s) {
  const auto truth = read_truth(s.truth);
  const index::Library library = index::Library::open(s.library);
  std::vector<QueryOutcome> outcomes(truth.size());
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    QueryOutcome& outcome = outcomes[i];
    outcome.query = &truth[i];
    const std::string path = s.queries + "/" + truth[i].file;
    try {
      const auto start = std::chrono::steady_clock::now();
      const engine::Fingerprint fingerprint = index::fingerprint_query(library, path, s.options);
      const auto fingerprinted = std::chrono::steady_clock::now();
      const index::LookupResult result = index::match(library, fingerprint, path, s.options);
      const auto end = std::chrono::steady_clock::now();
      outcome.lookup_ms = std::chrono::duration<double, std::milli>(end - start).count();
      outcome.match_ms = std::chrono::duration<double, std::milli>(end - fingerprinted).count();
      for (const index::Match& m : result.matches) {
        outcome.predictions.push_back(
            {m.reference.name, m.score, m.verdict == index::Verdict::kConfirmed,
             m.segments.front().reference_start, m.segments.front().reference_end});
      }
    } catch (const MediaError& e) {
      std::cerr << "celtrace: " << e.what() << " (counted as no prediction)\n";
    }
    if (terminal) std::fprintf(stderr, "\r%zu/%zu queries", i + 1, truth.size());
  }
  if (terminal) std::fprintf(stderr, "\n");
  std::map<std::string, std::vector<const QueryOutcome*>> by_class;
  std::vector<const QueryOutcome*> all;
  for (const auto& o : outcomes) {
    by_class[o.query->transform_class].push_back(&o);
    all.push_back(&o);
  }
  const Metrics overall = evaluate(all);
  json classes;
  for (const auto& [name, list] : by_class) classes[name] = metrics_json(evaluate(list));
  const json report = {{"overall", metrics_json(overall)}, {"classes", classes}};
  if (!s.save_json.empty()) {
    std::ofstream out(s.save_json);
    out << report.dump(1) << "\n";
    if (!out) throw Error(s.save_json + ": cannot write");
  }
  if (s.json_output) {
    std::cout << report.dump(1) << "\n";
    return 0;
  }
  std::printf(
      "| class | queries | top-1 | confirmed | µAP | recall @ 0 FP | confirmed negatives | start "
      "error p50 / "
      "p95 s | lookup p50 / p95 ms | match + verification p50 ms |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  auto row = [](const std::string& name, const Metrics& m) {
    std::printf("| %s | %d | %.3f | %.3f | %.3f | %.3f | %d | %.2f / %.2f | %.0f / %.0f | %.1f |\n",
                name.c_str(), m.queries, m.top1, m.confirmed, m.micro_ap, m.recall_at_zero_fp,
                m.confirmed_negatives, m.median_start_error, m.p95_start_error, m.lookup_p50_ms,
                m.lookup_p95_ms, m.match_p50_ms);
  };
  for (const auto& [name, list] : by_class) row(name, evaluate(list));
  row("**all**", overall);
  return 0;
}

}  // namespace

void register_bench_command(CLI::App& app, Action& action) {
  auto s = std::make_shared<BenchSettings>();
  CLI::App* command = app.add_subcommand(
      "bench",
      "Measure lookups on your own query set. The truth file is JSON:\n"
      "  {\"queries\": [{\"file\": \"q001.mp4\", \"class\": \"crop\", \"negative\": false,\n"
      "                \"truth\": [{\"reference\": \"Show.S01E02\", \"reference_start\": 30.0,\n"
      "                           \"reference_end\": 35.0}]},\n"
      "               {\"file\": \"n001.mp4\", \"class\": \"negative\", \"negative\": true}]}\n"
      "Reports per class and overall: top-1 accuracy, micro-average precision, recall with no\n"
      "negative above it, confirmed negatives, start error, lookup and match latency.\n"
      "  celtrace bench lib/ --queries queries/ --truth truth.json");
  command->add_option("library", s->library, "Library directory")->required();
  command->add_option("--queries", s->queries, "Directory the truth file's paths are relative to")
      ->required();
  command->add_option("--truth", s->truth, "Truth file (JSON, see above)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_flag("--json", s->json_output,
                    "Print the metrics as JSON instead of a Markdown table");
  command->add_option("--save-json", s->save_json, "Also write the metrics as JSON to this file");
  command->add_flag("!--no-verify", s->options.verify, "Skip visual verification");
  command->callback([s, &action] { action = [s] { return run_bench(*s); }; });
}

}  // namespace celtrace::tools
