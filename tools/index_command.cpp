// celtrace index: build and inspect reference libraries.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/errors.h"
#include "engine/fingerprinter.h"
#include "index/library.h"
#include "index/naming.h"
#include "tools/commands.h"
#include "tools/lookup_json.h"
#include "tools/progress.h"

namespace celtrace::tools {
namespace {

namespace fs = std::filesystem;

struct AddSettings {
  std::string library;
  std::vector<std::string> inputs;
  std::string title, name, catalogue, model, index_type;
  std::optional<int> season, episode;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool quiet = false;
  engine::DecodeOptions decode;
};

// Explicit files are taken as they are; directories contribute their video files, recursively.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code error;
    if (fs::is_directory(input, error)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(
               input, fs::directory_options::skip_permission_denied, error);
           it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (error) break;
        // Links are not followed, as `match` does not: a link inside an episode folder may
        // point anywhere (a link to /etc/passwd named .mp4).
        if (!it->is_symlink(error) && it->is_regular_file(error) &&
            engine::has_video_extension(it->path().string()))
          found.push_back(it->path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(input, error)) {
      files.push_back(input);
    } else if (fs::exists(input, error)) {
      // A device (/dev/zero), a FIFO or a socket: reading it for the checksum would never end.
      throw MediaError(input + ": not a regular file");
    } else {
      throw MediaError(input + ": no such file or directory");
    }
  }
  return files;
}

// What a library change did to the indexes, for a person.
std::string describe(const index::IndexChange& change, const std::string& kept) {
  return change.rebuilt ? "indexes built from the catalog (" + change.reason + ")" : kept;
}

int add_to(index::Library& library, const AddSettings& s, const std::vector<std::string>& files,
           const std::map<std::string, index::CatalogueRow>& catalogue,
           const engine::ProjectionModel& model) {
  // Skip what the library (or this batch) already holds, by content.
  struct Job {
    std::string path, checksum;
    index::NewReference reference;
    std::string error;
  };
  std::vector<Job> jobs;
  std::set<std::string> batch_checksums;
  double total_bytes = 0;
  for (const std::string& path : files) {
    const std::string checksum = index::file_checksum(path);
    if (const auto existing = library.reference_by_checksum(checksum)) {
      std::cerr << "celtrace: " << printable(path) << ": already in the library as '"
                << printable(existing->name) << "', skipped\n";
      continue;
    }
    if (!batch_checksums.insert(checksum).second) {
      std::cerr << "celtrace: " << printable(path)
                << ": same content as an earlier input, skipped\n";
      continue;
    }
    Job job;
    job.path = path;
    job.checksum = checksum;
    jobs.push_back(job);
    total_bytes += static_cast<double>(fs::file_size(path));
  }
  if (jobs.empty()) {
    std::cout << "nothing to add: every input is already in " << s.library << "\n";
    return 0;
  }

  Progress progress(total_bytes, "indexing", s.quiet);
  std::atomic<std::size_t> next{0};
  std::atomic<double> done_bytes{0};
  auto worker = [&] {
    const engine::Fingerprinter fingerprinter(model);
    const engine::FingerprintOptions options = index::reference_fingerprint_options(s.decode);
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      Job& job = jobs[i];
      const double bytes = static_cast<double>(fs::file_size(job.path));
      try {
        job.reference.fingerprint =
            fingerprinter.fingerprint(job.path, options, [&](double t, double duration) {
              if (duration > 0)
                progress.advance_to(done_bytes + bytes * std::min(1.0, t / duration),
                                    "file " + std::to_string(i + 1) + " of " +
                                        std::to_string(jobs.size()) + ", " +
                                        printable(fs::path(job.path).filename().string()));
            });
      } catch (const Error& e) {
        job.error = e.what();
      }
      done_bytes = done_bytes + bytes;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int>(s.jobs, static_cast<int>(jobs.size())); ++t)
    threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();
  progress.finish();

  std::vector<index::NewReference> references;
  int failed = 0;
  for (Job& job : jobs) {
    if (!job.error.empty()) {
      std::cerr << "celtrace: " << printable(job.error) << " (not added)\n";
      ++failed;
      continue;
    }
    index::NewReference& r = job.reference;
    const std::string base = fs::path(job.path).filename().string();
    index::EpisodeName parsed = index::parse_episode_name(base);
    r.name = fs::path(job.path).stem().string();
    if (const auto it = catalogue.find(base); it != catalogue.end()) {
      if (!it->second.episode.title.empty()) parsed.title = it->second.episode.title;
      if (it->second.episode.season) parsed.season = it->second.episode.season;
      if (it->second.episode.episode) parsed.episode = it->second.episode.episode;
      if (!it->second.name.empty()) r.name = it->second.name;
    }
    if (!s.title.empty()) parsed.title = s.title;
    if (s.season) parsed.season = s.season;
    if (s.episode) parsed.episode = s.episode;
    if (!s.name.empty()) r.name = s.name;
    r.title = parsed.title;
    r.season = parsed.season;
    r.episode = parsed.episode;
    r.path = fs::absolute(job.path).string();
    r.size_bytes = static_cast<std::int64_t>(fs::file_size(job.path));
    r.checksum = job.checksum;
    references.push_back(std::move(r));
  }
  const index::IndexChange change = library.add(references, s.index_type);
  for (const auto& r : references) {
    std::cout << "added " << printable(r.name) << " (" << printable(r.title);
    if (r.season) std::cout << " S" << *r.season;
    if (r.episode) std::cout << " E" << *r.episode;
    std::printf(", %.1f s)\n", r.fingerprint.media.duration_seconds);
  }
  std::cout << library.references().size() << " references, " << library.frames().size()
            << " indexed frames in " << s.library << "\n";
  if (!references.empty()) {
    std::cout << describe(change, "indexes extended, nothing trained again") << "\n";
  }
  return failed > 0 ? 1 : 0;
}

int run_add(const AddSettings& s) {
  // Everything that can be refused is checked before the library directory is made.
  const engine::ProjectionModel model = engine::resolve_model(s.model);
  const std::vector<std::string> files = expand_inputs(s.inputs);
  if (files.empty()) throw UsageError("no video files in the inputs");
  if (!s.name.empty() && files.size() > 1) throw UsageError("--name needs exactly one input file");
  const auto catalogue = s.catalogue.empty() ? std::map<std::string, index::CatalogueRow>{}
                                             : index::read_catalogue_csv(s.catalogue);
  std::error_code error;
  const bool existed = fs::exists(s.library, error);
  try {
    index::Library library = index::Library::open_or_create(s.library, model);
    return add_to(library, s, files, catalogue, model);
  } catch (...) {
    // A library this run created and could not fill is not left behind, empty.
    if (!existed) fs::remove_all(s.library, error);
    throw;
  }
}

int run_list(const std::string& directory, bool json) {
  const index::Library library = index::Library::open(directory);
  if (json) {
    nlohmann::json references = nlohmann::json::array();
    for (const auto& r : library.references()) {
      references.push_back({{"name", r.name},
                            {"title", r.title},
                            {"season", optional_number(r.season)},
                            {"episode", optional_number(r.episode)},
                            {"duration", r.duration_seconds},
                            {"indexed_frames", r.frame_count},
                            {"size_bytes", r.size_bytes},
                            {"checksum", r.checksum},
                            {"path", r.path}});
    }
    std::cout << json_line({{"library", directory}, {"references", references}}) << "\n";
    return 0;
  }
  // Columns as wide as their longest entry: names are never cut.
  const auto references = library.references();
  int name_width = 4, title_width = 5;
  for (const auto& r : references) {
    name_width = std::max(name_width, static_cast<int>(printable(r.name).size()));
    title_width = std::max(title_width, static_cast<int>(printable(r.title).size()));
  }
  std::printf("%-*s %-*s %-8s %9s %7s  %s\n", name_width, "NAME", title_width, "TITLE", "S/E",
              "DURATION", "FRAMES", "PATH");
  for (const auto& r : references) {
    std::printf("%-*s %-*s %-8s %8.1fs %7lld  %s\n", name_width, printable(r.name).c_str(),
                title_width, printable(r.title).c_str(),
                season_episode_text(r.season, r.episode).c_str(), r.duration_seconds,
                static_cast<long long>(r.frame_count), printable(r.path).c_str());
  }
  return 0;
}

int run_remove(const std::string& directory, const std::string& name) {
  index::Library library = index::Library::open(directory);
  const index::IndexChange change = library.remove(name);
  std::cout << "removed " << printable(name) << "; " << library.references().size()
            << " references left\n"
            << describe(change, "its frames taken out of the indexes") << "\n";
  return 0;
}

int run_info(const std::string& directory, bool json) {
  const index::Library library = index::Library::open(directory);
  double seconds = 0;
  std::int64_t source_bytes = 0;
  for (const auto& r : library.references()) {
    seconds += r.duration_seconds;
    source_bytes += r.size_bytes;
  }
  const double hours = seconds / 3600;
  const auto frames = static_cast<double>(library.frames().size());
  // In memory: the descriptor index (floats), the hash index (32 bytes) and the frame map; the
  // local features' grid (code and place, 40 bytes, mapped and shared between processes).
  const auto local = static_cast<double>(library.local_features().size());
  const double memory =
      frames * (library.model().output_size * 4.0 + 32 + sizeof(index::IndexedFrame)) + local * 40;
  if (json) {
    std::cout << json_line({{"library", directory},
                            {"references", library.references().size()},
                            {"hours", hours},
                            {"media_bytes", source_bytes},
                            {"indexed_frames", library.frames().size()},
                            {"model", library.model().id},
                            {"descriptor_dimensions", library.model().output_size},
                            {"descriptor_index", library.descriptors().factory()},
                            {"hash_index", library.hashes().factory()},
                            {"local_features", library.local_features().size()},
                            {"local_index", library.local_index_type()},
                            {"disk_bytes", library.disk_bytes()},
                            {"memory_bytes", memory}})
              << "\n";
    return 0;
  }
  std::printf("library:          %s\n", printable(directory).c_str());
  std::printf("references:       %zu (%.2f hours, %.1f MB of media)\n", library.references().size(),
              hours, source_bytes / 1e6);
  std::printf("indexed frames:   %.0f\n", frames);
  std::printf("model:            %s (%d-dimensional descriptors)\n", library.model().id.c_str(),
              library.model().output_size);
  std::printf("descriptor index: %s\nhash index:       %s\n",
              library.descriptors().factory().c_str(), library.hashes().factory().c_str());
  std::printf("local features:   %.0f (partial pictures; %s)\n", local,
              library.local_index_type().c_str());
  std::printf("on disk:          %.2f MB (%.2f MB per reference hour)\n",
              library.disk_bytes() / 1e6, hours > 0 ? library.disk_bytes() / 1e6 / hours : 0.0);
  std::printf("in memory:        %.2f MB (%.2f MB per reference hour)\n", memory / 1e6,
              hours > 0 ? memory / 1e6 / hours : 0.0);
  return 0;
}

}  // namespace

