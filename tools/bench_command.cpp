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
#include "index/vector_index.h"
#include "tools/bench/metrics.h"
#include "tools/commands.h"

namespace celtrace::tools {
namespace {

using nlohmann::json;

struct BenchSettings {
  std::string library, queries, truth;
  bool json_output = false;
  std::string save_json, peer, plot;
  std::vector<std::string> gate_classes;
  double gate_top1 = 0.95;
  index::LookupOptions options;
};

// Another system's predictions on (some of) the queries, scored like celtrace's own:
//   {"system": "NAME", "queries": [{"file": "q.mp4", "seconds": 1.2, "predictions":
//     [{"reference": "Show.S01E02", "score": 0.8, "reference_start": 30, "reference_end": 35}]}]}
// Every listed prediction counts as that system's positive verdict.
struct Peer {
  std::string system;
  std::map<std::string, QueryOutcome> outcomes;  // by query file; `query` set when joined
};

Peer read_peer(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(path + ": cannot read the peer predictions");
  try {
    const json document = json::parse(in);
    Peer peer;
    peer.system = document.value("system", "peer");
    for (const json& q : document.at("queries")) {
      QueryOutcome outcome;
      outcome.lookup_ms = 1000 * q.value("seconds", 0.0);
      outcome.match_ms = outcome.lookup_ms;
      for (const json& p : q.value("predictions", json::array())) {
        outcome.predictions.push_back({p.at("reference").get<std::string>(), p.value("score", 0.0),
                                       true, p.value("reference_start", 0.0),
                                       p.value("reference_end", 0.0)});
      }
      std::stable_sort(outcome.predictions.begin(), outcome.predictions.end(),
                       [](const Prediction& a, const Prediction& b) { return a.score > b.score; });
      peer.outcomes[q.at("file").get<std::string>()] = std::move(outcome);
    }
    return peer;
  } catch (const json::exception& e) {
    throw UsageError(path + ": not a peer predictions file (" + e.what() + ")");
  }
}

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
          {"confirmed_wrong", m.confirmed_wrong},
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
  index::search_on_one_thread();  // as `celtrace lookup` searches (tools/lookup_command.cpp)
  const index::Library library = index::Library::open(s.library);
  std::vector<QueryOutcome> outcomes(truth.size());
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    QueryOutcome& outcome = outcomes[i];
    outcome.query = &truth[i];
    const std::string path = s.queries + "/" + truth[i].file;
    try {
      const auto start = std::chrono::steady_clock::now();
      // A query without media (hashes) has no fingerprinting step: lookup reads it.
      const bool hashes = index::is_hash_only_query(path);
      const engine::Fingerprint fingerprint =
          hashes ? engine::Fingerprint{} : index::fingerprint_query(library, path, s.options);
      const auto fingerprinted = std::chrono::steady_clock::now();
      const index::LookupResult result = hashes
                                             ? index::lookup(library, path, s.options)
                                             : index::match(library, fingerprint, path, s.options);
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
    } catch (const FormatError& e) {  // hashes of a query that could not be hashed
      std::cerr << "celtrace: " << e.what() << " (counted as no prediction)\n";
    }
    if (terminal) std::fprintf(stderr, "\r%zu/%zu queries", i + 1, truth.size());
  }
  if (terminal) std::fprintf(stderr, "\n");
  Peer peer;
  if (!s.peer.empty()) peer = read_peer(s.peer);
  // Per class: celtrace on all queries; celtrace and the peer on the queries the peer ran.
  struct Group {
    std::vector<const QueryOutcome*> all, same, peer;
  };
  std::map<std::string, Group> by_class;
  Group overall_group;
  for (const auto& o : outcomes) {
    for (Group* g : {&by_class[o.query->transform_class], &overall_group}) {
      g->all.push_back(&o);
      const auto found = peer.outcomes.find(o.query->file);
      if (found == peer.outcomes.end()) continue;
      found->second.query = o.query;
      g->same.push_back(&o);
      g->peer.push_back(&found->second);
    }
  }
  auto group_json = [&](const Group& g) {
    json j = metrics_json(evaluate(g.all));
    if (!g.peer.empty()) {
      j["same_queries"] = metrics_json(evaluate(g.same));
      j["peer"] = metrics_json(evaluate(g.peer));
    }
    return j;
  };
  json classes;
  for (const auto& [name, group] : by_class) classes[name] = group_json(group);
  json report = {{"overall", group_json(overall_group)}, {"classes", classes}};
  if (!peer.system.empty()) report["peer_system"] = peer.system;
  if (!s.save_json.empty()) {
    std::ofstream out(s.save_json);
    out << report.dump(1) << "\n";
    if (!out) throw Error(s.save_json + ": cannot write");
  }

  if (!s.plot.empty()) {
    // Each class's curve counts every negative's predictions as false positives.
    std::vector<const QueryOutcome*> negatives, peer_negatives;
    for (const auto& [name, g] : by_class) {
      for (const QueryOutcome* o : g.all)
        if (o->query->negative) negatives.push_back(o);
      for (const QueryOutcome* o : g.peer)
        if (o->query->negative) peer_negatives.push_back(o);
    }
    std::vector<std::pair<std::string, std::vector<std::vector<PrecisionRecall>>>> panels;
    for (const auto& [name, g] : by_class) {
      if (g.all.front()->query->negative) continue;
      auto with_negatives = [](std::vector<const QueryOutcome*> list,
                               const std::vector<const QueryOutcome*>& extra) {
        list.insert(list.end(), extra.begin(), extra.end());
        return precision_recall(list);
      };
      std::vector<std::vector<PrecisionRecall>> curves = {with_negatives(g.all, negatives)};
      if (!g.peer.empty()) curves.push_back(with_negatives(g.peer, peer_negatives));
      panels.push_back({name, curves});
    }
    std::vector<std::string> systems = {"celtrace (all queries)"};
    if (!peer.system.empty()) systems.push_back(peer.system + " (its subset)");
    std::ofstream out(s.plot);
    out << precision_recall_svg(panels, systems);
    if (!out) throw Error(s.plot + ": cannot write");
  }

