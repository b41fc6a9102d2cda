#include "engine/decode/still_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "engine/errors.h"

#include "engine/decode/av_common.h"

extern "C" {
#include <libavutil/imgutils.h>
}

namespace celtrace::engine {
namespace {

// Every consumer fits a still within at most 512 px (analysis, PDQ) or the local features' detail
// size, so a larger picture is brought within this long side as it is converted: an 8192 px page
// then costs a 64 MB conversion buffer instead of 256 MB, and pictures up to this size are
// converted exactly as before.
constexpr int kMaxConvertedSide = 4096;

// The decoded picture may take at most this many bytes per pixel of the pixel limit: an 8-bit
// RGBA picture at the limit fits, a 16-bit RGBA one (8 bytes a pixel) of the same size does not.
constexpr std::int64_t kDecodedBytesPerLimitPixel = 4;

struct DecodeBudget {
  std::int64_t max_bytes = 0;
  std::int64_t refused_bytes = 0;  // > 0 once a picture was refused
};

// Sees each picture's size and pixel format before the decoder allocates it, so an image whose
// header is small but whose pixels are many or deep is refused without being inflated.
int get_budgeted_buffer(AVCodecContext* decoder, AVFrame* frame, int flags) {
  auto* budget = static_cast<DecodeBudget*>(decoder->opaque);
  const int bytes = av_image_get_buffer_size(static_cast<AVPixelFormat>(frame->format),
                                             frame->width, frame->height, 1);
  if (bytes < 0 || bytes > budget->max_bytes) {
    budget->refused_bytes = bytes < 0 ? std::numeric_limits<std::int64_t>::max() : bytes;
    return AVERROR(ENOMEM);
  }
  return avcodec_default_get_buffer2(decoder, frame, flags);
}

}  // namespace

StillPicture decode_still(const std::string& path, std::int64_t max_pixels, bool colour) {
  auto fail = [&](const std::string& what, int code) -> MediaError {
    return MediaError(path + ": " + what + (code < 0 ? " (" + av::error_text(code) + ")" : ""));
  };
  av::apply_log_level();
  AVFormatContext* raw = nullptr;
  int status = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (status < 0) throw fail("not a readable image", status);
  av::InputPtr format(raw);
  const AVCodec* codec = nullptr;
  const int stream_index = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream_index < 0 || codec == nullptr) throw fail("not a readable image", stream_index);
  const AVCodecParameters* params = format->streams[stream_index]->codecpar;
  if (static_cast<std::int64_t>(params->width) * params->height > max_pixels) {
    throw LimitError(path + ": image size " + std::to_string(params->width) + "x" +
                     std::to_string(params->height) + " exceeds the limit of " +
                     std::to_string(max_pixels) + " pixels");
  }
  av::CodecContextPtr decoder(avcodec_alloc_context3(codec));
  if (!decoder) throw Error("out of memory allocating a decoder");
  avcodec_parameters_to_context(decoder.get(), params);
  decoder->thread_count = 1;
  decoder->max_pixels = max_pixels;
  DecodeBudget budget{max_pixels * kDecodedBytesPerLimitPixel};
  decoder->opaque = &budget;
  decoder->get_buffer2 = get_budgeted_buffer;
  status = avcodec_open2(decoder.get(), codec, nullptr);
  if (status < 0) throw fail("cannot open the image decoder", status);

  av::PacketPtr packet(av_packet_alloc());
  av::FramePtr frame(av_frame_alloc());
  bool decoded = false;
  int decode_status = 0;  // the decoder's last failure: more telling than the end of the file
  const auto receive = [&] {
    const int received = avcodec_receive_frame(decoder.get(), frame.get());
    if (received < 0 && received != AVERROR(EAGAIN) && received != AVERROR_EOF)
      decode_status = received;
    return received == 0;
  };
  while (!decoded) {
    status = av_read_frame(format.get(), packet.get());
    if (status < 0) {
      avcodec_send_packet(decoder.get(), nullptr);  // flush: some decoders hold the picture
      decoded = receive();
      break;
    }
    if (packet->stream_index == stream_index) {
      const int sent = avcodec_send_packet(decoder.get(), packet.get());
      if (sent < 0) decode_status = sent;
      decoded = sent >= 0 && receive();
    }
    av_packet_unref(packet.get());
  }
  if (decode_status < 0) status = decode_status;
  if (budget.refused_bytes > 0) {
    const std::string needed = budget.refused_bytes == std::numeric_limits<std::int64_t>::max()
                                   ? "more"
                                   : std::to_string(budget.refused_bytes >> 20) + " MB";
    throw LimitError(path + ": the decoded picture needs " + needed + ", above the " +
                     std::to_string(budget.max_bytes >> 20) + " MB allowed (" +
                     std::to_string(kDecodedBytesPerLimitPixel) +
                     " bytes per pixel of the pixel limit; 16-bit channels count twice)");
  }
  av::throw_if_out_of_memory(status, path);
  if (!decoded) throw fail("image data cannot be decoded", status);
  if (static_cast<std::int64_t>(frame->width) * frame->height > max_pixels) {
    throw LimitError(path + ": decoded image exceeds the pixel limit");
  }

  const double shrink =
      std::min(1.0, static_cast<double>(kMaxConvertedSide) / std::max(frame->width, frame->height));
  const int width = std::max(1, static_cast<int>(std::lround(frame->width * shrink)));
  const int height = std::max(1, static_cast<int>(std::lround(frame->height * shrink)));
  av::ScalerPtr scaler(sws_getContext(
      frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), width, height,
      AV_PIX_FMT_RGBA, shrink < 1.0 ? SWS_AREA : SWS_POINT, nullptr, nullptr, nullptr));
  if (!scaler) throw fail("unsupported pixel format", -1);
  const std::vector<std::uint8_t> rgba = av::scale_packed(scaler.get(), *frame, width, height, 4);
  // The decoded picture (and the decoder's own reference to it) is not needed for the luma.
  frame.reset();
  decoder.reset();

  StillPicture picture;
  picture.luma = GrayImage(width, height);
  picture.alpha = GrayImage(width, height);
  if (colour) picture.colour = av::rgba_over_white(rgba, width, height);
  bool transparent = false;
  for (std::size_t i = 0; i < picture.luma.pixels.size(); ++i) {
    const std::uint8_t* p = rgba.data() + 4 * i;
    const float value = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    const float alpha = p[3] / 255.f;
    picture.luma.pixels[i] =
        static_cast<std::uint8_t>(std::lround(value * alpha + 255.f * (1.f - alpha)));
    picture.alpha.pixels[i] = p[3];
    transparent |= p[3] < 255;
  }
  if (!transparent) picture.alpha = GrayImage();
  return picture;
}

}  // namespace celtrace::engine
