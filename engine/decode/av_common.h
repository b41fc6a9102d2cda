// Internal to the libav seam: RAII owners for libav objects, error text, logging policy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include "engine/errors.h"
#include "engine/image.h"

namespace celtrace::engine::av {

std::string error_text(int code);

// libav reports a failed allocation as AVERROR(ENOMEM), often followed by a misleading "End of
// file": it becomes OutOfMemoryError, which a batch worker reports with its memory limit.
inline void throw_if_out_of_memory(int status, const std::string& path) {
  if (status == AVERROR(ENOMEM)) {
    throw OutOfMemoryError(path + ": out of memory while decoding (" + error_text(status) + ")");
  }
}

// Runs `scaler` (set up for `frame`'s size and format, producing width x height pixels of
// `bytes_per_pixel` bytes) and returns the picture packed row after row. sws_scale's vector stores
// run past the end of a row (found by fuzzing: 2 bytes past a 16x16 picture), so it writes into
// rows padded to 64 bytes with a spare row, and the picture is copied out (unless its rows were
// already 64-byte multiples).
std::vector<std::uint8_t> scale_packed(SwsContext* scaler, const AVFrame& frame, int width,
                                       int height, int bytes_per_pixel);

// A packed RGBA picture (width * height * 4 bytes) composited over white, as every picture with
// an alpha channel is shown (cels are drawn on transparent layers).
ColourImage rgba_over_white(const std::vector<std::uint8_t>& rgba, int width, int height);

// libav logs to stderr by default; the library keeps it quiet unless set_decoder_log_verbose.
void apply_log_level();

struct InputCloser {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct CodecContextFreer {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FrameFreer {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketFreer {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct ScalerFreer {
  void operator()(SwsContext* scaler) const { sws_freeContext(scaler); }
};

using InputPtr = std::unique_ptr<AVFormatContext, InputCloser>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextFreer>;
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;
using ScalerPtr = std::unique_ptr<SwsContext, ScalerFreer>;

}  // namespace celtrace::engine::av
