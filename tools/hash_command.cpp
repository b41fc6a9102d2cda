// celtrace hash: fingerprint one file and print it.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/fingerprinter.h"
#include "engine/vpdq.h"
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

void print_warnings(const HashSettings& settings, const engine::MediaInfo& media) {
  for (const auto& warning : media.warnings) {
    std::cerr << "celtrace: warning: " << settings.path << ": " << warning << "\n";
  }
}

// A video's vPDQ lines are hashed as Meta's vpdq-hash-video hashes them (engine/vpdq.h), so that
// partners' tools match them; the fingerprint is made only when it is to be saved.
int run_video_vpdq(const HashSettings& settings, const engine::Fingerprinter& fingerprinter) {
  const double seconds_per_hash =
      settings.decode.sample_fps > 0 ? 1.0 / settings.decode.sample_fps : 0.0;
  const engine::VpdqHashes hashes =
      engine::vpdq_hash_video(settings.path, seconds_per_hash, settings.decode.limits);
  for (const auto& feature : hashes.features) std::printf("%s\n", to_vpdq_line(feature).c_str());
  if (!settings.save.empty()) {
    engine::save_fingerprint(fingerprinter.fingerprint(settings.path, {settings.decode}),
                             settings.save);
  }
  print_warnings(settings, hashes.media);
  return 0;
}

int run_hash(const HashSettings& settings) {
  const engine::Fingerprinter fingerprinter(engine::resolve_model(settings.model));
  if (settings.format == "vpdq" && engine::media_kind(settings.path) == engine::MediaKind::kVideo) {
    return run_video_vpdq(settings, fingerprinter);
  }
  engine::FingerprintOptions options{settings.decode, settings.mirrored};
  const engine::Fingerprint fingerprint = fingerprinter.fingerprint(settings.path, options);
  if (!settings.save.empty()) engine::save_fingerprint(fingerprint, settings.save);
  if (settings.format == "json") {
    std::cout << to_json(fingerprint, settings.mirrored)
                     .dump(1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  // Stills and numbered frames: one line per picture, numbered by its time at the nominal rate.
  const double rate = fingerprint.media.frame_rate;
  for (const auto& sample : fingerprint.samples) {
    engine::VpdqFeature feature;
    feature.frame_number = rate > 0 ? std::lround(sample.pts_seconds * rate) : 0;
    feature.quality = sample.quality;
    feature.hash = sample.pdq;
    feature.timestamp_seconds = sample.pts_seconds;
    std::printf("%s\n", to_vpdq_line(feature).c_str());
  }
  print_warnings(settings, fingerprint.media);
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
      "  celtrace hash episode.mkv --fps 1         # the lines Meta's vpdq-hash-video -r 1 writes\n"
      "  celtrace hash still.png --format json     # everything, descriptors included\n"
      "  celtrace hash 'frames/sc012_%04d.png'     # numbered frames, 24 fps unless "
      "--sequence-fps");
  command
      ->add_option("path", settings->path,
                   "Video file, image file, frame directory or printf pattern")
      ->required();
  command
      ->add_option("--format", settings->format,
                   "Output: vpdq (one line per sampled frame; a video's frames are chosen, "
                   "numbered and hashed whole as Meta's vpdq-hash-video does) or json")
      ->check(CLI::IsMember({"vpdq", "json"}))
      ->capture_default_str();
  command
      ->add_option("--fps", settings->decode.sample_fps,
                   "Frames sampled per second of media time (0 = every frame); vPDQ lines of a "
                   "video take every floor(frame rate / fps)-th frame, as Meta's -r 1/fps")
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
