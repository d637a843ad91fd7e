#include "events/EventPublisher.h"

#include "api/JsonViews.h"
#include "json/JsonWriter.h"

namespace faultline {
namespace {

// `"key":"value"` members, comma-separated, without braces.
class Members {
 public:
  void text(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    separate(key);
    json::append_string(out_, value);
  }
  void integer(std::string_view key, int64_t value) {
    separate(key);
    json::append_int(out_, value);
  }
  void raw(std::string_view key, std::string_view json) {
    separate(key);
    out_ += json;
  }
  std::string take() { return std::move(out_); }

 private:
  void separate(std::string_view key) {
    if (!out_.empty()) out_ += ',';
    json::append_string(out_, key);
    out_ += ':';
  }
  std::string out_;
};

}  // namespace

void EventPublisher::changed(const ControlChange& c) {
  Members m;
  if (c.toxic) {
    m.text("toxic", c.toxic->name);
    m.text("toxic_type", c.toxic->type_name());
    m.text("stream", to_string(c.toxic->direction));
    m.raw("toxicity", [&] { std::string s; json::append_float32(s, c.toxic->toxicity); return s; }());
    m.raw("detail", api::toxic_json(*c.toxic));
  }
  if (c.proxy_spec) {
    m.text("listen", c.proxy_spec->listen);
    m.text("upstream", c.proxy_spec->upstream);
  }
  m.text("schedule", c.schedule);
  m.text("schedule_kind", c.schedule_kind);
  m.text("phase", c.phase);
  if (c.kind == ChangeKind::ScheduleTransition) m.integer("iteration", c.iteration);
  m.text("reason", c.reason);
  journal_.publish(std::string(to_string(c.kind)), std::string(c.proxy), m.take());
}

void EventPublisher::http_fault(const ChaosEvent& e, const HttpFault& f) {
  Members m;
  m.text("toxic", e.toxic);
  m.text("toxic_type", e.toxic_type);
  m.integer("connection", static_cast<int64_t>(e.connection));
  m.text("method", f.method);
  m.text("path", f.target.substr(0, f.target.find('?')));
  if (f.target.find('?') != std::string_view::npos) m.text("target", f.target);
  m.text("fault", f.fault);
  m.text("status", f.status);
  m.text("detail", e.detail);
  journal_.publish("http_fault", std::string(e.proxy), m.take());
}

}  // namespace faultline
