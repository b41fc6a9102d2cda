#include "engine/model.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <Eigen/Dense>

#include "engine/binary_io.h"
#include "engine/errors.h"

namespace celtrace::engine {

// Generated at build time from models/<CELTRACE_DEFAULT_MODEL_ID>.ctm.
extern const unsigned char kDefaultModelBytes[];
extern const std::size_t kDefaultModelSize;

namespace {

constexpr char kMagic[8] = {'C', 'T', 'M', 'O', 'D', 'E', 'L', '1'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr int kMaxSize = 4096;

}  // namespace

std::vector<float> ProjectionModel::project(const std::vector<float>& raw) const {
  if (static_cast<int>(raw.size()) != input_size) {
    throw UsageError("model " + id + " expects raw descriptors of " + std::to_string(input_size) +
                     " values, got " + std::to_string(raw.size()));
  }
  std::vector<float> centred(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) centred[i] = raw[i] - mean[i];
  std::vector<float> out(output_size, 0.f);
  double norm = 0;
  for (int r = 0; r < output_size; ++r) {
    const float* row = matrix.data() + static_cast<std::size_t>(r) * input_size;
    float sum = 0.f;
    for (int c = 0; c < input_size; ++c) sum += row[c] * centred[c];
    out[r] = sum;
    norm += double(sum) * sum;
  }
  const float scale = norm > 1e-20 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.f;
  for (float& value : out) value *= scale;
  return out;
}

std::vector<std::uint8_t> ProjectionModel::serialise() const {
  BinaryWriter writer;
  writer.put_raw(reinterpret_cast<const std::uint8_t*>(kMagic), sizeof kMagic);
  writer.put<std::uint32_t>(kFormatVersion);
  writer.put_string(id);
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(input_size));
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(output_size));
  writer.put_floats(mean);
  writer.put_floats(matrix);
  return writer.finish();
}

ProjectionModel ProjectionModel::parse(const std::vector<std::uint8_t>& bytes,
                                       const std::string& what) {
  BinaryReader reader(bytes, what);
  if (std::memcmp(reader.take(sizeof kMagic), kMagic, sizeof kMagic) != 0)
    reader.fail("not a celtrace model");
  if (const auto version = reader.get<std::uint32_t>(); version != kFormatVersion) {
    reader.fail("model format version " + std::to_string(version) + " is not supported");
  }
  ProjectionModel model;
  model.id = reader.get_string(256);
  model.input_size = static_cast<int>(reader.get<std::uint32_t>());
  model.output_size = static_cast<int>(reader.get<std::uint32_t>());
  if (model.input_size <= 0 || model.input_size > kMaxSize || model.output_size <= 0 ||
      model.output_size > model.input_size) {
    reader.fail("implausible model sizes");
  }
  model.mean = reader.get_floats(model.input_size);
  model.matrix = reader.get_floats(static_cast<std::size_t>(model.input_size) * model.output_size);
  if (!reader.at_end()) reader.fail("trailing data");
  return model;
}

ProjectionModel ProjectionModel::load(const std::string& path) {
  return parse(read_file_bytes(path, 64u << 20), path);
}

void ProjectionModel::save(const std::string& path) const {
  write_file_atomically(path, serialise());
}

const ProjectionModel& default_model() {
  static const ProjectionModel model = ProjectionModel::parse(
      std::vector<std::uint8_t>(kDefaultModelBytes, kDefaultModelBytes + kDefaultModelSize),
      "embedded default model");
  return model;
}

const std::string& default_model_id() {
  return default_model().id;
}

