// Each subcommand registers its options on the CLI and returns the action to run after parsing.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "engine/media.h"
#include "index/lookup.h"
#include "tools/match/batch.h"

namespace celtrace::tools {

using Action = std::function<int()>;

// A number option's check: finite (NaN and infinity are refused, which CLI11's range checks let
// through) and within [min, max], or (min, max] when `open_min`. The message names the bounds as
// written here, not as 309-digit limits.
CLI::Validator finite_in(double min, double max, bool open_min = false);

// Adds --max-pixels, --max-duration and --max-frames to a command.
void add_limit_options(CLI::App& command, engine::Limits& limits);

// Adds lookup's options (--top, --fps, --sequence-fps, --no-verify and the limits) to a command
// that looks files up (lookup, match), so they mean the same everywhere.
void add_lookup_options(CLI::App& command, index::LookupOptions& options);

// Adds --jobs (default: the machine's cores), --timeout-per-file, --memory-per-file and the
// lookup options to a command that runs batch worker processes (match, queue work).
void add_worker_options(CLI::App& command, BatchOptions& options);

void register_hash_command(CLI::App& app, Action& action);
void register_model_command(CLI::App& app, Action& action);
void register_index_command(CLI::App& app, Action& action);
void register_lookup_command(CLI::App& app, Action& action);
void register_match_command(CLI::App& app, Action& action);
void register_queue_command(CLI::App& app, Action& action);
void register_bench_command(CLI::App& app, Action& action);

}  // namespace celtrace::tools
