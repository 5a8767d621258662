#include "media/rtp_bridge.hpp"

namespace sb::media {

class RtpBridge::Feed final : public AudioTap {
 public:
  Feed() : ring_(std::make_shared<FrameRing>()) {}
  void on_audio(std::span<const std::int16_t> inbound, std::span<const std::int16_t>) override {
    ring_->write(inbound);
  }
  std::unique_ptr<AudioSource> source() const { return std::make_unique<RingSource>(ring_); }

 private:
  std::shared_ptr<FrameRing> ring_;
};

bool RtpBridge::can_relay(const RtpSession& a, const RtpSession& b) {
  const SessionParams& x = a.params();
  const SessionParams& y = b.params();
  return x.codec == y.codec && x.ptime == y.ptime;
}

RtpBridge::RtpBridge(std::shared_ptr<RtpSession> a, std::shared_ptr<RtpSession> b, bool decode)
    : a_(std::move(a)), b_(std::move(b)) {
  a_->stop_playback();
  b_->stop_playback();
  relaying_ = !decode && can_relay(*a_, *b_);
  if (relaying_) {
    a_->relay_to(b_);
    b_->relay_to(a_);
    return;
  }
  a_to_b_ = std::make_shared<Feed>();
  b_to_a_ = std::make_shared<Feed>();
  a_->add_tap(a_to_b_);
  b_->add_tap(b_to_a_);
  b_->play(a_to_b_->source());
  a_->play(b_to_a_->source());
}

RtpBridge::~RtpBridge() {
  if (relaying_) {
    a_->relay_to(nullptr);
    b_->relay_to(nullptr);
    return;
  }
  a_->remove_tap(a_to_b_.get());
  b_->remove_tap(b_to_a_.get());
  a_->stop_playback();
  b_->stop_playback();
}

}  // namespace sb::media
