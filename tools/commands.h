// Each subcommand registers its options on the CLI and returns the action to run after parsing.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "engine/media.h"

namespace celtrace::tools {

using Action = std::function<int()>;

// Adds --max-pixels, --max-duration and --max-frames to a command.
void add_limit_options(CLI::App& command, engine::Limits& limits);

void register_hash_command(CLI::App& app, Action& action);
void register_model_command(CLI::App& app, Action& action);
void register_index_command(CLI::App& app, Action& action);
void register_lookup_command(CLI::App& app, Action& action);
void register_match_command(CLI::App& app, Action& action);
void register_bench_command(CLI::App& app, Action& action);

}  // namespace celtrace::tools
