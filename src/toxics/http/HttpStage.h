#pragma once
// What every HTTP toxic is on a connection. An HTTP toxic spans both streams
// (ToxicType::both_streams): its stage on the upstream chain frames the
// client's requests and asks the toxic, per request, what to do with it
// (HttpVerdict.h); its stage on the downstream chain frames the upstream's
// responses, carries out what was decided for each (delay, abort, pace,
// rewrite) and puts the toxic's own answers between them, so a pipelined
// client gets every answer in the order it asked. The two meet in the
// connection's shared state for the toxic (HttpExchanges).
//
// Several HTTP toxics nest: the registry lists them in the order they were
// added on the request chain and in the reverse order on the response
// chain, so each one sees the requests the ones before it let through and
// the responses to exactly those.
//
// Bytes the toxic does not change pass as they came (StreamEdits). A
// connection whose bytes are not HTTP/1.1, and one that switched protocols
// (Upgrade, CONNECT), is passed through untouched from then on.
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "toxics/ToxicChain.h"
#include "toxics/http/HttpFraming.h"
#include "toxics/http/HttpVerdict.h"
#include "toxics/http/StreamEdits.h"

namespace faultline::http {

class HttpStage;
class RequestMatch;

// One connection's requests not yet answered to the client, in order.
struct HttpExchanges {
  struct Entry {
    bool answered = false;     // by the toxic: the client gets `answer`, not before `not_before`
    std::string answer;
    int answer_status = 0;
    TimePoint not_before{};
    bool close_after = false;  // the request said Connection: close
    bool connect = false;      // a CONNECT: a 2xx answer turns the connection into a tunnel
    ResponsePlan plan;         // forwarded: what happens to the upstream's response
    TimePoint started{};       // when the request's head arrived
  };
  std::deque<Entry> pending;
  HttpStage* response_side = nullptr;
  bool requests_aside = false;   // the request side stepped aside (not HTTP, or switched protocols)
  bool responses_aside = false;  // the response side did
  bool reported = false;         // the stepping aside was reported
};

class HttpStage : public ToxicStage {
 public:
  HttpStage(ToxicChain& chain, ToxicConfigPtr config);
  ~HttpStage() override;

  void start() override;
  void on_chunk(Chunk chunk) override;
  void on_eof() override;
  void stop() override;
  size_t held_bytes() const override { return edits_.held_bytes(); }

  // Response side: the toxic's answers that are next in line go out.
  void queue_answers();

 protected:
  // Request side: the head of a request has arrived (its body may follow).
  virtual RequestVerdict on_request(const HttpHead& head) = 0;
  // Whether the request is one of the toxic's (method, path, headers) and
  // was drawn at the toxic's toxicity (drawn per request).
  bool selected(const HttpHead& head);

 private:
  // How the bytes after the last edit are treated until the next decision.
  enum class Tail { Hold, Pass, Drop, Pace };
  bool request_side() { return context().direction() == Direction::Upstream; }
  HttpExchanges& exchanges();
  void read_requests(std::vector<FramingEvent>& events, bool http);
  void read_responses(std::vector<FramingEvent>& events, bool http);
  void on_request_head(const HttpHead& head, uint64_t head_end);
  void forward_request(const HttpHead& head, uint64_t head_end, const RequestVerdict& verdict);
  void on_response_head(const HttpHead& head, uint64_t head_end);
  void on_response_end(uint64_t end);
  // Applies the tail's treatment up to `until` (and the abort limit, if reached).
  void extend_tail(uint64_t until);
  void set_tail(Tail tail, uint64_t rate = 0);
  void step_aside(const std::string& reason);
  void report_fault(const HttpHead& head, const RequestVerdict& verdict);
  // Whether this stage is the one that counts the connection's requests
  // for /metrics (the outermost HTTP toxic).
  bool measures();
  void send_directly(const std::string& answer);

  HttpFraming framing_;
  StreamEdits edits_;
  bool aside_ = false;
  bool ended_ = false;  // the source's end arrived
  uint64_t message_start_ = 0;
  Tail tail_ = Tail::Hold;
  uint64_t tail_rate_ = 0;
  uint64_t tail_limit_ = UINT64_MAX;  // the body's abort point
  bool tail_limit_reset_ = true;
  bool limit_aborts_at_end_ = false;  // the message ended before the abort point: abort after it
  // Request side.
  bool switching_ = false;  // the request being forwarded asks to switch protocols
  // Response side.
  bool final_status_ = true;  // the response being read is not a 1xx interim one
  bool switched_ = false;     // the response being read switches protocols
  bool counted_ = false;      // the response being read answers a tracked request
  int status_ = 0;
  TimePoint started_{};
  HttpExchanges* exchanges_ = nullptr;  // in the connection's shared state
  // Made once per version of the toxic.
  std::unique_ptr<RequestMatch> match_;
  const ToxicConfig* match_config_ = nullptr;
};

}  // namespace faultline::http
