#include "engine/decode/video_encoder.h"

#include <cmath>

#include "engine/binary_io.h"
#include "engine/errors.h"
#include "engine/image.h"

#include "engine/decode/av_common.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace celtrace::engine {
namespace {

struct OutputCloser {
  void operator()(AVFormatContext* context) const {
    if (context->pb && !(context->oformat->flags & AVFMT_NOFILE)) avio_closep(&context->pb);
    avformat_free_context(context);
  }
};

}  // namespace

struct VideoEncoder::State {
  std::string path;
  std::unique_ptr<AVFormatContext, OutputCloser> output;
  av::CodecContextPtr encoder;
  av::FramePtr frame;
  av::PacketPtr packet;
  av::ScalerPtr scaler;
  AVStream* stream = nullptr;  // owned by output
  std::int64_t last_pts = -1;
  bool finished = false;

  [[noreturn]] void fail(const std::string& what, int code) const {
    throw MediaError(path + ": " + what + " (" + av::error_text(code) + ")");
  }

  void write_packets() {
    while (true) {
      int status = avcodec_receive_packet(encoder.get(), packet.get());
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      if (status < 0) fail("encoding failed", status);
      av_packet_rescale_ts(packet.get(), encoder->time_base, stream->time_base);
      packet->stream_index = stream->index;
      status = av_interleaved_write_frame(output.get(), packet.get());
      if (status < 0) fail("writing failed", status);
    }
  }
};

