#include "engine/training.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "engine/descriptor.h"
#include "engine/media.h"
#include "engine/opencv_image.h"
#include "engine/preprocess.h"

namespace celtrace::engine {
namespace {

double uniform(std::mt19937& random, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(random);
}

cv::Mat line_art(const cv::Mat& luma, std::mt19937& random) {
  cv::Mat smooth, gx, gy, magnitude;
  cv::GaussianBlur(luma, smooth, cv::Size(0, 0), 1.0);
  cv::Sobel(smooth, gx, CV_32F, 1, 0);
  cv::Sobel(smooth, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, magnitude);
  // Keep the strongest ~12% of gradients as ink (contours between flat regions).
  cv::Mat sorted = magnitude.reshape(1, 1).clone();
  cv::sort(sorted, sorted, cv::SORT_EVERY_ROW | cv::SORT_ASCENDING);
  const float threshold = std::max(
      8.f, sorted.at<float>(0, static_cast<int>(sorted.cols * uniform(random, 0.84, 0.92))));
  cv::Mat ink = magnitude > threshold;
  const int thickness = static_cast<int>(uniform(random, 0, 2.99));
  if (thickness > 0) cv::dilate(ink, ink, cv::Mat(), cv::Point(-1, -1), thickness - 1 + 1);
  cv::Mat out(luma.size(), CV_8UC1, cv::Scalar(static_cast<int>(uniform(random, 225, 255))));
  out.setTo(cv::Scalar(static_cast<int>(uniform(random, 0, 60))), ink);
  return out;
}

cv::Mat flat_recolour(const cv::Mat& luma, std::mt19937& random) {
  cv::Mat flat;
  cv::medianBlur(luma, flat, 5);
  const int levels = static_cast<int>(uniform(random, 3, 8));
  cv::Mat lut(1, 256, CV_8UC1);
  std::vector<int> palette(levels);
  for (int& tone : palette) tone = static_cast<int>(uniform(random, 0, 255));
  for (int v = 0; v < 256; ++v)
    lut.at<std::uint8_t>(v) = static_cast<std::uint8_t>(palette[v * levels / 256]);
  cv::Mat out;
  cv::LUT(flat, lut, out);
  return out;
}

cv::Mat tone(const cv::Mat& luma, std::mt19937& random) {
  const double gamma = std::exp(uniform(random, -0.7, 0.7));
  const double contrast = uniform(random, 0.5, 1.4), brightness = uniform(random, -40, 40);
  cv::Mat lut(1, 256, CV_8UC1);
  for (int v = 0; v < 256; ++v) {
    const double g = 255.0 * std::pow(v / 255.0, gamma);
    lut.at<std::uint8_t>(v) =
        cv::saturate_cast<std::uint8_t>((g - 128) * contrast + 128 + brightness);
  }
  cv::Mat out;
  cv::LUT(luma, lut, out);
  return out;
}

cv::Mat text(const cv::Mat& luma, std::mt19937& random) {
  cv::Mat out = luma.clone();
  const double scale = out.rows / 360.0;
  const int box_height = static_cast<int>(28 * scale);
  cv::rectangle(out, cv::Rect(0, out.rows - box_height, out.cols / 3, box_height), cv::Scalar(0),
                cv::FILLED);
  char timecode[32];
  std::snprintf(timecode, sizeof timecode, "%02d:%02d:%02d:%02d",
                static_cast<int>(uniform(random, 0, 2)), static_cast<int>(uniform(random, 0, 59)),
                static_cast<int>(uniform(random, 0, 59)), static_cast<int>(uniform(random, 0, 23)));
  cv::putText(out, timecode, cv::Point(4, out.rows - box_height / 4), cv::FONT_HERSHEY_SIMPLEX,
              0.7 * scale, cv::Scalar(255), std::max(1, static_cast<int>(2 * scale)));
  static const char* const kWords[] = {"WIP", "REVIEW COPY", "NOT FOR BROADCAST", "SC 012 CUT 4",
                                       "RETAKE"};
  const int count = static_cast<int>(uniform(random, 1, 3));
  for (int i = 0; i < count; ++i) {
    const char* word = kWords[static_cast<int>(uniform(random, 0, 4.99))];
    cv::putText(out, word,
                cv::Point(static_cast<int>(uniform(random, 0, out.cols * 0.6)),
                          static_cast<int>(uniform(random, 0.1, 0.8) * out.rows)),
                cv::FONT_HERSHEY_SIMPLEX, uniform(random, 0.6, 1.4) * scale,
                cv::Scalar(uniform(random, 0, 1) < 0.5 ? 255 : 0),
                std::max(1, static_cast<int>(2 * scale)));
  }
  return out;
}

// JPEG-like loss: 8x8 block DCT with coefficients quantised by a step that grows with frequency.
cv::Mat blocky_compression(const cv::Mat& luma, double base_step) {
  const int width = luma.cols / 8 * 8, height = luma.rows / 8 * 8;
  cv::Mat values;
  luma.convertTo(values, CV_32F);
  for (int y = 0; y < height; y += 8) {
    for (int x = 0; x < width; x += 8) {
      cv::Mat block = values(cv::Rect(x, y, 8, 8)), coefficients;
      cv::dct(block, coefficients);
      for (int v = 0; v < 8; ++v) {
        for (int u = 0; u < 8; ++u) {
          const float step = static_cast<float>(base_step * (1 + u + v) / 4);
          float& c = coefficients.at<float>(v, u);
          c = std::round(c / step) * step;
        }
      }
      cv::idct(coefficients, block);
    }
  }
  cv::Mat out;
  values.convertTo(out, CV_8U);
  return out;
}

cv::Mat degrade(const cv::Mat& luma, std::mt19937& random) {
  cv::Mat small, out;
  const double factor = uniform(random, 0.2, 0.6);
  cv::resize(luma, small, cv::Size(), factor, factor, cv::INTER_AREA);
  cv::resize(small, out, luma.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat noise(out.size(), CV_16SC1);
  cv::randn(noise, 0, uniform(random, 0, 8));
  cv::Mat noisy;
  out.convertTo(noisy, CV_16SC1);
  noisy += noise;
  noisy.convertTo(out, CV_8UC1);
  return blocky_compression(out, uniform(random, 10, 40));
}

cv::Mat crop_random(const cv::Mat& luma, std::mt19937& random) {
  const double keep_x = 1.0 - uniform(random, 0.05, 0.2), keep_y = 1.0 - uniform(random, 0.05, 0.2);
  const int width = std::max(8, static_cast<int>(luma.cols * keep_x));
  const int height = std::max(8, static_cast<int>(luma.rows * keep_y));
  const int x = static_cast<int>(uniform(random, 0, luma.cols - width));
  const int y = static_cast<int>(uniform(random, 0, luma.rows - height));
  return luma(cv::Rect(x, y, width, height)).clone();
}

}  // namespace

const char* to_string(Transform transform) {
  switch (transform) {
    case Transform::kCrop:
      return "crop";
    case Transform::kLineArt:
      return "line-art";
    case Transform::kFlatRecolour:
      return "flat-recolour";
    case Transform::kTone:
      return "tone";
    case Transform::kText:
      return "text";
    case Transform::kDegrade:
      return "degrade";
  }
  return "unknown";
}

GrayImage apply_transform(const GrayImage& image, Transform transform, std::mt19937& random) {
  const cv::Mat luma = view_of(image).clone();
  switch (transform) {
    case Transform::kCrop:
      return image_of(crop_random(luma, random));
    case Transform::kLineArt:
      return image_of(line_art(luma, random));
    case Transform::kFlatRecolour:
      return image_of(flat_recolour(luma, random));
    case Transform::kTone:
      return image_of(tone(luma, random));
    case Transform::kText:
      return image_of(text(luma, random));
    case Transform::kDegrade:
      return image_of(degrade(luma, random));
  }
  return image;
}

constexpr int kMinTrainingSide = 32;  // pixels

TrainingSet collect_training_set(const std::vector<std::string>& paths,
                                 const TrainingOptions& options,
                                 const std::function<void(const std::string&)>& on_file) {
  TrainingSet set;
  std::mt19937 random(options.seed);
  DecodeOptions decode;
  decode.sample_fps = options.frames_per_second;
  decode.analysis_size = 384;
  for (const std::string& path : paths) {
    if (on_file) on_file(path);
    auto source = open_media(path, decode);
    Frame frame;
    while (source->next(frame)) {
      const GrayImage content = remove_bars(frame.luma);
      // Pictures smaller than the transforms' blocks (an icon) teach nothing, nor do flat ones.
      if (content.width < kMinTrainingSide || content.height < kMinTrainingSide) continue;
      const RawDescriptor original = raw_descriptor(content);
      if (original.detail < kFlatDetail) continue;
      set.samples.push_back(original.values);
      for (int p = 0; p < options.pairs_per_frame; ++p) {
        GrayImage changed = content;
        const int steps = 1 + static_cast<int>(uniform(random, 0, 2.99));
        for (int s = 0; s < steps; ++s) {
          const Transform transform =
              kAllTransforms[std::uniform_int_distribution<int>(0, 5)(random)];
          changed = apply_transform(changed, transform, random);
        }
        const RawDescriptor transformed = raw_descriptor(changed);
        std::vector<float> difference(original.values.size());
        for (std::size_t i = 0; i < difference.size(); ++i)
          difference[i] = original.values[i] - transformed.values[i];
        set.pair_differences.push_back(std::move(difference));
      }
    }
  }
  return set;
}

}  // namespace celtrace::engine
