// drop: a new connection is dropped at accept (seed 002's dropRate, Envoy's
// abort), with probability `toxicity`, before anything is dialled. `mode`
// says how the client sees it: `refused` (an RST right after the accept),
// `closed` (a FIN before any byte), `blackholed` (accepted and never
// answered; closed after `timeout` ms, 0 = never) or `delayed` (the upstream
// connect waits `delay` ms: a slow handshake as the client sees it).
// Connections already open are never touched: the verdict is only asked of
// a toxic active when a connection starts.
#include "toxics/AttributeRanges.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr EnumKey kMode{0, "mode"};
constexpr IntegerKey kTimeout{1, "timeout"};
constexpr IntegerKey kDelay{2, "delay"};

class DropStage final : public ToxicStage {
 public:
  using ToxicStage::ToxicStage;

  AcceptVerdict before_connect() override {
    const std::string& mode = attribute(kMode);
    if (mode == "closed") {
      event(ChaosEventKind::ConnectionClosedAtAccept);
      return {AcceptVerdict::Action::Close, Nanos(0)};
    }
    if (mode == "blackholed") {
      event(ChaosEventKind::ConnectionBlackholed);
      const int64_t timeout = attribute(kTimeout);
      return {AcceptVerdict::Action::Blackhole, timeout > 0 ? Nanos(Millis(timeout)) : Nanos::max()};
    }
    if (mode == "delayed") {
      event(ChaosEventKind::ConnectDelayed);
      return {AcceptVerdict::Action::Delay, Millis(attribute(kDelay))};
    }
    event(ChaosEventKind::ConnectionRefused);
    return {AcceptVerdict::Action::Refuse, Nanos(0)};
  }
};

}  // namespace

FAULTLINE_TOXIC_TYPE(DropToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("drop", "DropToxic",
                                     "Drops new connections at accept (toxicity: the share dropped): refused, closed, blackholed or delayed.");
  type.attribute(kMode, enum_attribute("mode", {"refused", "closed", "blackholed", "delayed"},
                                       "refused: RST at once; closed: FIN before any byte; blackholed: never answered; delayed: "
                                       "the upstream connect waits delay ms"))
      .attribute(kTimeout, integer_attribute("timeout", 0, kYearMs, "ms", "blackholed: close the client after this long; 0 never"))
      .attribute(kDelay, integer_attribute("delay", 0, kYearMs, "ms", "delayed: how long the upstream connect waits"));
  type.attributes[0].default_value = std::string("refused");
  type.attributes[2].default_value = int64_t{1000};
  return type.stage<DropStage>();
}

}  // namespace faultline