  if (s.json_output) {
    std::cout << report.dump(1) << "\n";
  } else {
    const bool with_peer = !peer.outcomes.empty();
    std::printf(
        "| class | queries | top-1 | confirmed | µAP | recall @ 0 FP | confirmed negatives | "
        "confirmed wrong | start error p50 / p95 s | segment P / R | lookup p50 / p95 ms | match + "
        "verification p50 ms "
        "|%s\n",
        with_peer ? " peer queries | top-1 celtrace / peer | µAP celtrace / peer | negatives "
                    "confirmed celtrace / matched peer | s per query celtrace / peer |"
                  : "");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|%s\n",
                with_peer ? "---|---|---|---|---|" : "");
    auto row = [&](const std::string& name, const Group& g) {
      const Metrics m = evaluate(g.all);
      std::printf(
          "| %s | %d | %.3f | %.3f | %.3f | %.3f | %d | %d | %.2f / %.2f | %.2f / %.2f | %.0f / "
          "%.0f | %.1f |",
          name.c_str(), m.queries, m.top1, m.confirmed, m.micro_ap, m.recall_at_zero_fp,
          m.confirmed_negatives, m.confirmed_wrong, m.median_start_error, m.p95_start_error,
          m.segment_precision, m.segment_recall, m.lookup_p50_ms, m.lookup_p95_ms, m.match_p50_ms);
      if (with_peer) {
        const Metrics ours = evaluate(g.same), theirs = evaluate(g.peer);
        auto positives_only = [](const Metrics& x, double value) {
          return x.positives > 0 ? std::to_string(value).substr(0, 5) : std::string("-");
        };
        std::printf(
            " %d | %s / %s | %s / %s | %d / %d | %.2f / %.2f |", ours.queries,
            positives_only(ours, ours.top1).c_str(), positives_only(theirs, theirs.top1).c_str(),
            positives_only(ours, ours.micro_ap).c_str(),
            positives_only(theirs, theirs.micro_ap).c_str(), ours.confirmed_negatives,
            theirs.confirmed_negatives, ours.lookup_p50_ms / 1000, theirs.lookup_p50_ms / 1000);
      }
      std::printf("\n");
    };
    for (const auto& [name, group] : by_class) row(name, group);
    row("**all**", overall_group);
  }

  // The gate for CI: mild transforms found, no negative confirmed, no positive confirmed as a
  // reference its truth lacks (as bad as a confirmed negative).
  if (!s.gate_classes.empty()) {
    std::vector<const QueryOutcome*> gated;
    for (const std::string& name : s.gate_classes) {
      const auto found = by_class.find(name);
      if (found == by_class.end()) throw UsageError("--gate: no queries of class " + name);
      gated.insert(gated.end(), found->second.all.begin(), found->second.all.end());
    }
    const Metrics gate = evaluate(gated), all = evaluate(overall_group.all);
    if (gate.top1 < s.gate_top1 || all.confirmed_negatives > 0 || all.confirmed_wrong > 0) {
      std::fprintf(stderr,
                   "celtrace bench: gate failed: top-1 %.3f on the gated classes (needs %.3f), "
                   "%d negatives confirmed, %d positives confirmed as a reference their truth "
                   "lacks (needs 0 and 0)\n",
                   gate.top1, s.gate_top1, all.confirmed_negatives, all.confirmed_wrong);
      return 1;
    }
  }
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
      "Reports per class and overall: top-1 accuracy, share confirmed, micro-average precision,\n"
      "recall with no negative above it, confirmed negatives, positives confirmed as a reference\n"
      "their truth lacks (confirmed wrong), start error, segment precision and\n"
      "recall (overlap >= 0.5), lookup latency (decode included) and match latency (excluded).\n"
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
  command->add_option("--top", s->options.top, "Matches listed per query")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command
      ->add_option("--peer", s->peer,
                   "Another system's predictions (JSON: {\"system\", \"queries\": [{\"file\", "
                   "\"seconds\", \"predictions\": [{\"reference\", \"score\", "
                   "\"reference_start\", \"reference_end\"}]}]}), scored on the same truth "
                   "beside celtrace on the same queries")
      ->check(CLI::ExistingFile);
  command->add_option("--plot", s->plot,
                      "Write precision-recall charts, one per class, to this SVG file");
  command
      ->add_option("--gate", s->gate_classes,
                   "Exit 1 unless top-1 over these classes reaches --gate-top1, no negative "
                   "is confirmed and no positive is confirmed wrong (comma-separated)")
      ->delimiter(',');
  command->add_option("--gate-top1", s->gate_top1, "Top-1 the gated classes need")
      ->capture_default_str();
  command->callback([s, &action] { action = [s] { return run_bench(*s); }; });
}

}  // namespace celtrace::tools
