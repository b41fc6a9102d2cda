#include "engine/decode/video_decoder.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "engine/errors.h"
#include "engine/media.h"
#include "engine/sampler.h"

#include "engine/decode/av_common.h"

namespace celtrace::engine {
namespace {

// Reduced-resolution decoding (AVCodecContext::lowres) is used only while the decoded picture
// keeps at least this many pixels on its longer side: plenty for 64x64 PDQ and the descriptor.
constexpr int kMinLowresLongSide = 320;

using av::error_text;

class VideoSource final : public FrameSource {
 public:
  // kSampledLuma: sampled frames as luma (FrameSource). kEveryFrameRgb: read_rgb_frames.
  enum class Output { kSampledLuma, kEveryFrameRgb };

  VideoSource(const std::string& path, const DecodeOptions& options,
              Output output = Output::kSampledLuma)
      : options_(options), sampler_(options.sample_fps), output_(output) {
    av::apply_log_level();
    info_.path = path;
    info_.kind = MediaKind::kVideo;
    open_container(path);
    open_decoder();
    packet_.reset(av_packet_alloc());
    frame_.reset(av_frame_alloc());
    if (!packet_ || !frame_) throw Error("out of memory allocating decoder buffers");
  }

  const MediaInfo& info() const override { return info_; }

  // Positions at a key frame half a second or more before `seconds`; decoding resumes from
  // there. Frames more than a quarter second before `seconds` are only decoded when later frames
  // need them (non-reference frames are skipped) and are not converted, since the caller wants
  // what comes after: visual verification seeks a dozen times a lookup, and converting the
  // frames from each key frame on cost more than decoding them.
  void seek(double seconds) {
    skip_before_ = seconds - 0.25;
    const double start = start_pts_ == AV_NOPTS_VALUE ? 0.0 : start_pts_ * time_base_;
    const auto target = static_cast<std::int64_t>((seconds - 0.5 + start) / time_base_);
    if (av_seek_frame(format_.get(), stream_index_, target, AVSEEK_FLAG_BACKWARD) >= 0) {
      avcodec_flush_buffers(decoder_.get());
      ready_.clear();
    }
  }

  bool next(Frame& frame) override {
    while (ready_.empty() && !finished_) read_and_decode();
    if (ready_.empty()) return false;
    frame = std::move(ready_.front());
    ready_.pop_front();
    return true;
  }

  // Output::kEveryFrameRgb: the frames whose decode-order number is a multiple of `step`.
  void read_rgb(std::int64_t step, const std::function<void(const RgbFrame&)>& consume) {
    rgb_step_ = std::max<std::int64_t>(1, step);
    rgb_consumer_ = &consume;
    while (!finished_) read_and_decode();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw MediaError(info_.path + ": " + what);
  }
  [[noreturn]] void fail_limit(const std::string& what) const {
    throw LimitError(info_.path + ": " + what);
  }

  void open_container(const std::string& path) {
    AVFormatContext* raw = nullptr;
    int status = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
    if (status < 0) fail("not a readable media file (" + error_text(status) + ")");
    format_.reset(raw);
    status = avformat_find_stream_info(format_.get(), nullptr);
    if (status < 0) fail("cannot read stream information (" + error_text(status) + ")");

    const AVCodec* codec = nullptr;
    stream_index_ = av_find_best_stream(format_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream_index_ == AVERROR_STREAM_NOT_FOUND) fail("no video stream");
    if (stream_index_ < 0 || codec == nullptr) fail("no decoder for its video stream");
    codec_ = with_alpha(codec, format_->streams[stream_index_]);
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      if (static_cast<int>(i) != stream_index_) format_->streams[i]->discard = AVDISCARD_ALL;
    }

