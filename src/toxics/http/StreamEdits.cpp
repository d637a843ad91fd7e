#include "toxics/http/StreamEdits.h"

#include <algorithm>

namespace faultline::http {

namespace {
// Paced bytes leave in turns of this much time's worth, so a slow body is a
// steady trickle and a fast one is not a timer per byte.
constexpr Nanos kPaceTurn = Millis(20);
}  // namespace

StreamEdits::StreamEdits(ToxicContext& context, Emit emit) : context_(context), emit_(std::move(emit)) {
  timer_.set_callback([this] { run(); });
}

StreamEdits::~StreamEdits() { context_.timers().cancel(timer_); }

void StreamEdits::hold(Chunk chunk) {
  if (chunk.length == 0) return;
  held_bytes_ += chunk.length;
  held_.push_back(std::move(chunk));
}

void StreamEdits::extend_or_add(Edit::Kind kind, uint64_t until, uint64_t rate) {
  if (until <= planned_) return;
  planned_ = until;
  if (!edits_.empty()) {
    Edit& last = edits_.back();
    if (last.kind == kind && last.rate == rate) {
      last.until = until;
      return;
    }
  }
  Edit e{kind};
  e.until = until;
  e.rate = rate;
  edits_.push_back(std::move(e));
}

void StreamEdits::pass_until(uint64_t offset) { extend_or_add(Edit::Kind::Pass, offset, 0); }
void StreamEdits::drop_until(uint64_t offset) { extend_or_add(Edit::Kind::Drop, offset, 0); }
void StreamEdits::pace_until(uint64_t offset, uint64_t bytes_per_second) {
  extend_or_add(Edit::Kind::Pace, offset, std::max<uint64_t>(1, bytes_per_second));
}

void StreamEdits::insert(std::string bytes) {
  if (bytes.empty()) return;
  Edit e{Edit::Kind::Insert};
  e.bytes = std::move(bytes);
  edits_.push_back(std::move(e));
}

void StreamEdits::wait_until(TimePoint when) {
  Edit e{Edit::Kind::Wait};
  e.when = when;
  edits_.push_back(std::move(e));
}

void StreamEdits::close(bool reset) {
  Edit e{Edit::Kind::Close};
  e.reset = reset;
  edits_.push_back(std::move(e));
}

void StreamEdits::then(std::function<void()> step) {
  Edit e{Edit::Kind::Step};
  e.step = std::move(step);
  edits_.push_back(std::move(e));
}

std::string StreamEdits::copy(uint64_t from, uint64_t to) const {
  if (from < held_at_ || to > end() || from > to) return "";
  std::string out;
  out.reserve(static_cast<size_t>(to - from));
  uint64_t at = held_at_;
  for (const Chunk& c : held_) {
    const uint64_t c_end = at + c.length;
    if (c_end > from && at < to) {
      const uint64_t a = std::max(at, from), b = std::min(c_end, to);
      out.append(c.data() + (a - at), static_cast<size_t>(b - a));
    }
    if (c_end >= to) break;
    at = c_end;
  }
  return out;
}

uint64_t StreamEdits::move_bytes(uint64_t limit, bool forward) {
  uint64_t moved = 0;
  while (moved < limit && !held_.empty()) {
    Chunk& front = held_.front();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(front.length, limit - moved));
    Chunk piece = front.split_front(n);
    if (front.length == 0) held_.pop_front();
    held_at_ += n;
    held_bytes_ -= n;
    moved += n;
    released_ = true;
    if (forward) emit_(std::move(piece));
  }
  return moved;
}

void StreamEdits::emit_bytes(std::string_view bytes) {
  for (size_t at = 0; at < bytes.size(); at += Buffer::kSize) emit_(context_.new_chunk(bytes.substr(at, Buffer::kSize)));
}

bool StreamEdits::run_pace(Edit& edit, bool flushing) {
  if (flushing) {
    move_bytes(edit.until - held_at_, true);
    return held_at_ == edit.until;
  }
  const TimePoint now = context_.now();
  // A stream that had nothing to send for a while gets one turn's worth at
  // once, not all the time it was idle.
  const Nanos turn = kPaceTurn;
  if (edit.when == TimePoint{} || edit.when < now - turn) edit.when = now - turn;
  const uint64_t turn_bytes = std::max<uint64_t>(1, edit.rate * static_cast<uint64_t>(turn.count()) / 1'000'000'000ULL);
  while (held_at_ < edit.until && held_bytes_ > 0) {
    if (edit.when > now) {
      context_.timers().arm(timer_, edit.when);
      return false;
    }
    const uint64_t n = move_bytes(std::min(edit.until - held_at_, turn_bytes), true);
    edit.when += Nanos(static_cast<int64_t>(n * 1'000'000'000ULL / edit.rate));
  }
  return held_at_ == edit.until;
}

bool StreamEdits::run_front(bool flushing) {
  Edit& edit = edits_.front();
  switch (edit.kind) {
    case Edit::Kind::Pass:
    case Edit::Kind::Drop:
      move_bytes(edit.until - held_at_, edit.kind == Edit::Kind::Pass);
      return held_at_ == edit.until;
    case Edit::Kind::Pace:
      return run_pace(edit, flushing);
    case Edit::Kind::Insert:
      emit_bytes(edit.bytes);
      return true;
    case Edit::Kind::Wait:
      if (flushing || edit.when <= context_.now()) return true;
      context_.timers().arm(timer_, edit.when);
      return false;
    case Edit::Kind::Close:
      if (flushing) return true;
      // After the bytes before it have left: a client cut mid-response gets exactly those.
      closed_ = true;
      if (edit.reset) context_.reset_after_output_written();
      else context_.close_after_output_written();
      return true;
    case Edit::Kind::Step:
      edit.step();
      return true;
  }
  return true;
}

void StreamEdits::run() {
  if (running_ || closed_) return;
  running_ = true;
  while (!edits_.empty() && !closed_) {
    if (!run_front(false)) break;
    edits_.pop_front();
  }
  if (closed_) edits_.clear();
  running_ = false;
  if (released_ && !closed_) {
    released_ = false;
    context_.chain_released();
  }
}

void StreamEdits::flush() {
  context_.timers().cancel(timer_);
  running_ = true;
  while (!edits_.empty()) {
    const Edit::Kind kind = edits_.front().kind;
    const bool done = run_front(true);
    if (!done && (kind == Edit::Kind::Pass || kind == Edit::Kind::Drop || kind == Edit::Kind::Pace)) break;
    edits_.pop_front();
  }
  edits_.clear();
  move_bytes(held_bytes_, true);
  planned_ = std::max(planned_, end());
  running_ = false;
  released_ = false;
  context_.chain_released();
}

}  // namespace faultline::http
