#include "toxics/http/HttpStage.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>

#include "toxics/http/RequestMatch.h"

namespace faultline::http {

namespace {

HttpFraming::Side side_of(ToxicChain& chain) {
  return chain.context().direction() == Direction::Upstream ? HttpFraming::Side::Requests : HttpFraming::Side::Responses;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool interim(int status) { return status >= 100 && status < 200 && status != 101; }

// The connection's HTTP toxic that counts requests for /metrics: the first
// one to ask, until it goes away. Kept in the shared state's slot 0 (toxic
// ids start at 1).
struct HttpMeter {
  uint64_t owner = 0;
};
constexpr uint64_t kMeterSlot = 0;

}  // namespace

HttpStage::HttpStage(ToxicChain& chain, ToxicConfigPtr config)
    : ToxicStage(chain, std::move(config)), framing_(side_of(chain)), edits_(chain.context(), [this](Chunk c) { pass(std::move(c)); }) {}

HttpStage::~HttpStage() {
  // The other side may outlive this one for a moment: it must not call in.
  if (!request_side() && exchanges().response_side == this) exchanges().response_side = nullptr;
  auto& meter = context().shared_state().get<HttpMeter>(kMeterSlot);
  if (meter.owner == config().id) meter.owner = 0;
}

HttpExchanges& HttpStage::exchanges() {
  // The slot lives as long as the connection, so it is looked up once.
  if (!exchanges_) exchanges_ = &context().shared_state().get<HttpExchanges>(config().id);
  return *exchanges_;
}

void HttpStage::start() {
  if (!request_side()) exchanges().response_side = this;
}

bool HttpStage::selected(const HttpHead& head) {
  if (!match_ || match_config_ != &config()) {
    match_ = std::make_unique<RequestMatch>(attribute(kMatchMethod), attribute(kMatchPath), attribute(kMatchHeaders));
    match_config_ = &config();
  }
  if (!match_->matches(head)) return false;
  const float toxicity = spec().toxicity;
  return toxicity >= 1.0f || (toxicity > 0.0f && rng().unit() < toxicity);
}

bool HttpStage::measures() {
  auto& meter = context().shared_state().get<HttpMeter>(kMeterSlot);
  if (meter.owner == 0) meter.owner = config().id;
  return meter.owner == config().id;
}

void HttpStage::on_chunk(Chunk chunk) {
  HttpExchanges& ex = exchanges();
  // Requests step aside at once when responses did; responses go on until
  // every request read so far has its answer.
  if (!aside_ && request_side() && ex.responses_aside) step_aside("");
  if (!aside_ && !request_side() && ex.requests_aside && ex.pending.empty()) step_aside("");
  if (aside_) {
    if (edits_.idle()) return pass(std::move(chunk));
    edits_.hold(std::move(chunk));
    edits_.pass_until(edits_.end());
    edits_.run();
    return;
  }
  std::vector<FramingEvent> events;
  const bool http = framing_.feed(std::string_view(chunk.data(), chunk.length), events);
  edits_.hold(std::move(chunk));
  if (request_side()) read_requests(events, http);
  else read_responses(events, http);
  if (!http) step_aside(framing_.error());
  extend_tail(edits_.end());
  edits_.run();
}

void HttpStage::read_requests(std::vector<FramingEvent>& events, bool http) {
  (void)http;
  for (const FramingEvent& e : events) {
    if (aside_) return;
    if (e.kind == FramingEvent::Kind::HeadEnd) {
      on_request_head(e.head, e.offset);
      continue;
    }
    extend_tail(e.offset);  // the message's end
    set_tail(Tail::Hold);
    message_start_ = e.offset;
    // What follows an Upgrade or CONNECT is another protocol's, once the upstream agrees.
    if (switching_) step_aside("");
  }
}

void HttpStage::on_request_head(const HttpHead& head, uint64_t head_end) {
  const RequestVerdict verdict = on_request(head);
  if (!verdict.fault.empty()) report_fault(head, verdict);
  const TimePoint now = this->now();
  HttpExchanges& ex = exchanges();
  switch (verdict.action) {
    case RequestVerdict::Action::Abort:
      if (verdict.delay > Nanos(0)) edits_.wait_until(now + verdict.delay);
      edits_.drop_until(head_end);
      edits_.close(verdict.reset);
      set_tail(Tail::Drop);
      return;
    case RequestVerdict::Action::Answer: {
      edits_.drop_until(head_end);
      set_tail(Tail::Drop);  // its body too
      HttpExchanges::Entry entry;
      entry.answered = true;
      entry.answer = verdict.answer;
      entry.answer_status = verdict.answer_status;
      entry.not_before = now + verdict.delay;
      entry.close_after = !head.keep_alive;
      entry.started = now;
      ex.pending.push_back(std::move(entry));
      if (ex.response_side) ex.response_side->queue_answers();
      else if (ex.pending.size() == 1) {  // no response side: nothing can be ahead of it
        send_directly(ex.pending.front().answer);
        ex.pending.pop_front();
      }
      return;
    }
    case RequestVerdict::Action::Forward:
      forward_request(head, head_end, verdict);
      return;
  }
}

void HttpStage::forward_request(const HttpHead& head, uint64_t head_end, const RequestVerdict& verdict) {
  const TimePoint now = this->now();
  if (verdict.delay > Nanos(0)) edits_.wait_until(now + verdict.delay);
  std::string stripped;
  if (verdict.strip_control_fields) {
    const std::string raw = edits_.copy(message_start_, head_end);
    stripped = remove_fields(raw, [](std::string_view name) { return name.size() >= 12 && iequals(name.substr(0, 12), "x-faultline-"); });
    if (raw.empty() || stripped.size() == raw.size()) stripped.clear();
  }
  if (!stripped.empty()) {
    edits_.drop_until(head_end);
    edits_.insert(std::move(stripped));
  } else {
    edits_.pass_until(head_end);
  }
  set_tail(Tail::Pass);
  switching_ = head.upgrade || iequals(head.method, "CONNECT");
  HttpExchanges& ex = exchanges();
  HttpExchanges::Entry entry;
  entry.close_after = !head.keep_alive;
  entry.connect = iequals(head.method, "CONNECT");
  entry.plan = verdict.response;
  entry.started = now;
  ex.pending.push_back(std::move(entry));
  if (ex.response_side) ex.response_side->framing_.expect_response(iequals(head.method, "HEAD"));
}

void HttpStage::read_responses(std::vector<FramingEvent>& events, bool http) {
  (void)http;
  for (const FramingEvent& e : events) {
    if (aside_) return;
    if (e.kind == FramingEvent::Kind::HeadEnd) on_response_head(e.head, e.offset);
    else on_response_end(e.offset);
  }
}

void HttpStage::on_response_head(const HttpHead& head, uint64_t head_end) {
  final_status_ = !interim(head.status);
  switched_ = head.status == 101;
  if (!final_status_) {  // 100 Continue and the like pass as they came
    edits_.pass_until(head_end);
    set_tail(Tail::Pass);
    return;
  }
  HttpExchanges& ex = exchanges();
  HttpExchanges::Entry* entry = !ex.pending.empty() && !ex.pending.front().answered ? &ex.pending.front() : nullptr;
  counted_ = entry != nullptr;
  status_ = head.status;
  started_ = entry ? entry->started : now();
  const ResponsePlan plan = entry ? entry->plan : ResponsePlan{};
  if (plan.delay > Nanos(0)) edits_.wait_until(now() + plan.delay);
  if (plan.abort == ResponsePlan::Abort::BeforeResponse) {
    edits_.close(plan.reset);
    set_tail(Tail::Drop);
    return;
  }
  if (!plan.rewrite.empty()) {
    const std::string raw = edits_.copy(message_start_, head_end);
    if (!raw.empty()) {
      edits_.drop_until(head_end);
      edits_.insert(rewrite_response_head(raw, plan.rewrite));
      if (plan.rewrite.status != 0) status_ = plan.rewrite.status;
    }
  }
  edits_.pass_until(head_end);
  set_tail(plan.body_rate > 0 ? Tail::Pace : Tail::Pass, plan.body_rate);
  if (plan.abort == ResponsePlan::Abort::AfterBodyBytes) {
    tail_limit_ = head_end + plan.abort_after;
    tail_limit_reset_ = plan.reset;
    limit_aborts_at_end_ = true;
  }
  // A tunnel opened by CONNECT carries another protocol from here on.
  if (entry && entry->connect && head.status >= 200 && head.status < 300) switched_ = true;
  if (switched_ && entry && entry->connect) {
    ex.pending.pop_front();
    step_aside("");
  }
}

void HttpStage::on_response_end(uint64_t end) {
  extend_tail(end);
  if (limit_aborts_at_end_) {
    // The body was shorter than the abort point: it arrives whole, then the connection ends.
    edits_.close(tail_limit_reset_);
    set_tail(Tail::Drop);
    limit_aborts_at_end_ = false;
    return;
  }
  set_tail(Tail::Hold);
  message_start_ = end;
  if (!final_status_) return;
  HttpExchanges& ex = exchanges();
  if (counted_) {
    ex.pending.pop_front();
    if (measures()) {
      const int status = status_;
      const TimePoint started = started_;
      edits_.then([this, status, started] { context().http_exchange(status, now() - started); });
    }
  }
  counted_ = false;
  queue_answers();
  if (switched_) step_aside("");
  else if (ex.requests_aside && ex.pending.empty()) step_aside("");
}

void HttpStage::queue_answers() {
  HttpExchanges& ex = exchanges();
  const bool measuring = measures();
  while (!ex.pending.empty() && ex.pending.front().answered) {
    HttpExchanges::Entry entry = std::move(ex.pending.front());
    ex.pending.pop_front();
    if (entry.not_before > now()) edits_.wait_until(entry.not_before);
    edits_.insert(std::move(entry.answer));
    if (measuring) {
      const int status = entry.answer_status;
      const TimePoint started = entry.started;
      edits_.then([this, status, started] { context().http_exchange(status, now() - started); });
    }
    if (entry.close_after) {
      edits_.then([this] { context().close_after_output_written(); });
      break;
    }
  }
  edits_.run();
}

void HttpStage::send_directly(const std::string& answer) {
  const std::string_view bytes = answer;
  for (size_t at = 0; at < bytes.size(); at += Buffer::kSize) context().reply(context().new_chunk(bytes.substr(at, Buffer::kSize)));
}

void HttpStage::set_tail(Tail tail, uint64_t rate) {
  tail_ = tail;
  tail_rate_ = rate;
  tail_limit_ = UINT64_MAX;
  limit_aborts_at_end_ = false;
}

void HttpStage::extend_tail(uint64_t until) {
  const uint64_t to = std::min(until, tail_limit_);
  switch (tail_) {
    case Tail::Hold: return;
    case Tail::Pass: edits_.pass_until(to); break;
    case Tail::Drop: edits_.drop_until(to); break;
    case Tail::Pace: edits_.pace_until(to, tail_rate_); break;
  }
  if (to == tail_limit_ && until >= tail_limit_) {
    // The abort point of a response body: the connection ends here.
    edits_.close(tail_limit_reset_);
    set_tail(Tail::Drop);
    edits_.drop_until(until);
  }
}

void HttpStage::on_eof() {
  ended_ = true;
  // A head that never completed goes on as it came: the other side decides what it was.
  if (tail_ == Tail::Hold) set_tail(Tail::Pass);
  extend_tail(edits_.end());
  if (limit_aborts_at_end_) {
    edits_.close(tail_limit_reset_);
    limit_aborts_at_end_ = false;
  }
  edits_.then([this] { pass_eof(); });
  edits_.run();
}

void HttpStage::stop() {
  // The toxic goes away: what it holds goes on as it came.
  edits_.flush();
  HttpExchanges& ex = exchanges();
  if (!request_side() && ex.response_side == this) ex.response_side = nullptr;
  auto& meter = context().shared_state().get<HttpMeter>(kMeterSlot);
  if (meter.owner == config().id) meter.owner = 0;
}

void HttpStage::step_aside(const std::string& reason) {
  if (aside_) return;
  aside_ = true;
  set_tail(Tail::Pass);
  HttpExchanges& ex = exchanges();
  if (!reason.empty() && !ex.reported) {
    event(ChaosEventKind::HttpPassthrough, reason);
    ex.reported = true;
  }
  if (request_side()) {
    ex.requests_aside = true;
    return;
  }
  ex.responses_aside = true;
  // No response will be framed any more: the toxic's answers still waiting
  // for their turn go out now, after what has passed.
  std::deque<HttpExchanges::Entry> waiting;
  waiting.swap(ex.pending);
  for (auto& entry : waiting)
    if (entry.answered) ex.pending.push_back(std::move(entry));
  queue_answers();
}

void HttpStage::report_fault(const HttpHead& head, const RequestVerdict& verdict) {
  const std::string detail = head.method + " " + head.target + " -> " + verdict.fault;
  context().http_fault(config(), HttpFault{head.method, head.target, verdict.fault_kind, verdict.fault_status}, detail);
  config().fault_counts->add(verdict.fault_kind, verdict.fault_status);
}

}  // namespace faultline::http