void register_index_command(CLI::App& app, Action& action) {
  CLI::App* index =
      app.add_subcommand("index", "Build and inspect a reference library of published episodes");
  index->require_subcommand(1);

  auto add = std::make_shared<AddSettings>();
  add->decode.sample_fps = engine::kReferenceSampleFps;
  CLI::App* add_command = index->add_subcommand(
      "add",
      "Fingerprint episodes into a library (created if missing). Title, season and episode come\n"
      "from names like Show.Name.S02E03.mkv, 'Show Name - 2x03.mp4' or 'Show Name - 03.avi',\n"
      "from --catalog FILE.csv (columns path,title,season,episode,name), or from the flags.\n"
      "Files already in the library (same content) are skipped. The change is atomic. New\n"
      "frames are appended to the library's indexes; they are built again from the catalog,\n"
      "and the output says why, when their type changes with the library's size.\n"
      "  celtrace index add lib/ episodes/ --jobs 2\n"
      "  celtrace index add lib/ pilot.mkv --title 'Sky Ships' --season 1 --episode 0");
  add_command->add_option("library", add->library, "Library directory")->required();
  add_command
      ->add_option("inputs", add->inputs, "Episode files, or directories searched for videos")
      ->required();
  add_command->add_option("--title", add->title, "Production title for all inputs");
  add_command->add_option("--season", add->season, "Season number for all inputs")
      ->check(finite_in(0, 1e6));
  add_command->add_option("--episode", add->episode, "Episode number (one input)")
      ->check(finite_in(0, 1e6));
  add_command->add_option("--name", add->name,
                          "Reference name (one input; default: file name without extension)");
  add_command
      ->add_option("--catalog", add->catalogue, "CSV with path,title,season,episode,name per file")
      ->check(CLI::ExistingFile);
  add_command->add_option("--jobs", add->jobs, "Files fingerprinted in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  add_command->add_option("--fps", add->decode.sample_fps, "Frames sampled per second")
      ->capture_default_str()
      ->check(finite_in(0, 1000, true));
  add_command->add_option("--model", add->model,
                          "Descriptor model for a new library (ID or .ctm file)");
  add_command->add_option(
      "--index-type", add->index_type,
      "FAISS factory string for the descriptor index (default: Flat, IVF..,SQ8 when large; "
      "another type than the library's builds its indexes again)");
  add_command->add_flag("-q,--quiet", add->quiet, "No progress on stderr");
  add_limit_options(*add_command, add->decode.limits);
  add_command->callback([add, &action] { action = [add] { return run_add(*add); }; });

  auto directory = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* list = index->add_subcommand("list", "List the references of a library");
  list->add_option("library", *directory, "Library directory")->required();
  list->add_flag("--json", *json, "One JSON object: the library and its references");
  list->callback([directory, json, &action] {
    action = [directory, json] { return run_list(*directory, *json); };
  });
  CLI::App* remove = index->add_subcommand(
      "remove", "Remove a reference by name (atomic; its frames are taken out of the indexes)");
  remove->add_option("library", *directory, "Library directory")->required();
  remove->add_option("name", *name, "Reference name (see index list)")->required();
  remove->callback([directory, name, &action] {
    action = [directory, name] { return run_remove(*directory, *name); };
  });
  CLI::App* info = index->add_subcommand(
      "info", "Counts, hours, size on disk and in memory, index types, model");
  info->add_option("library", *directory, "Library directory")->required();
  info->add_flag("--json", *json, "One JSON object (sizes in bytes)");
  info->callback([directory, json, &action] {
    action = [directory, json] { return run_info(*directory, *json); };
  });
}

}  // namespace celtrace::tools