    stream_ = format_->streams[stream_index_];
    time_base_ = av_q2d(stream_->time_base);
    const AVCodecParameters* params = stream_->codecpar;
    info_.format = format_->iformat->name;
    info_.codec = codec->name;
    info_.width = params->width;
    info_.height = params->height;
    check_pixels(params->width, params->height);
    AVRational rate =
        stream_->avg_frame_rate.num > 0 ? stream_->avg_frame_rate : stream_->r_frame_rate;
    info_.frame_rate = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
    if (stream_->duration > 0 && stream_->duration != AV_NOPTS_VALUE) {
      info_.duration_seconds = stream_->duration * time_base_;
    } else if (format_->duration > 0) {
      info_.duration_seconds = static_cast<double>(format_->duration) / AV_TIME_BASE;
    }
    if (info_.duration_seconds > options_.limits.max_duration_seconds) {
      fail_limit("declared duration " + std::to_string(info_.duration_seconds) +
                 " s exceeds the limit of " + std::to_string(options_.limits.max_duration_seconds) +
                 " s");
    }
    if (stream_->start_time != AV_NOPTS_VALUE) start_pts_ = stream_->start_time;
  }

  // WebM keeps a VP8/VP9 layer's alpha beside the picture (Matroska BlockAdditional, the track
  // tagged alpha_mode=1); FFmpeg's own decoders drop it, libvpx's read it.
  static const AVCodec* with_alpha(const AVCodec* codec, const AVStream* stream) {
    const AVDictionaryEntry* alpha = av_dict_get(stream->metadata, "alpha_mode", nullptr, 0);
    if (alpha == nullptr || std::string(alpha->value) != "1") return codec;
    const char* name = codec->id == AV_CODEC_ID_VP9   ? "libvpx-vp9"
                       : codec->id == AV_CODEC_ID_VP8 ? "libvpx"
                                                      : nullptr;
    const AVCodec* libvpx = name != nullptr ? avcodec_find_decoder_by_name(name) : nullptr;
    return libvpx != nullptr ? libvpx : codec;
  }

  void open_decoder() {
    decoder_.reset(avcodec_alloc_context3(codec_));
    if (!decoder_) throw Error("out of memory allocating a decoder");
    int status = avcodec_parameters_to_context(decoder_.get(), stream_->codecpar);
    if (status < 0) fail("bad codec parameters (" + error_text(status) + ")");
    decoder_->pkt_timebase = stream_->time_base;
    decoder_->thread_count = std::max(1, options_.decode_threads);
    decoder_->max_pixels = options_.limits.max_pixels;

    // Skip what sampling will drop anyway, as early as the codec allows.
    sparse_ = options_.sample_fps > 0 && info_.frame_rate > 0 &&
              options_.sample_fps * 2 <= info_.frame_rate;
    const AVCodecDescriptor* descriptor = avcodec_descriptor_get(codec_->id);
    intra_only_ = descriptor != nullptr && (descriptor->props & AV_CODEC_PROP_INTRA_ONLY);
    if (sparse_ && !intra_only_) decoder_->skip_frame = AVDISCARD_NONREF;
    int long_side = std::max(info_.width, info_.height);
    int lowres = 0;
    while (output_ == Output::kSampledLuma && lowres < codec_->max_lowres &&
           (long_side >> (lowres + 1)) >= kMinLowresLongSide) {
      ++lowres;
    }
    decoder_->lowres = lowres;

    status = avcodec_open2(decoder_.get(), codec_, nullptr);
    if (status < 0)
      fail("cannot open the " + info_.codec + " decoder (" + error_text(status) + ")");
    frame_interval_ = info_.frame_rate > 0 ? 1.0 / info_.frame_rate : 1.0 / 25.0;
  }

  void check_pixels(std::int64_t width, std::int64_t height) const {
    if (width * height > options_.limits.max_pixels) {
      fail_limit("frame size " + std::to_string(width) + "x" + std::to_string(height) +
                 " exceeds the limit of " + std::to_string(options_.limits.max_pixels) + " pixels");
    }
  }

