// celtrace model: train and inspect descriptor models.
#include <filesystem>
#include <iostream>

#include "engine/descriptor.h"
#include "engine/training.h"
#include "tools/commands.h"

namespace celtrace::tools {
namespace {

struct TrainSettings {
  std::string id;
  std::string output;
  std::vector<std::string> inputs;
  int dimensions = 64;
  engine::TrainingOptions training;
};

int run_train(const TrainSettings& settings) {
  std::cerr << "celtrace: collecting training frames from " << settings.inputs.size()
            << " inputs\n";
  const engine::TrainingSet data = engine::collect_training_set(
      settings.inputs, settings.training,
      [](const std::string& path) { std::cerr << "  " << path << "\n"; });
  std::cerr << "celtrace: " << data.samples.size() << " frames, " << data.pair_differences.size()
            << " transformed pairs; fitting " << settings.dimensions << " dimensions\n";
  const engine::ProjectionModel model = engine::train_model(settings.id, data, settings.dimensions);
  const std::string output = settings.output.empty() ? settings.id + ".ctm" : settings.output;
  model.save(output);
  std::cout << "model " << model.id << " (" << model.input_size << " -> " << model.output_size
            << ") written to " << output << "\n";
  return 0;
}

int run_info(const std::string& id_or_path) {
  const engine::ProjectionModel model = engine::resolve_model(id_or_path);
  std::cout << "id: " << model.id << "\ninput: " << model.input_size
            << "\noutput: " << model.output_size
            << "\ndefault: " << (model.id == engine::default_model_id() ? "yes" : "no") << "\n";
  return 0;
}

}  // namespace

void register_model_command(CLI::App& app, Action& action) {
  CLI::App* model =
      app.add_subcommand("model", "Train or inspect descriptor models (models/*.ctm)");
  model->require_subcommand(1);

  auto train = std::make_shared<TrainSettings>();
  CLI::App* train_command = model->add_subcommand(
      "train",
      "Learn a descriptor projection from videos, stills or frame sequences.\n"
      "Each sampled frame is paired with random transformed copies (crop, line art, flat\n"
      "recolouring, tone, burned-in text, degradation) and the projection learns to ignore them.\n"
      "  celtrace model train --id ctd1-mine --out models/ctd1-mine.ctm episodes/*.mp4");
  train_command
      ->add_option("--id", train->id, "ID of the new model (recorded in every fingerprint)")
      ->required();
  train_command->add_option("--out", train->output, "Output file (default: <id>.ctm)");
  train_command->add_option("--dims", train->dimensions, "Descriptor size after projection")
      ->capture_default_str()
      ->check(CLI::Range(8, engine::kRawDescriptorSize));
  train_command
      ->add_option("--fps", train->training.frames_per_second,
                   "Frames sampled per second of each input")
      ->capture_default_str()
      ->check(finite_in(0, 1000, true));
  train_command
      ->add_option("--pairs", train->training.pairs_per_frame, "Transformed copies per frame")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  train_command->add_option("--seed", train->training.seed, "Random seed for the transforms")
      ->capture_default_str();
  train_command->add_option("inputs", train->inputs, "Media to learn from")->required();
  train_command->callback([train, &action] { action = [train] { return run_train(*train); }; });

  auto info_target = std::make_shared<std::string>();
  CLI::App* info = model->add_subcommand("info", "Show a model (default: the built-in one)");
  info->add_option("model", *info_target, "Model ID or .ctm file");
  info->callback(
      [info_target, &action] { action = [info_target] { return run_info(*info_target); }; });
}

}  // namespace celtrace::tools
