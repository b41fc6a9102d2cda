#include "engine/foreground.h"

#include <algorithm>
#include <array>

#include <opencv2/imgproc.hpp>

#include "engine/local_features.h"
#include "engine/media.h"
#include "engine/opencv_image.h"

namespace celtrace::engine {
namespace {

// A picture is a layer when at least this share of it is background: a character layer leaves
// most of the canvas blank.
constexpr double kMinBackgroundShare = 0.3;
// ... and when this share of its border pixels is background: a drawing may touch the border, but
// a finished frame's pale sky, however large, leaves the ground's edge (at 0.6, the end-to-end
// tests' finished clips with a light sky counted as layers).
constexpr double kMinBorderShare = 0.85;
// Background pixels are within this many luma levels of the border's median brightness (paper
// grain, JPEG ringing and soft vignetting stay inside) ...
constexpr int kLevelTolerance = 22;
// ... and flat: the luma range over their 3x3 neighbourhood (blurred picture) at most this.
constexpr int kFlatRange = 10;
// Backdrops a layer is exported or flattened on: white or paper (from this luma level up; from
// kMinGreyPaperLevel when the picture's colour shows a near-neutral page, within
// kMaxPaperColourSpread of its brightest channel: a dim scan or photograph of a drawing, grey or
// cream paper; a sky is bluer) ...
constexpr int kMinPaperLevel = 200;
constexpr int kMinGreyPaperLevel = 160;
constexpr double kMaxPaperColourSpread = 0.25;
// ... black (up to this level), where a converter dropped the alpha of a layer and kept the
// colour under its transparent pixels (premultiplied exports keep black there) ...
constexpr int kMaxBlackLevel = 24;
// ... and a keying green (chroma key), told by colour: green at least this bright and leading red
// and blue by at least this share of it (0x00b140 leads by 0.64, a saturated grass green by 0.54).
constexpr int kMinKeyGreen = 90;
constexpr double kMinKeyGreenLead = 0.4;
// Other page levels are not taken for a backdrop: night skies, fades and pale skies (generated
// skies sit at 150-190) are finished-frame content, searched as whole pictures; a black frame
// with small content is below kMinLayerContent (engine/fingerprinter.cpp).
// A layer leaves whole regions of its canvas empty: at least this many cells of a 4x4 grid hold
// (almost) no content, and its content does not span the canvas. Line art, a rough or an animatic
// of a whole frame, on white too, has a horizon or a floor from border to border and is searched
// as a whole picture.
constexpr int kMinEmptyCells = 4;
constexpr double kEmptyCellContent = 0.01;  // share of a cell
constexpr double kMaxSpan = 0.9;            // share of the canvas's width or height
// ... nor fill its bounding box: a rectangle on a pale page is a picture in a picture (a review
// copy's inset), searched as a whole picture by its inset.
constexpr double kMaxFill = 0.9;
// Alpha: a pixel is content from half opacity.
constexpr int kOpaque = 128;
// Content is widened by this many pixels (at kLocalFeatureSide) so corners on its outline keep
// their surroundings.
constexpr int kMargin = 3;

bool leaves_canvas_empty(const cv::Mat& content) {
  int empty = 0;
  for (int cy = 0; cy < 4; ++cy) {
    for (int cx = 0; cx < 4; ++cx) {
      const cv::Rect cell(cx * content.cols / 4, cy * content.rows / 4, content.cols / 4,
                          content.rows / 4);
      const double filled = static_cast<double>(cv::countNonZero(content(cell))) /
                            static_cast<double>(std::max(1, cell.area()));
      empty += filled < kEmptyCellContent;
    }
  }
  const cv::Rect box = cv::boundingRect(content);
  const double fill = static_cast<double>(cv::countNonZero(content(box))) /
                      static_cast<double>(std::max(1, box.area()));
  return empty >= kMinEmptyCells && box.width < kMaxSpan * content.cols &&
         box.height < kMaxSpan * content.rows && fill < kMaxFill;
}

// The median of each channel over the picture's border.
std::array<int, 3> border_colour(const ColourImage& colour) {
  std::array<std::vector<std::uint8_t>, 3> channels;
  const auto visit = [&](int x, int y) {
    const std::size_t at = (static_cast<std::size_t>(y) * colour.width + x) * 3;
    for (std::size_t c = 0; c < 3; ++c) channels[c].push_back(colour.rgb[at + c]);
  };
  for (int x = 0; x < colour.width; ++x) visit(x, 0), visit(x, colour.height - 1);
  for (int y = 1; y + 1 < colour.height; ++y) visit(0, y), visit(colour.width - 1, y);
  std::array<int, 3> median{};
  for (std::size_t c = 0; c < 3; ++c) {
    auto& v = channels[c];
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    median[c] = v[v.size() / 2];
  }
  return median;
}

// What a page whose border has median luma `level` is: a backdrop or not, and paper or not. The
// border's colour (`colour` may be empty) is read only for levels that luma alone cannot tell.
struct Page {
  bool backdrop = false;
  bool paper = false;
};

Page page_of(int level, const ColourImage& colour) {
  if (level >= kMinPaperLevel) return {true, true};
  if (level <= kMaxBlackLevel) return {true, false};
  if (colour.width < 2 || colour.height < 2) return {};
  const auto [red, green, blue] = border_colour(colour);
  const int brightest = std::max({red, green, blue});
  if (level >= kMinGreyPaperLevel &&
      brightest - std::min({red, green, blue}) <= kMaxPaperColourSpread * brightest)
    return {true, true};
  return {green >= kMinKeyGreen && green - std::max(red, blue) >= kMinKeyGreenLead * green, false};
}

Foreground from_mask(const cv::Mat& content) {
  Foreground f;
  f.share = static_cast<double>(cv::countNonZero(content)) / static_cast<double>(content.total());
  cv::Mat widened;
  cv::dilate(
      content, widened,
      cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * kMargin + 1, 2 * kMargin + 1)));
  f.mask = image_of(widened);
  return f;
}

}  // namespace