  void read_and_decode() {
    int status = av_read_frame(format_.get(), packet_.get());
    av::throw_if_out_of_memory(status, info_.path);
    if (status < 0) {
      // End of file, or a read error in a truncated/damaged file: decode what we have.
      if (status != AVERROR_EOF) read_error_ = error_text(status);
      avcodec_send_packet(decoder_.get(), nullptr);
      drain();
      finish();
      return;
    }
    if (packet_->stream_index != stream_index_) {
      av_packet_unref(packet_.get());
      return;
    }
    // Every packet of an intra-only codec is one independent frame: skip unwanted ones undecoded.
    if (intra_only_ && packet_->pts != AV_NOPTS_VALUE &&
        !sampler_.wants(seconds(packet_->pts) + 0.5 * frame_interval_)) {
      av_packet_unref(packet_.get());
      return;
    }
    if (skip_before_ > 0 && !sparse_ && !intra_only_) {
      const bool early = packet_->pts != AV_NOPTS_VALUE && seconds(packet_->pts) < skip_before_;
      decoder_->skip_frame = early ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
    }
    status = avcodec_send_packet(decoder_.get(), packet_.get());
    av_packet_unref(packet_.get());
    av::throw_if_out_of_memory(status, info_.path);
    if (status < 0 && status != AVERROR(EAGAIN)) {
      ++bad_packets_;
      if (++consecutive_bad_packets_ > options_.limits.max_bad_packets) {
        fail("too many undecodable packets (" + error_text(status) + ")");
      }
      return;
    }
    consecutive_bad_packets_ = 0;
    drain();
  }

  void drain() {
    while (true) {
      int status = avcodec_receive_frame(decoder_.get(), frame_.get());
      av::throw_if_out_of_memory(status, info_.path);
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      if (status < 0) {
        ++bad_packets_;
        return;
      }
      handle_frame(*frame_);
      av_frame_unref(frame_.get());
    }
  }

  double seconds(std::int64_t pts) const {
    return (pts - (start_pts_ == AV_NOPTS_VALUE ? 0 : start_pts_)) * time_base_;
  }

  void handle_frame(const AVFrame& decoded) {
    if (++frames_decoded_ > options_.limits.max_frames) {
      fail_limit("more than " + std::to_string(options_.limits.max_frames) + " frames");
    }
    check_pixels(decoded.width, decoded.height);
    double t;
    if (decoded.best_effort_timestamp != AV_NOPTS_VALUE) {
      if (start_pts_ == AV_NOPTS_VALUE) start_pts_ = decoded.best_effort_timestamp;
      t = seconds(decoded.best_effort_timestamp);
    } else {
      t = last_time_ + frame_interval_;
    }
    t = std::max(t, 0.0);
    last_time_ = t;
    if (t > options_.limits.max_duration_seconds) {
      fail_limit("media time passes the limit of " +
                 std::to_string(options_.limits.max_duration_seconds) + " s");
    }
    if (output_ == Output::kEveryFrameRgb) {
      emit_rgb(decoded, t);
      return;
    }
    if (t < skip_before_) {
      // Before what a seek asked for: only needed if nothing follows, so kept unconverted (a
      // reference, no copy). Converting every frame from the key frame on once took more time
      // than decoding them.
      if (!held_) held_.reset(av_frame_alloc());
      av_frame_unref(held_.get());
      const int status = av_frame_ref(held_.get(), &decoded);
      av::throw_if_out_of_memory(status, info_.path);
      if (status < 0) fail("cannot keep a decoded frame (" + av::error_text(status) + ")");
      held_time_ = t;
      return;
    }
    if (held_) av_frame_unref(held_.get());
    emit(decoded, t);
  }

