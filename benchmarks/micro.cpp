// Micro-benchmarks of the hot kernels (Google Benchmark), outside the default build:
//   cmake -S . -B build -DCELTRACE_BUILD_MICROBENCHMARKS=ON && cmake --build build
//   OMP_NUM_THREADS=1 build/benchmarks/celtrace-micro
// Frames are generated cartoon frames at the sizes the fingerprinter uses (128 px analysis
// width for video samples); the search runs on random unit vectors, which FAISS's flat index
// costs the same as real descriptors.
#include <random>

#include <benchmark/benchmark.h>
#include <opencv2/imgproc.hpp>

#include "benchmarks/generator/cartoon.h"
#include "engine/descriptor.h"
#include "engine/model.h"
#include "engine/pdq.h"
#include "index/alignment.h"
#include "index/vector_index.h"

namespace {

using namespace celtrace;

engine::GrayImage cartoon_luma(int width) {
  const bench::Series series = bench::make_series(3, "Micro");
  const bench::Episode episode = bench::make_episode(series, 1, 30);
  const cv::Mat frame = bench::render_frame(episode, static_cast<int>(20 * bench::kFps),
                                            bench::Render::kFinal, width, width * 9 / 16);
  cv::Mat gray;
  cv::cvtColor(frame, gray, cv::COLOR_BGR2GRAY);
  engine::GrayImage image(gray.cols, gray.rows);
  for (int y = 0; y < gray.rows; ++y)
    std::copy_n(gray.ptr<std::uint8_t>(y), gray.cols, image.pixels.data() + y * gray.cols);
  return image;
}

void BM_PdqHash(benchmark::State& state) {
  const engine::GrayImage image = cartoon_luma(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(engine::pdq_from_image(image));
}
BENCHMARK(BM_PdqHash)->Arg(128)->Arg(512);

void BM_RawDescriptor(benchmark::State& state) {
  const engine::GrayImage image = cartoon_luma(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(engine::raw_descriptor(image));
}
BENCHMARK(BM_RawDescriptor)->Arg(128)->Arg(256);

void BM_ModelProjection(benchmark::State& state) {
  const engine::GrayImage image = cartoon_luma(128);
  const std::vector<float> raw = engine::raw_descriptor(image).values;
  const engine::ProjectionModel& model = engine::default_model();
  for (auto _ : state) benchmark::DoNotOptimize(model.project(raw));
}
BENCHMARK(BM_ModelProjection);

std::vector<float> unit_vectors(std::int64_t count, int dimension, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<std::size_t>(count) * dimension);
  for (std::int64_t i = 0; i < count; ++i) {
    float norm = 0;
    for (int d = 0; d < dimension; ++d) {
      float& x = v[static_cast<std::size_t>(i * dimension + d)];
      x = normal(random);
      norm += x * x;
    }
    for (int d = 0; d < dimension; ++d)
      v[static_cast<std::size_t>(i * dimension + d)] /= std::sqrt(norm);
  }
  return v;
}

// One query's search: 40 samples, 24 neighbours each, in a library of range(0) frames (about
// 7,200 per reference hour).
void BM_DescriptorSearch(benchmark::State& state) {
  constexpr int kDimension = 64;
  const std::int64_t frames = state.range(0);
  const auto library = unit_vectors(frames, kDimension, 1);
  const auto index = index::DescriptorIndex::build(index::auto_descriptor_factory(frames),
                                                   kDimension, library.data(), frames);
  const auto queries = unit_vectors(40, kDimension, 2);
  for (auto _ : state) benchmark::DoNotOptimize(index->search(queries.data(), 40, 24));
  state.SetLabel(index->factory());
}
BENCHMARK(BM_DescriptorSearch)->Arg(7200)->Arg(72000)->Unit(benchmark::kMillisecond);

// Temporal alignment of one query: 40 samples x 48 matches (both orientations), one true
// mapping among matches spread over 20 references.
void BM_Alignment(benchmark::State& state) {
  std::mt19937 random(3);
  std::uniform_real_distribution<double> time(0, 1200);
  std::uniform_int_distribution<int> reference(0, 19);
  std::vector<index::FrameMatch> matches;
  std::vector<double> sample_times;
  for (int q = 0; q < 40; ++q) {
    const double t = q * 0.25;
    sample_times.push_back(t);
    matches.push_back({q, t, 7, 300 + t, 0.9f, false, false});
    for (int j = 1; j < 48; ++j)
      matches.push_back({q, t, reference(random), time(random), 0.6f, j % 2 == 0, false});
  }
  for (auto _ : state) benchmark::DoNotOptimize(index::align(matches, sample_times));
}
BENCHMARK(BM_Alignment);

}  // namespace

BENCHMARK_MAIN();
