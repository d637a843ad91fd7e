#pragma once
// What every HTTP toxic is on a connection. An HTTP toxic spans both streams
// (ToxicType::both_streams): its stage on the upstream chain frames the
// client's requests and asks the toxic, per request, whether to forward it
// or answer it itself; its stage on the downstream chain frames the
// upstream's responses and puts the toxic's answers between them, so a
// pipelined client gets every answer in the order it asked. The two meet in
// the connection's shared state for the toxic (HttpExchanges).
//
// Bytes the toxic does not change pass as they came. A connection whose
// bytes are not HTTP/1.1, and one that switched protocols (Upgrade,
// CONNECT), is passed through untouched from then on.
#include <deque>
#include <string>
#include <vector>

#include "toxics/ToxicChain.h"
#include "toxics/http/HttpFraming.h"

namespace faultline::http {

// What the toxic does with one request.
struct RequestVerdict {
  enum class Action { Forward, Answer };
  Action action = Action::Forward;
  std::string answer;  // Answer: a whole HTTP/1.1 response
  std::string fault;   // Answer: for the chaos event, as "503"
};

class HttpStage;

// One connection's requests not yet answered to the client, in order.
struct HttpExchanges {
  struct Entry {
    bool answered = false;  // by the toxic (then `answer` is what the client gets)
    std::string answer;
    bool close_after = false;  // the request said Connection: close
  };
  std::deque<Entry> pending;
  HttpStage* response_side = nullptr;
  bool passthrough = false;  // not HTTP, or switched protocols: both sides step aside
};

class HttpStage : public ToxicStage {
 public:
  HttpStage(ToxicChain& chain, ToxicConfigPtr config);
  ~HttpStage() override;

  void start() override;
  void on_chunk(Chunk chunk) override;
  void on_eof() override;
  void stop() override;
  size_t held_bytes() const override { return held_bytes_; }

  // Response side: gives the client the toxic's answers that are next in line.
  void flush_answers();

 protected:
  // Request side: the head of a request has arrived (its body may follow).
  virtual RequestVerdict on_request(const HttpHead& head) = 0;
  // Whether this request gets the fault, at the toxic's toxicity (drawn per request).
  bool drawn();

 private:
  enum class Mode { AwaitHead, Forwarding, Swallowing, Passthrough };
  bool request_side() { return context().direction() == Direction::Upstream; }
  HttpExchanges& exchanges();
  void on_request_bytes(Chunk chunk);
  void on_response_bytes(Chunk chunk);
  void on_request_head(const HttpHead& head, uint64_t head_end);
  void step_aside(const std::string& reason);
  // Request side: the held bytes before stream offset `until` go on (`forward`) or are dropped.
  void dispose_until(uint64_t until, bool forward);
  void emit_answer(const HttpExchanges::Entry& entry);

  HttpFraming framing_;
  Mode mode_ = Mode::AwaitHead;
  bool switching_ = false;  // the request being forwarded asks to switch protocols
  // Request side: bytes not yet forwarded or dropped, from stream offset held_at_.
  std::deque<Chunk> held_;
  uint64_t held_at_ = 0;
  size_t held_bytes_ = 0;
  // Response side: stream offset of the next byte to pass.
  uint64_t passed_at_ = 0;
  bool final_status_ = true;  // the response being read is not a 1xx interim one
  bool switched_ = false;     // the response being read switches protocols
};

}  // namespace faultline::http
