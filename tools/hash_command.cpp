// celtrace hash: fingerprint one file and print it.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/fingerprinter.h"
#include "tools/commands.h"

namespace celtrace::tools {
namespace {

struct HashSettings {
  std::string path;
  std::string format = "vpdq";
  std::string model;
  std::string save;
  bool mirrored = false;
  engine::DecodeOptions decode;
};

nlohmann::json to_json(const engine::Fingerprint& fingerprint, bool mirrored) {
  const auto& media = fingerprint.media;
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& sample : fingerprint.samples) {
    nlohmann::json entry = {{"pts", sample.pts_seconds},
                            {"pdq", sample.pdq.hex()},
                            {"quality", sample.quality},
                            {"detail", sample.detail},
                            {"descriptor", sample.descriptor}};
    if (mirrored) {
      entry["mirrored_pdq"] = sample.mirrored_pdq.hex();
      entry["mirrored_descriptor"] = sample.mirrored_descriptor;
    }
    samples.push_back(std::move(entry));
  }
  return {{"path", media.path},
          {"kind", engine::to_string(media.kind)},
          {"format", media.format},
          {"codec", media.codec},
          {"width", media.width},
          {"height", media.height},
          {"frame_rate", media.frame_rate},
          {"duration", media.duration_seconds},
          {"warnings", media.warnings},
          {"model", fingerprint.model_id},
          {"sample_fps", fingerprint.sample_fps},
          {"samples", std::move(samples)}};
}

int run_hash(const HashSettings& settings) {
  engine::Fingerprinter fingerprinter(engine::resolve_model(settings.model));
  engine::FingerprintOptions options{settings.decode, settings.mirrored};
  const engine::Fingerprint fingerprint = fingerprinter.fingerprint(settings.path, options);
  if (!settings.save.empty()) engine::save_fingerprint(fingerprint, settings.save);
  if (settings.format == "json") {
    std::cout << to_json(fingerprint, settings.mirrored)
                     .dump(1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  // vPDQ's line format: frame_number,quality,pdq_hex,timestamp_seconds
  const double rate = fingerprint.media.frame_rate;
  for (const auto& sample : fingerprint.samples) {
    const long frame_number = rate > 0 ? std::lround(sample.pts_seconds * rate) : 0;
    std::printf("%ld,%d,%s,%.3f\n", frame_number, sample.quality, sample.pdq.hex().c_str(),
                sample.pts_seconds);
  }
  for (const auto& warning : fingerprint.media.warnings) {
    std::cerr << "celtrace: warning: " << settings.path << ": " << warning << "\n";
  }
  return 0;
}

}  // namespace

void register_hash_command(CLI::App& app, Action& action) {
  auto settings = std::make_shared<HashSettings>();
  settings->decode.sample_fps = engine::kReferenceSampleFps;
  CLI::App* command = app.add_subcommand(
      "hash",
      "Fingerprint a video, a still image or an image sequence and print it.\n"
      "  celtrace hash episode.mkv                 # vPDQ lines: frame,quality,pdq_hex,seconds\n"
      "  celtrace hash still.png --format json     # everything, descriptors included\n"
      "  celtrace hash 'frames/sc012_%04d.png'     # numbered frames, 24 fps unless "
      "--sequence-fps");
  command
      ->add_option("path", settings->path,
                   "Video file, image file, frame directory or printf pattern")
      ->required();
  command
      ->add_option("--format", settings->format,
                   "Output: vpdq (one line per sampled frame) or json")
      ->check(CLI::IsMember({"vpdq", "json"}))
      ->capture_default_str();
  command
      ->add_option("--fps", settings->decode.sample_fps,
                   "Frames sampled per second of media time (0 = every frame)")
      ->capture_default_str()
      ->check(finite_in(0, 1000));
  command
      ->add_option("--sequence-fps", settings->decode.sequence_fps, "Frame rate of image sequences")
      ->capture_default_str()
      ->check(finite_in(0, 1000, true));
  command->add_option("--model", settings->model,
                      "Descriptor model ID or .ctm file (default: built-in)");
  command->add_flag("--mirrored", settings->mirrored,
                    "Also output mirrored PDQ hashes and descriptors (json)");
  command->add_option("--save", settings->save,
                      "Also write the binary fingerprint (.ctfp) to this file: 'celtrace lookup "
                      "LIB FILE.ctfp' matches it without the media");
  add_limit_options(*command, settings->decode.limits);
  command->callback([settings, &action] { action = [settings] { return run_hash(*settings); }; });
}

}  // namespace celtrace::tools
