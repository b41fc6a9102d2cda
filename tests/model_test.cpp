#include "engine/model.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "engine/descriptor.h"
#include "engine/errors.h"
#include "engine/training.h"
#include "tests/test_media.h"

#include <opencv2/imgcodecs.hpp>

namespace celtrace::engine {
namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += double(a[i]) * b[i];
  return sum;
}

// Data in 6 dimensions where transformations move samples only along axis 0 and the content
// varies along all axes: learned whitening must give axis 0 (almost) no weight.
TrainingSet synthetic_training_set() {
  std::mt19937 random(5);
  std::normal_distribution<float> normal;
  TrainingSet set;
  for (int i = 0; i < 400; ++i) {
    std::vector<float> sample(6);
    for (float& v : sample) v = normal(random);
    sample[0] *= 3;  // the largest variance, but it is nuisance
    set.samples.push_back(sample);
    std::vector<float> difference(6, 0.f);
    difference[0] = 3 * normal(random);
    for (int d = 1; d < 6; ++d) difference[d] = 0.01f * normal(random);
    set.pair_differences.push_back(difference);
  }
  return set;
}

TEST(TrainModel, SuppressesDirectionsThatTransformsMove) {
  const ProjectionModel model = train_model("test-model", synthetic_training_set(), 3);
  ASSERT_EQ(model.output_size, 3);
  ASSERT_EQ(model.input_size, 6);
  double nuisance = 0, content = 0;
  for (int r = 0; r < 3; ++r) {
    nuisance += std::abs(model.matrix[r * 6 + 0]);
    for (int c = 1; c < 6; ++c) content += std::abs(model.matrix[r * 6 + c]) / 5;
  }
  EXPECT_LT(nuisance, 0.05 * content);
  // Two samples that differ only along the nuisance axis project to nearly the same vector.
  const std::vector<float> a = {5.f, 1.f, -1.f, 0.5f, 2.f, 0.f};
  std::vector<float> b = a;
  b[0] = -4.f;
  EXPECT_GT(dot(model.project(a), model.project(b)), 0.99);
}

TEST(TrainModel, RefusesTooLittleData) {
  TrainingSet tiny;
  tiny.samples.assign(3, std::vector<float>(6, 1.f));
  tiny.pair_differences.assign(3, std::vector<float>(6, 0.f));
  EXPECT_THROW(train_model("tiny", tiny, 3), UsageError);
}

TEST(TrainingSet, SkipsPicturesTooSmallToTransform) {
  // An icon-sized still once crashed the random crop (a region larger than the picture).
  testing::TempDir dir;
  cv::Mat icon(6, 6, CV_8UC3);
  cv::randu(icon, 0, 255);
  ASSERT_TRUE(cv::imwrite(dir.path("icon.png"), icon));
  cv::Mat picture(120, 160, CV_8UC3);
  cv::randu(picture, 0, 255);
  ASSERT_TRUE(cv::imwrite(dir.path("picture.png"), picture));
  TrainingOptions options;
  options.pairs_per_frame = 3;
  const TrainingSet set =
      collect_training_set({dir.path("icon.png"), dir.path("picture.png")}, options);
  EXPECT_EQ(set.samples.size(), 1u);
  EXPECT_EQ(set.pair_differences.size(), 3u);
}

TEST(ProjectionModel, SerialisesAndRejectsCorruption) {
  const ProjectionModel model = train_model("round-trip", synthetic_training_set(), 4);
  const auto bytes = model.serialise();
  const ProjectionModel copy = ProjectionModel::parse(bytes, "memory");
  EXPECT_EQ(copy.id, "round-trip");
  EXPECT_EQ(copy.matrix, model.matrix);
  EXPECT_EQ(copy.mean, model.mean);
  auto corrupted = bytes;
  corrupted[corrupted.size() / 2] ^= 1;
  EXPECT_THROW(ProjectionModel::parse(corrupted, "corrupt"), FormatError);
}

TEST(DefaultModel, IsEmbeddedAndFitsTheRawDescriptor) {
  const ProjectionModel& model = default_model();
  EXPECT_EQ(model.id, default_model_id());
  EXPECT_EQ(model.input_size, kRawDescriptorSize);
  const std::vector<float> projected = model.project(std::vector<float>(kRawDescriptorSize, 0.1f));
  EXPECT_NEAR(dot(projected, projected), 1.0, 1e-4);
  EXPECT_EQ(resolve_model("").id, model.id);
  EXPECT_THROW(resolve_model("no-such-model-id"), UsageError);
}

}  // namespace
}  // namespace celtrace::engine
