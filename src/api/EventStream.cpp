// GET /faultline/events: the control events as server-sent events, or with
// ?poll=1 as one JSON array. Every reader has its own cursor into the
// journal, so a slow or stuck reader never holds anything up: when the
// journal has overwritten events it had not read yet, it gets a "dropped"
// event saying how many, and goes on from the oldest one still kept.
#include <chrono>
#include <cstdlib>

#include "api/Api.h"
#include "events/EventJournal.h"
#include "json/JsonWriter.h"
#include "model/ApiError.h"

namespace faultline::api {
namespace {

constexpr auto kPollEvery = std::chrono::milliseconds(20);  // how soon a subscriber sees a change
constexpr auto kKeepAliveEvery = std::chrono::seconds(15);  // a comment line: finds readers that went away
constexpr size_t kEventsPerChunk = 512;
constexpr size_t kDefaultPollLimit = 1000;
constexpr size_t kMaxPollLimit = 100000;

uint64_t parse_count(const std::string& value, const char* field, uint64_t max) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long parsed = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || value[0] == '-' || *end != '\0' || errno == ERANGE || parsed > max)
    throw ApiError(400, std::string("invalid ") + field + ": \"" + value + "\" (allowed: an integer from 0 to " +
                            std::to_string(max) + ")");
  return parsed;
}

bool parse_flag(const std::string& value, const char* field) {
  if (value == "1" || value == "true" || value.empty()) return true;
  if (value == "0" || value == "false") return false;
  throw ApiError(400, std::string("invalid ") + field + ": \"" + value + "\" (allowed: 1, true, 0 or false)");
}

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string dropped_json(uint64_t dropped) {
  std::string out;
  json::ObjectWriter o(out);
  o.field("type", "dropped");
  o.field("time_us", now_us());
  o.field("dropped", static_cast<int64_t>(dropped));
  return out;
}

std::string poll_body(const EventJournal::Page& page) {
  std::string out = "[";
  if (page.dropped) out += dropped_json(page.dropped);
  for (const auto& e : page.events) {
    if (out.size() > 1) out += ',';
    out += event_json(e);
  }
  return out + "]";
}

std::string sse_chunk(const EventJournal::Page& page) {
  std::string out;
  if (page.dropped) out += "event: dropped\ndata: " + dropped_json(page.dropped) + "\n\n";
  for (const auto& e : page.events)
    out += "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + event_json(e) + "\n\n";
  return out;
}

}  // namespace

Response Api::events(const Request& r, const std::vector<std::string>&) {
  EventJournal* journal = options_.journal;
  if (!journal) throw ApiError(503, "the event stream is not available in this server");
  std::optional<uint64_t> since;
  if (auto value = query_parameter(r.target, "since")) since = parse_count(*value, "since", UINT64_MAX >> 1);
  else if (!r.last_event_id.empty()) since = parse_count(r.last_event_id, "Last-Event-ID", UINT64_MAX >> 1);
  const bool poll = query_parameter(r.target, "poll").has_value() && parse_flag(*query_parameter(r.target, "poll"), "poll");

  if (poll) {
    size_t limit = kDefaultPollLimit;
    if (auto value = query_parameter(r.target, "limit"))
      limit = static_cast<size_t>(std::max<uint64_t>(1, parse_count(*value, "limit", kMaxPollLimit)));
    const auto page = journal->read_after(since.value_or(0), limit);
    Response response{200, "application/json", poll_body(page), {}};
    response.headers.emplace_back("X-Faultline-Last-Event-Id", std::to_string(page.last_id));
    return response;
  }

  // A new subscriber without a cursor starts from now; the comment line
  // tells it where "now" is, so it could ask for the earlier ones.
  Response response{200, "text/event-stream", "", {{"Cache-Control", "no-cache"}}};
  auto cursor = std::make_shared<uint64_t>(since.value_or(journal->last_id()));
  response.body = ": faultline events after id " + std::to_string(*cursor) + "\n\n";
  auto stream = std::make_shared<ResponseStream>();
  stream->interval = kPollEvery;
  auto quiet_since = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  stream->next = [journal, cursor, quiet_since]() -> std::optional<std::string> {
    const auto page = journal->read_after(*cursor, kEventsPerChunk);
    *cursor = page.last_id;
    std::string chunk = sse_chunk(page);
    const auto now = std::chrono::steady_clock::now();
    if (!chunk.empty()) {
      *quiet_since = now;
    } else if (now - *quiet_since >= kKeepAliveEvery) {
      *quiet_since = now;
      chunk = ": keep-alive\n\n";
    }
    return chunk;
  };
  response.stream = std::move(stream);
  return response;
}

}  // namespace faultline::api
