#pragma once
// What an HTTP toxic decides about one request, and so about its response.
// The toxic decides once, when the request's head has arrived; HttpStage
// carries the decision out on both streams.
#include <cstdint>
#include <optional>
#include <string>

#include "engine/Clock.h"
#include "toxics/http/HeadEdit.h"

namespace faultline::http {

// What happens to the upstream's response to a forwarded request.
struct ResponsePlan {
  enum class Abort {
    None,
    BeforeResponse,  // the request reached the upstream; the client sees none of the response
    AfterBodyBytes,  // the head and `abort_after` bytes of the body, then the connection ends
  };
  Nanos delay{0};  // before its first byte
  Abort abort = Abort::None;
  uint64_t abort_after = 0;
  bool reset = true;         // an abort ends the connection with RST (or else FIN)
  uint64_t body_rate = 0;    // bytes per second for the body (0: as it comes)
  HeadRewrite rewrite;       // changes to its head
};

struct RequestVerdict {
  enum class Action {
    Forward,  // to the upstream (after `delay`), its response handled as `response` says
    Answer,   // not forwarded: the client gets `answer` (after `delay`)
    Abort,    // not forwarded: the connection ends now (after `delay`), RST when `reset`
  };
  Action action = Action::Forward;
  Nanos delay{0};
  std::string answer;       // Answer: a whole HTTP/1.1 response
  int answer_status = 0;    // Answer: its status
  bool reset = true;        // Abort
  bool strip_control_fields = false;  // Forward: x-faultline-* fields do not reach the upstream
  ResponsePlan response;    // Forward

  // For the chaos event and the metrics; empty when nothing was done to the request.
  std::string fault;        // "503", "delay 300 ms", "reset before request", ...
  std::string fault_kind;   // "error", "delay", "abort", "slow_body", "rewrite"
  std::string fault_status; // the status the client gets when the fault sets one, else "upstream", "reset", "closed"
};

}  // namespace faultline::http