Foreground find_foreground(const GrayImage& luma, const GrayImage& alpha,
                           const ColourImage& colour) {
  if (luma.width < 16 || luma.height < 16) return {};
  if (!alpha.empty()) {
    const GrayImage fitted = fit_within(alpha, kLocalFeatureSide);
    cv::Mat content = view_of(fitted) >= kOpaque;
    const double transparent =
        1.0 - static_cast<double>(cv::countNonZero(content)) / static_cast<double>(content.total());
    if (transparent >= kMinBackgroundShare && leaves_canvas_empty(content)) {
      Foreground f = from_mask(content);
      f.from_alpha = true;
      return f;
    }
  }
  const GrayImage fitted = fit_within(luma, kLocalFeatureSide);
  cv::Mat blurred, high, low, range;
  cv::GaussianBlur(view_of(fitted), blurred, cv::Size(0, 0), 1.2);
  cv::dilate(blurred, high, cv::Mat());
  cv::erode(blurred, low, cv::Mat());
  cv::subtract(high, low, range);

  const int w = blurred.cols, h = blurred.rows;
  std::vector<std::uint8_t> border;
  for (int x = 0; x < w; ++x)
    border.insert(border.end(),
                  {blurred.at<std::uint8_t>(0, x), blurred.at<std::uint8_t>(h - 1, x)});
  for (int y = 1; y + 1 < h; ++y)
    border.insert(border.end(),
                  {blurred.at<std::uint8_t>(y, 0), blurred.at<std::uint8_t>(y, w - 1)});
  std::nth_element(border.begin(), border.begin() + static_cast<std::ptrdiff_t>(border.size() / 2),
                   border.end());
  const int level = border[border.size() / 2];
  const Page page = page_of(level, colour);
  if (!page.backdrop) return {};
  Foreground whole_page;  // no background found on the page
  whole_page.pale_page = page.paper;

  cv::Mat difference;
  cv::absdiff(blurred, cv::Scalar(level), difference);  // 8-bit subtraction would clip at 0
  cv::Mat candidate = (difference <= kLevelTolerance) & (range <= kFlatRange);
  // The background is the candidate region connected to the border.
  cv::Mat labels;
  const int label_count = cv::connectedComponents(candidate, labels, 4, CV_32S);
  std::vector<char> touches(static_cast<std::size_t>(label_count), 0);
  std::size_t border_background = 0, border_total = 0;
  const auto visit_border = [&](int x, int y) {
    ++border_total;
    const int label = labels.at<int>(y, x);
    if (label > 0) {
      touches[static_cast<std::size_t>(label)] = 1;
      ++border_background;
    }
  };
  for (int x = 0; x < w; ++x) visit_border(x, 0), visit_border(x, h - 1);
  for (int y = 1; y + 1 < h; ++y) visit_border(0, y), visit_border(w - 1, y);
  if (static_cast<double>(border_background) < kMinBorderShare * static_cast<double>(border_total))
    return whole_page;
  cv::Mat content(h, w, CV_8UC1);
  std::size_t background = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int label = labels.at<int>(y, x);
      const bool is_background = label > 0 && touches[static_cast<std::size_t>(label)];
      content.at<std::uint8_t>(y, x) = is_background ? 0 : 255;
      background += is_background;
    }
  }
  if (static_cast<double>(background) < kMinBackgroundShare * static_cast<double>(w * h) ||
      !leaves_canvas_empty(content)) {
    return whole_page;
  }
  Foreground layer = from_mask(content);
  layer.pale_page = page.paper;
  return layer;
}

}  // namespace celtrace::engine