ProjectionModel resolve_model(const std::string& id_or_path) {
  if (id_or_path.empty() || id_or_path == default_model_id()) return default_model();
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_regular_file(id_or_path, error)) return ProjectionModel::load(id_or_path);
  std::vector<fs::path> directories;
  if (const char* env = std::getenv("CELTRACE_MODELS")) directories.emplace_back(env);
  directories.emplace_back(CELTRACE_SOURCE_MODELS_DIR);
  for (const auto& directory : directories) {
    const fs::path candidate = directory / (id_or_path + ".ctm");
    if (fs::is_regular_file(candidate, error)) {
      ProjectionModel model = ProjectionModel::load(candidate.string());
      if (model.id != id_or_path) {
        throw FormatError(candidate.string() + ": holds model " + model.id + ", not " + id_or_path);
      }
      return model;
    }
  }
  throw UsageError("unknown model '" + id_or_path + "' (not the default " + default_model_id() +
                   ", not a file, not in $CELTRACE_MODELS or " CELTRACE_SOURCE_MODELS_DIR ")");
}

ProjectionModel train_model(const std::string& id, const TrainingSet& data, int output_size) {
  if (data.samples.empty() || data.pair_differences.empty()) {
    throw UsageError("training needs frames and transformed pairs");
  }
  const int dim = static_cast<int>(data.samples.front().size());
  if (output_size <= 0 || output_size > dim) {
    throw UsageError("output size must be in 1.." + std::to_string(dim));
  }
  if (static_cast<int>(data.samples.size()) < 2 * dim ||
      static_cast<int>(data.pair_differences.size()) < dim) {
    throw UsageError("too little training data: " + std::to_string(data.samples.size()) +
                     " frames and " + std::to_string(data.pair_differences.size()) + " pairs for " +
                     std::to_string(dim) + " dimensions (need at least " + std::to_string(2 * dim) +
                     " and " + std::to_string(dim) + ")");
  }
  using Matrix = Eigen::MatrixXd;
  using Vector = Eigen::VectorXd;
  auto as_matrix = [dim](const std::vector<std::vector<float>>& rows) {
    Matrix m(rows.size(), dim);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (static_cast<int>(rows[r].size()) != dim)
        throw UsageError("training vectors differ in size");
      for (int c = 0; c < dim; ++c) m(static_cast<Eigen::Index>(r), c) = rows[r][c];
    }
    return m;
  };
  Matrix samples = as_matrix(data.samples);
  const Vector mean = samples.colwise().mean();
  samples.rowwise() -= mean.transpose();
  const Matrix differences = as_matrix(data.pair_differences);

  // Covariance of matching-pair differences, regularised so rare directions are not blown up.
  Matrix within = differences.transpose() * differences / static_cast<double>(differences.rows());
  const double ridge = 0.05 * within.trace() / dim;
  within += ridge * Matrix::Identity(dim, dim);
  Eigen::SelfAdjointEigenSolver<Matrix> within_solver(within);
  const Matrix whitening = within_solver.eigenvectors() *
                           within_solver.eigenvalues().cwiseSqrt().cwiseInverse().asDiagonal() *
                           within_solver.eigenvectors().transpose();

  // Principal directions of the whitened data.
  const Matrix whitened = samples * whitening;  // rows are whitened samples
  const Matrix covariance = whitened.transpose() * whitened / static_cast<double>(whitened.rows());
  Eigen::SelfAdjointEigenSolver<Matrix> pca(covariance);
  // Eigen sorts eigenvalues ascending: the last columns are the leading directions.
  const Matrix leading = pca.eigenvectors().rightCols(output_size).rowwise().reverse();
  const Matrix projection = leading.transpose() * whitening;  // output_size x dim

  ProjectionModel model;
  model.id = id;
  model.input_size = dim;
  model.output_size = output_size;
  model.mean.assign(mean.data(), mean.data() + dim);
  model.matrix.resize(static_cast<std::size_t>(output_size) * dim);
  for (int r = 0; r < output_size; ++r) {
    for (int c = 0; c < dim; ++c)
      model.matrix[static_cast<std::size_t>(r) * dim + c] = static_cast<float>(projection(r, c));
  }
  return model;
}

}  // namespace celtrace::engine