  void emit(const AVFrame& decoded, double t) {
    if (!sampler_.take(t)) return;

    int out_width = decoded.width, out_height = decoded.height;
    const int long_side = std::max(out_width, out_height);
    if (long_side > options_.analysis_size) {
      out_width = std::max(1, static_cast<int>(std::lround(static_cast<double>(decoded.width) *
                                                           options_.analysis_size / long_side)));
      out_height = std::max(1, static_cast<int>(std::lround(static_cast<double>(decoded.height) *
                                                            options_.analysis_size / long_side)));
    }
    // Sources with an alpha channel (QuickTime Animation, ProRes 4444, PNG in MOV) are composited
    // over white, as stills are (still_decoder.h), and keep their alpha for the foreground.
    const AVPixFmtDescriptor* format =
        av_pix_fmt_desc_get(static_cast<AVPixelFormat>(decoded.format));
    const bool has_alpha = format && (format->flags & AV_PIX_FMT_FLAG_ALPHA);
    Frame out;
    out.pts_seconds = t;
    if (options_.whole_frame_rgb_interval > 0 && t >= next_whole_rgb_) {
      out.whole_rgb = whole_rgb(decoded);
      next_whole_rgb_ = t + options_.whole_frame_rgb_interval - 0.5 * frame_interval_;
    }
    if (has_alpha) {
      // Composited over white at full size, then fitted: scaling gray and alpha apart would mix
      // the transparent pixels' colour into the outline, a dark halo no published frame has.
      scaler_.reset(sws_getCachedContext(scaler_.release(), decoded.width, decoded.height,
                                         static_cast<AVPixelFormat>(decoded.format), decoded.width,
                                         decoded.height, AV_PIX_FMT_YA8, SWS_POINT, nullptr,
                                         nullptr, nullptr));
      if (!scaler_) fail("cannot convert pixel format " + std::to_string(decoded.format));
      const std::vector<std::uint8_t> gray_alpha =
          av::scale_packed(scaler_.get(), decoded, decoded.width, decoded.height, 2);
      GrayImage luma(decoded.width, decoded.height), alpha(decoded.width, decoded.height);
      bool transparent = false;
      for (std::size_t i = 0; i < luma.pixels.size(); ++i) {
        const int value = gray_alpha[2 * i], opacity = gray_alpha[2 * i + 1];
        luma.pixels[i] = static_cast<std::uint8_t>((value * opacity + 255 * (255 - opacity)) / 255);
        alpha.pixels[i] = static_cast<std::uint8_t>(opacity);
        transparent |= opacity < 255;
      }
      out.luma = fit_within(luma, options_.analysis_size);
      if (transparent) out.alpha = fit_within(alpha, options_.analysis_size);
      if (options_.colour) out.colour = fit_within(over_white(decoded), options_.analysis_size);
      if (options_.detail_size > options_.analysis_size && long_side > options_.analysis_size)
        out.detail = fit_within(luma, options_.detail_size);
      ready_.push_back(std::move(out));
      ++frames_sampled_;
      return;
    }
    scaler_.reset(sws_getCachedContext(scaler_.release(), decoded.width, decoded.height,
                                       static_cast<AVPixelFormat>(decoded.format), out_width,
                                       out_height, AV_PIX_FMT_GRAY8, SWS_FAST_BILINEAR, nullptr,
                                       nullptr, nullptr));
    if (!scaler_) fail("cannot convert pixel format " + std::to_string(decoded.format));
    out.luma = GrayImage(out_width, out_height);
    out.luma.pixels = av::scale_packed(scaler_.get(), decoded, out_width, out_height, 1);
    if (options_.colour) {
      colour_scaler_.reset(
          sws_getCachedContext(colour_scaler_.release(), decoded.width, decoded.height,
                               static_cast<AVPixelFormat>(decoded.format), out_width, out_height,
                               AV_PIX_FMT_RGB24, SWS_AREA, nullptr, nullptr, nullptr));
      if (!colour_scaler_) fail("cannot convert pixel format " + std::to_string(decoded.format));
      out.colour = {out_width, out_height,
                    av::scale_packed(colour_scaler_.get(), decoded, out_width, out_height, 3)};
    }
    if (options_.detail_size > options_.analysis_size && long_side > options_.analysis_size) {
      const double scale =
          static_cast<double>(std::min(long_side, options_.detail_size)) / long_side;
      const int detail_width = std::max(1, static_cast<int>(std::lround(decoded.width * scale)));
      const int detail_height = std::max(1, static_cast<int>(std::lround(decoded.height * scale)));
      detail_scaler_.reset(sws_getCachedContext(
          detail_scaler_.release(), decoded.width, decoded.height,
          static_cast<AVPixelFormat>(decoded.format), detail_width, detail_height, AV_PIX_FMT_GRAY8,
          SWS_FAST_BILINEAR, nullptr, nullptr, nullptr));
      if (!detail_scaler_) fail("cannot convert pixel format " + std::to_string(decoded.format));
      out.detail = GrayImage(detail_width, detail_height);
      out.detail.pixels =
          av::scale_packed(detail_scaler_.get(), decoded, detail_width, detail_height, 1);
    }
    ready_.push_back(std::move(out));
    ++frames_sampled_;
  }

