// Learned descriptor projections: versioned, immutable parameter files selected by an ID.
//
// A model maps a raw descriptor (engine/descriptor.h) to the stored descriptor:
//   y = normalise(W (x - mean)),  W: output_size x input_size.
// W is learned whitening (Mikolajczyk & Matas 2007; Radenovic et al. 2018): first whiten the
// covariance of differences between matching pairs (a frame and a transformed version of it),
// which shrinks the directions that transformations move, then keep the leading principal
// directions of the data in that space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace celtrace::engine {

struct ProjectionModel {
  std::string id;  // e.g. "ctd1-gen-a"; recorded in every fingerprint and library
  int input_size = 0;
  int output_size = 0;
  std::vector<float> mean;    // input_size
  std::vector<float> matrix;  // output_size x input_size, row-major

  // Projects and L2-normalises one raw descriptor.
  std::vector<float> project(const std::vector<float>& raw) const;

  std::vector<std::uint8_t> serialise() const;
  static ProjectionModel parse(const std::vector<std::uint8_t>& bytes, const std::string& what);
  static ProjectionModel load(const std::string& path);
  void save(const std::string& path) const;
};

// The ID of the model compiled into the binary (from models/<id>.ctm at build time).
const std::string& default_model_id();
const ProjectionModel& default_model();

// Resolves an ID or a path: the default ID gives the embedded model; a path to a .ctm file loads
// it; another ID is looked for as <id>.ctm in $CELTRACE_MODELS and the source tree's models/.
ProjectionModel resolve_model(const std::string& id_or_path);

struct TrainingSet {
  std::vector<std::vector<float>> samples;           // raw descriptors of frames
  std::vector<std::vector<float>> pair_differences;  // raw(frame) - raw(transformed frame)
};

// Learns a projection; throws UsageError when there is too little data for the sizes asked.
ProjectionModel train_model(const std::string& id, const TrainingSet& data, int output_size);

}  // namespace celtrace::engine
