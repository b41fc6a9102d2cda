// celtrace: trace leaked animation media to production, episode and time.
// Exit codes: 0 ok, 1 runtime error (unreadable input, corrupt file), 2 usage error.
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/decode/video_decoder.h"
#include "engine/errors.h"
#include "index/vector_index.h"
#include "tools/commands.h"
#include "tools/lookup_json.h"

namespace celtrace::tools {

CLI::Validator finite_in(double min, double max, bool open_min) {
  std::ostringstream bounds;
  bounds << (open_min ? "(" : "[") << min << ", " << max << "]";
  const std::string range = bounds.str();
  return CLI::Validator(
      [min, max, open_min, range](std::string& text) -> std::string {
        double value = 0;
        try {
          std::size_t used = 0;
          value = std::stod(text, &used);
          if (used != text.size()) return "'" + text + "' is not a number";
        } catch (const std::exception&) {
          return "'" + text + "' is not a number";
        }
        if (!std::isfinite(value) || value < min || value > max || (open_min && value == min))
          return "'" + text + "' is not in " + range;
        return {};
      },
      "in " + range);
}

void add_limit_options(CLI::App& command, engine::Limits& limits) {
  command
      .add_option("--max-pixels", limits.max_pixels, "Refuse frames larger than this many pixels")
      ->capture_default_str()
      ->check(finite_in(1, 1e12))
      ->group("Safety limits");
  command
      .add_option("--max-duration", limits.max_duration_seconds,
                  "Refuse media longer than this (seconds)")
      ->capture_default_str()
      ->check(finite_in(0, 1e7, true))
      ->group("Safety limits");
  command.add_option("--max-frames", limits.max_frames, "Refuse media with more frames than this")
      ->capture_default_str()
      ->check(finite_in(1, 1e12))
      ->group("Safety limits");
}

}  // namespace celtrace::tools

int main(int argc, char** argv) {
  using namespace celtrace;
  index::stop_idle_blas_threads();
  CLI::App app{
      "celtrace: find which production, episode and time a piece of animation media comes from.\n"
      "  celtrace index add lib/ episodes/        # index the published episodes you hold\n"
      "  celtrace lookup lib/ leaked_clip.mp4     # which production, episode and time it is\n"
      "  celtrace match lib/ /mnt/leak --out case/ # every file of a tree, with a report"};
  app.set_version_flag("--version", "celtrace 0.1.0");
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Show decoder warnings on stderr");
  tools::Action action;
  tools::register_hash_command(app, action);
  tools::register_index_command(app, action);
  tools::register_lookup_command(app, action);
  tools::register_match_command(app, action);
  tools::register_queue_command(app, action);
  tools::register_bench_command(app, action);
  tools::register_model_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "celtrace: " << tools::printable(e.what()) << "\n(see celtrace --help)\n";
    return 2;
  }
  engine::set_decoder_log_verbose(verbose);
  try {
    return action ? action() : 0;
  } catch (const UsageError& e) {
    std::cerr << "celtrace: " << tools::printable(e.what()) << "\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "celtrace: " << tools::printable(e.what()) << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "celtrace: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "celtrace: internal error: " << tools::printable(e.what()) << "\n";
    return 1;
  }
}