VideoEncoder::VideoEncoder(const std::string& path, int width, int height, double fps,
                           const EncoderOptions& options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path;
  av::apply_log_level();
  AVFormatContext* raw = nullptr;
  int status = avformat_alloc_output_context2(&raw, nullptr, nullptr, path.c_str());
  if (status < 0 || raw == nullptr) s.fail("unknown container for this extension", status);
  s.output.reset(raw);
  const AVCodec* codec = avcodec_find_encoder_by_name(options.codec.c_str());
  if (codec == nullptr) throw UsageError("no libav encoder named " + options.codec);
  s.encoder.reset(avcodec_alloc_context3(codec));
  AVCodecContext& e = *s.encoder;
  e.width = width;
  e.height = height;
  e.time_base = options.variable_frame_rate ? AVRational{1, 1000} : av_d2q(1.0 / fps, 100000);
  e.framerate = av_d2q(fps, 100000);
  e.gop_size = options.keyframe_interval;
  e.thread_count = 1;
  e.pix_fmt = codec->id == AV_CODEC_ID_MJPEG ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P;
  if (codec->pix_fmts != nullptr && codec->id != AV_CODEC_ID_MJPEG) {
    bool has_yuv420 = false;
    for (const AVPixelFormat* f = codec->pix_fmts; *f != AV_PIX_FMT_NONE; ++f)
      has_yuv420 |= *f == AV_PIX_FMT_YUV420P;
    if (!has_yuv420) e.pix_fmt = codec->pix_fmts[0];
  }
  if (options.codec == "libx264") {
    av_opt_set(e.priv_data, "preset", "veryfast", 0);
    av_opt_set(e.priv_data, "crf", std::to_string(options.quality).c_str(), 0);
  } else if (options.codec == "libvpx-vp9") {
    av_opt_set(e.priv_data, "crf", std::to_string(options.quality).c_str(), 0);
    av_opt_set(e.priv_data, "deadline", "realtime", 0);
    av_opt_set(e.priv_data, "cpu-used", "8", 0);
    e.bit_rate = 0;
  } else {
    e.flags |= AV_CODEC_FLAG_QSCALE;
    e.global_quality = FF_QP2LAMBDA * options.quality;
  }
  if (s.output->oformat->flags & AVFMT_GLOBALHEADER) e.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  status = avcodec_open2(&e, codec, nullptr);
  if (status < 0) s.fail("cannot open encoder " + options.codec, status);

  s.stream = avformat_new_stream(s.output.get(), nullptr);
  if (s.stream == nullptr) throw Error("out of memory adding a stream");
  s.stream->time_base = e.time_base;
  s.stream->avg_frame_rate = options.variable_frame_rate ? AVRational{0, 1} : e.framerate;
  status = avcodec_parameters_from_context(s.stream->codecpar, &e);
  if (status < 0) s.fail("cannot set stream parameters", status);
  if (!(s.output->oformat->flags & AVFMT_NOFILE)) {
    status = avio_open(&s.output->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (status < 0) s.fail("cannot open for writing", status);
  }
  status = avformat_write_header(s.output.get(), nullptr);
  if (status < 0) s.fail("cannot write header", status);

  s.frame.reset(av_frame_alloc());
  s.packet.reset(av_packet_alloc());
  s.frame->format = e.pix_fmt;
  s.frame->width = width;
  s.frame->height = height;
  status = av_frame_get_buffer(s.frame.get(), 0);
  if (status < 0) s.fail("cannot allocate a frame", status);
  s.scaler.reset(sws_getContext(width, height, AV_PIX_FMT_BGR24, width, height, e.pix_fmt,
                                SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!s.scaler) throw Error("cannot create a pixel converter");
}

VideoEncoder::~VideoEncoder() {
  try {
    finish();
  } catch (const std::exception&) {
    // A destructor cannot report; callers who care call finish() themselves.
  }
}

void VideoEncoder::write_bgr(const std::uint8_t* bgr, int stride, double pts_seconds) {
  State& s = *state_;
  int status = av_frame_make_writable(s.frame.get());
  if (status < 0) s.fail("frame not writable", status);
  const std::uint8_t* planes[1] = {bgr};
  const int strides[1] = {stride};
  sws_scale(s.scaler.get(), planes, strides, 0, s.encoder->height, s.frame->data,
            s.frame->linesize);
  std::int64_t pts = std::llround(pts_seconds / av_q2d(s.encoder->time_base));
  if (pts <= s.last_pts) pts = s.last_pts + 1;
  s.last_pts = pts;
  s.frame->pts = pts;
  status = avcodec_send_frame(s.encoder.get(), s.frame.get());
  if (status < 0) s.fail("encoding failed", status);
  s.write_packets();
}

void VideoEncoder::finish() {
  State& s = *state_;
  if (s.finished) return;
  s.finished = true;
  avcodec_send_frame(s.encoder.get(), nullptr);
  s.write_packets();
  const int status = av_write_trailer(s.output.get());
  if (status < 0) s.fail("cannot write trailer", status);
}

namespace {

// One picture of `format` (rows of `stride` bytes) encoded as PNG into `path`.
void write_png_pixels(const std::string& path, const std::uint8_t* pixels, int width, int height,
                      int stride, AVPixelFormat format) {
  av::apply_log_level();
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (codec == nullptr) throw MediaError(path + ": no PNG encoder in this libav");
  av::CodecContextPtr encoder(avcodec_alloc_context3(codec));
  av::FramePtr frame(av_frame_alloc());
  av::PacketPtr packet(av_packet_alloc());
  if (!encoder || !frame || !packet) throw Error("out of memory encoding a PNG");
  encoder->width = width;
  encoder->height = height;
  encoder->pix_fmt = format;
  encoder->time_base = {1, 1};
  int status = avcodec_open2(encoder.get(), codec, nullptr);
  if (status < 0)
    throw MediaError(path + ": cannot open PNG encoder (" + av::error_text(status) + ")");
  frame->format = format;
  frame->width = width;
  frame->height = height;
  frame->data[0] = const_cast<std::uint8_t*>(pixels);
  frame->linesize[0] = stride;
  status = avcodec_send_frame(encoder.get(), frame.get());
  if (status >= 0) status = avcodec_receive_packet(encoder.get(), packet.get());
  if (status < 0) throw MediaError(path + ": PNG encoding failed (" + av::error_text(status) + ")");
  write_file_atomically(path, std::vector<std::uint8_t>(packet->data, packet->data + packet->size));
}

}  // namespace

void write_png(const std::string& path, const GrayImage& image) {
  write_png_pixels(path, image.pixels.data(), image.width, image.height, image.width,
                   AV_PIX_FMT_GRAY8);
}

void write_png(const std::string& path, const ColourImage& image) {
  write_png_pixels(path, image.rgb.data(), image.width, image.height, image.width * 3,
                   AV_PIX_FMT_RGB24);
}

}  // namespace celtrace::engine