  // The whole decoded picture as Meta's vPDQ converts it: RGB24, same size, swscale's area filter.
  ColourImage whole_rgb(const AVFrame& decoded) {
    whole_scaler_.reset(sws_getCachedContext(whole_scaler_.release(), decoded.width, decoded.height,
                                             static_cast<AVPixelFormat>(decoded.format),
                                             decoded.width, decoded.height, AV_PIX_FMT_RGB24,
                                             SWS_AREA, nullptr, nullptr, nullptr));
    if (!whole_scaler_) fail("cannot convert pixel format " + std::to_string(decoded.format));
    return {decoded.width, decoded.height,
            av::scale_packed(whole_scaler_.get(), decoded, decoded.width, decoded.height, 3)};
  }

  // A frame with an alpha channel in colour at full size, composited over white.
  ColourImage over_white(const AVFrame& decoded) {
    colour_scaler_.reset(sws_getCachedContext(
        colour_scaler_.release(), decoded.width, decoded.height,
        static_cast<AVPixelFormat>(decoded.format), decoded.width, decoded.height, AV_PIX_FMT_RGBA,
        SWS_POINT, nullptr, nullptr, nullptr));
    if (!colour_scaler_) fail("cannot convert pixel format " + std::to_string(decoded.format));
    return av::rgba_over_white(
        av::scale_packed(colour_scaler_.get(), decoded, decoded.width, decoded.height, 4),
        decoded.width, decoded.height);
  }

  void emit_rgb(const AVFrame& decoded, double pts_seconds) {
    const std::int64_t number = frames_decoded_ - 1;
    if (number % rgb_step_ != 0) return;
    rgb_frame_.number = number;
    rgb_frame_.pts_seconds = pts_seconds;
    rgb_frame_.picture = whole_rgb(decoded);
    (*rgb_consumer_)(rgb_frame_);
    ++frames_sampled_;
  }

  void finish() {
    finished_ = true;
    if (held_ && held_->buf[0] != nullptr) {  // the stream ended before the seek's time
      emit(*held_, held_time_);
      av_frame_unref(held_.get());
    }
    if (frames_sampled_ == 0) {
      fail(read_error_.empty() ? "no decodable video frames"
                               : "no decodable video frames (" + read_error_ + ")");
    }
    if (info_.duration_seconds <= 0) info_.duration_seconds = last_time_ + frame_interval_;
    if (bad_packets_ > 0) {
      info_.warnings.push_back(std::to_string(bad_packets_) + " undecodable packets skipped");
    }
    if (!read_error_.empty()) info_.warnings.push_back("read stopped early: " + read_error_);
    if (last_time_ + 2 * frame_interval_ + 1.0 < info_.duration_seconds) {
      info_.warnings.push_back("decoded " + std::to_string(last_time_) + " s of a declared " +
                               std::to_string(info_.duration_seconds) +
                               " s (damaged or truncated?)");
    }
  }

