#include "engine/decode/still_decoder.h"

#include <cmath>
#include <memory>

#include "engine/errors.h"

#include "engine/decode/av_common.h"

namespace celtrace::engine {
StillPicture decode_still(const std::string& path, std::int64_t max_pixels) {
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
  status = avcodec_open2(decoder.get(), codec, nullptr);
  if (status < 0) throw fail("cannot open the image decoder", status);

  av::PacketPtr packet(av_packet_alloc());
  av::FramePtr frame(av_frame_alloc());
  bool decoded = false;
  while (!decoded) {
    status = av_read_frame(format.get(), packet.get());
    if (status < 0) {
      avcodec_send_packet(decoder.get(), nullptr);  // flush: some decoders hold the picture
      decoded = avcodec_receive_frame(decoder.get(), frame.get()) == 0;
      break;
    }
    if (packet->stream_index == stream_index) {
      const int sent = avcodec_send_packet(decoder.get(), packet.get());
      if (sent >= 0) decoded = avcodec_receive_frame(decoder.get(), frame.get()) == 0;
    }
    av_packet_unref(packet.get());
  }
  if (!decoded) throw fail("image data cannot be decoded", status);
  if (static_cast<std::int64_t>(frame->width) * frame->height > max_pixels) {
    throw LimitError(path + ": decoded image exceeds the pixel limit");
  }

  const int width = frame->width, height = frame->height;
  av::ScalerPtr scaler(sws_getContext(width, height, static_cast<AVPixelFormat>(frame->format),
                                      width, height, AV_PIX_FMT_RGBA, SWS_POINT, nullptr, nullptr,
                                      nullptr));
  if (!scaler) throw fail("unsupported pixel format", -1);
  std::vector<std::uint8_t> rgba(static_cast<std::size_t>(width) * height * 4);
  std::uint8_t* planes[4] = {rgba.data(), nullptr, nullptr, nullptr};
  int strides[4] = {width * 4, 0, 0, 0};
  sws_scale(scaler.get(), frame->data, frame->linesize, 0, height, planes, strides);

  StillPicture picture;
  picture.luma = GrayImage(width, height);
  picture.alpha = GrayImage(width, height);
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
