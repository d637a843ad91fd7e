#include "toxics/http/HttpStage.h"

#include <strings.h>

#include <algorithm>

namespace faultline::http {

namespace {
HttpFraming::Side side_of(ToxicChain& chain) {
  return chain.context().direction() == Direction::Upstream ? HttpFraming::Side::Requests : HttpFraming::Side::Responses;
}
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

HttpStage::HttpStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)), framing_(side_of(chain)) {}

HttpStage::~HttpStage() {
  // The other side may outlive this one for a moment: it must not call in.
  if (!request_side() && exchanges().response_side == this) exchanges().response_side = nullptr;
}

HttpExchanges& HttpStage::exchanges() { return context().shared_state().get<HttpExchanges>(config().id); }

void HttpStage::start() {
  if (!request_side()) exchanges().response_side = this;
}

bool HttpStage::drawn() {
  const float toxicity = spec().toxicity;
  return toxicity >= 1.0f || (toxicity > 0.0f && rng().unit() < toxicity);
}

void HttpStage::on_chunk(Chunk chunk) {
  if (mode_ == Mode::Passthrough || exchanges().passthrough) {
    if (mode_ != Mode::Passthrough) step_aside("");
    pass(std::move(chunk));
    return;
  }
  if (request_side()) on_request_bytes(std::move(chunk));
  else on_response_bytes(std::move(chunk));
}

void HttpStage::on_eof() {
  // A head that never completed goes on as it came: the upstream decides what it was.
  dispose_until(held_at_ + held_bytes_, mode_ != Mode::Swallowing);
  pass_eof();
}

void HttpStage::stop() {
  // The toxic goes away: what it holds goes on as it came.
  dispose_until(held_at_ + held_bytes_, mode_ != Mode::Swallowing);
  context().chain_released();
  if (!request_side() && exchanges().response_side == this) exchanges().response_side = nullptr;
}

void HttpStage::dispose_until(uint64_t until, bool forward) {
  while (!held_.empty() && held_at_ < until) {
    Chunk& front = held_.front();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(front.length, until - held_at_));
    Chunk piece = front.split_front(n);
    if (front.length == 0) held_.pop_front();
    held_at_ += n;
    held_bytes_ -= n;
    if (forward) pass(std::move(piece));
  }
}

void HttpStage::on_request_bytes(Chunk chunk) {
  std::vector<FramingEvent> events;
  const bool http = framing_.feed(std::string_view(chunk.data(), chunk.length), events);
  held_bytes_ += chunk.length;
  held_.push_back(std::move(chunk));
  for (const FramingEvent& e : events) {
    if (e.kind == FramingEvent::Kind::HeadEnd) {
      on_request_head(e.head, e.offset);
      continue;
    }
    dispose_until(e.offset, mode_ != Mode::Swallowing);  // the message's end
    mode_ = Mode::AwaitHead;
    if (switching_) {
      // What follows an Upgrade or CONNECT is another protocol's, once the upstream agrees.
      step_aside("");
      dispose_until(held_at_ + held_bytes_, true);
      return;
    }
  }
  if (!http) {
    step_aside(framing_.error());
    dispose_until(held_at_ + held_bytes_, true);
    return;
  }
  if (mode_ == Mode::Forwarding) dispose_until(framing_.offset(), true);  // body bytes as they come
  else if (mode_ == Mode::Swallowing) dispose_until(framing_.offset(), false);
  context().chain_released();
}

void HttpStage::on_request_head(const HttpHead& head, uint64_t head_end) {
  RequestVerdict verdict = on_request(head);
  HttpExchanges& ex = exchanges();
  HttpExchanges::Entry entry;
  entry.close_after = !head.keep_alive;
  if (verdict.action == RequestVerdict::Action::Answer) {
    dispose_until(head_end, false);
    mode_ = Mode::Swallowing;
    entry.answered = true;
    entry.answer = std::move(verdict.answer);
    event(ChaosEventKind::HttpRequestFaulted, head.method + " " + head.target + " -> " + verdict.fault);
    ex.pending.push_back(std::move(entry));
    if (ex.response_side) ex.response_side->flush_answers();
    else if (ex.pending.size() == 1) {  // no response side: nothing can be ahead of it
      emit_answer(ex.pending.front());
      ex.pending.pop_front();
    }
    return;
  }
  dispose_until(head_end, true);
  mode_ = Mode::Forwarding;
  switching_ = head.upgrade || iequals(head.method, "CONNECT");
  ex.pending.push_back(std::move(entry));
  if (ex.response_side) ex.response_side->framing_.expect_response(iequals(head.method, "HEAD"));
}

void HttpStage::on_response_bytes(Chunk chunk) {
  std::vector<FramingEvent> events;
  const bool http = framing_.feed(std::string_view(chunk.data(), chunk.length), events);
  // Passes the chunk's bytes up to stream offset `until`.
  auto pass_until = [&](uint64_t until) {
    const size_t n = static_cast<size_t>(until - passed_at_);
    if (n == 0) return;
    pass(chunk.split_front(n));
    passed_at_ = until;
  };
  for (const FramingEvent& e : events) {
    if (e.kind == FramingEvent::Kind::HeadEnd) {
      final_status_ = e.head.status < 100 || e.head.status >= 200 || e.head.status == 101;
      switched_ = e.head.status == 101;
      continue;
    }
    pass_until(e.offset);
    if (!final_status_) continue;
    HttpExchanges& ex = exchanges();
    if (!ex.pending.empty() && !ex.pending.front().answered) ex.pending.pop_front();
    flush_answers();
    if (switched_) {
      step_aside("");
      break;
    }
  }
  if (!http) step_aside(framing_.error());
  passed_at_ += chunk.length;
  if (chunk.length > 0) pass(std::move(chunk));
}

void HttpStage::flush_answers() {
  HttpExchanges& ex = exchanges();
  while (!ex.pending.empty() && ex.pending.front().answered) {
    const HttpExchanges::Entry entry = std::move(ex.pending.front());
    ex.pending.pop_front();
    emit_answer(entry);
    if (entry.close_after) {
      context().close_after_output_written();
      break;
    }
  }
}

void HttpStage::emit_answer(const HttpExchanges::Entry& entry) {
  const std::string_view bytes = entry.answer;
  for (size_t at = 0; at < bytes.size(); at += Buffer::kSize) {
    Chunk piece = context().new_chunk(bytes.substr(at, Buffer::kSize));
    if (request_side()) context().reply(std::move(piece));  // no response side: straight to the client
    else pass(std::move(piece));
  }
}

void HttpStage::step_aside(const std::string& reason) {
  if (mode_ == Mode::Passthrough) return;
  mode_ = Mode::Passthrough;
  HttpExchanges& ex = exchanges();
  if (!reason.empty() && !ex.passthrough) event(ChaosEventKind::HttpPassthrough, reason);
  ex.passthrough = true;
}

}  // namespace faultline::http