  DecodeOptions options_;
  FrameSampler sampler_;
  MediaInfo info_;
  av::InputPtr format_;
  av::CodecContextPtr decoder_;
  av::PacketPtr packet_;
  av::FramePtr frame_;
  av::ScalerPtr scaler_;
  av::ScalerPtr detail_scaler_;  // DecodeOptions::detail_size
  av::ScalerPtr colour_scaler_;  // DecodeOptions::colour
  av::ScalerPtr whole_scaler_;   // read_rgb_frames, DecodeOptions::whole_frame_rgb_interval
  double next_whole_rgb_ = 0;    // seconds
  const AVCodec* codec_ = nullptr;
  AVStream* stream_ = nullptr;  // owned by format_
  int stream_index_ = -1;
  double time_base_ = 0.0;  // seconds per PTS tick
  std::int64_t start_pts_ = AV_NOPTS_VALUE;
  double frame_interval_ = 0.04;  // nominal seconds per frame
  double last_time_ = 0.0;
  bool intra_only_ = false;
  bool sparse_ = false;      // sampling drops most frames: non-reference ones are not decoded
  double skip_before_ = -1;  // seconds; see seek()
  av::FramePtr held_;        // the last frame before skip_before_, until a later one comes
  double held_time_ = 0;     // seconds
  bool finished_ = false;
  std::int64_t frames_decoded_ = 0;
  std::int64_t frames_sampled_ = 0;
  std::int64_t bad_packets_ = 0;
  std::int64_t consecutive_bad_packets_ = 0;
  std::string read_error_;
  std::deque<Frame> ready_;
  Output output_;
  std::int64_t rgb_step_ = 1;
  const std::function<void(const RgbFrame&)>* rgb_consumer_ = nullptr;
  RgbFrame rgb_frame_;  // reused: a full-size picture per frame
};

}  // namespace

std::unique_ptr<FrameSource> open_video(const std::string& path, const DecodeOptions& options) {
  return std::make_unique<VideoSource>(path, options);
}

std::unique_ptr<FrameSource> open_video_at(const std::string& path, double seconds,
                                           const DecodeOptions& options) {
  auto source = std::make_unique<VideoSource>(path, options);
  if (seconds > 1.0) source->seek(seconds);
  return source;
}

MediaInfo read_rgb_frames(const std::string& path, double seconds_per_frame, const Limits& limits,
                          const std::function<void(const RgbFrame&)>& consume) {
  DecodeOptions options;
  options.sample_fps = 0;
  options.limits = limits;
  VideoSource source(path, options, VideoSource::Output::kEveryFrameRgb);
  // Meta's choice: the step truncated to whole frames, as its tool computes it.
  const auto step = static_cast<std::int64_t>(seconds_per_frame * source.info().frame_rate);
  source.read_rgb(step, consume);
  return source.info();
}

namespace {
std::atomic<bool> decoder_log_verbose{false};
}  // namespace

void set_decoder_log_verbose(bool verbose) {
  decoder_log_verbose = verbose;
}

namespace av {

std::string error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof text);
  return text;
}

std::vector<std::uint8_t> scale_packed(SwsContext* scaler, const AVFrame& frame, int width,
                                       int height, int bytes_per_pixel) {
  const std::size_t row = static_cast<std::size_t>(width) * bytes_per_pixel;
  const std::size_t stride = (row + 63) / 64 * 64;
  std::vector<std::uint8_t> padded(stride * (static_cast<std::size_t>(height) + 1));
  std::uint8_t* planes[4] = {padded.data(), nullptr, nullptr, nullptr};
  int strides[4] = {static_cast<int>(stride), 0, 0, 0};
  sws_scale(scaler, frame.data, frame.linesize, 0, frame.height, planes, strides);
  if (stride == row) {  // already packed: drop the spare row
    padded.resize(row * height);
    return padded;
  }
  std::vector<std::uint8_t> packed(row * height);
  for (int y = 0; y < height; ++y)
    std::copy_n(padded.data() + y * stride, row, packed.data() + y * row);
  return packed;
}

ColourImage rgba_over_white(const std::vector<std::uint8_t>& rgba, int width, int height) {
  ColourImage out{width, height, std::vector<std::uint8_t>(rgba.size() / 4 * 3)};
  for (std::size_t i = 0; i < rgba.size() / 4; ++i) {
    const int opacity = rgba[4 * i + 3];
    for (int c = 0; c < 3; ++c) {
      out.rgb[3 * i + c] =
          static_cast<std::uint8_t>((rgba[4 * i + c] * opacity + 255 * (255 - opacity)) / 255);
    }
  }
  return out;
}

void apply_log_level() {
  av_log_set_level(decoder_log_verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
}

}  // namespace av

}  // namespace celtrace::engine
