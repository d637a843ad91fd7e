#pragma once
// A fault a toxic caused on a connection, as data: logs, metrics and (later)
// the event stream all read the same record instead of parsing log text.
#include <cstdint>
#include <string_view>

#include "engine/Clock.h"
#include "model/Direction.h"

namespace faultline {

enum class ChaosEventKind : uint8_t {
  ToxicApplied,        // a toxic began to act on a connection
  TimeoutFired,        // timeout closed the connection
  ResetSent,           // reset_peer sent RSTs
  ResetOnRemoval,      // a swallowing toxic went away: the stream has a hole, so RST
  DataLimitReached,    // limit_data closed the connection
  ConnectionRefused,   // a toxic refused the client at accept (RST)
  ConnectionClosedAtAccept,  // drop closed the client at accept (FIN)
  ConnectionBlackholed,      // drop kept the client, never answering it
  ConnectDelayed,            // drop made the upstream connect wait
  DataCorrupted,             // corrupt flipped bits (detail: the stream offsets)
  HttpRequestFaulted,        // an HTTP toxic faulted a request (detail: "GET /path -> 503")
  HttpPassthrough,           // an HTTP toxic stepped aside: the bytes are not HTTP/1.1 (detail: why)
};
inline constexpr size_t kChaosEventKinds = 12;

constexpr std::string_view describe(ChaosEventKind kind) {
  switch (kind) {
    case ChaosEventKind::ToxicApplied: return "toxic applied";
    case ChaosEventKind::TimeoutFired: return "timeout fired";
    case ChaosEventKind::ResetSent: return "reset sent";
    case ChaosEventKind::ResetOnRemoval: return "reset sent on removal";
    case ChaosEventKind::DataLimitReached: return "data limit reached";
    case ChaosEventKind::ConnectionRefused: return "connection refused";
    case ChaosEventKind::ConnectionClosedAtAccept: return "connection closed at accept";
    case ChaosEventKind::ConnectionBlackholed: return "connection blackholed";
    case ChaosEventKind::ConnectDelayed: return "connect delayed";
    case ChaosEventKind::DataCorrupted: return "data corrupted";
    case ChaosEventKind::HttpRequestFaulted: return "http request faulted";
    case ChaosEventKind::HttpPassthrough: return "not http: passed through";
  }
  return "?";
}

// What an HTTP toxic did to one request: the event stream shows it field by field.
struct HttpFault {
  std::string_view method;
  std::string_view target;  // "/path?query"
  std::string_view fault;   // "error", "delay", "abort", "slow_body", "rewrite"
  std::string_view status;  // what the client gets: "503", or "upstream", "reset", "closed"
};

struct ChaosEvent {
  ChaosEventKind kind;
  TimePoint when;
  std::string_view proxy;
  uint64_t connection;  // the proxy's connection number
  std::string_view toxic;
  std::string_view toxic_type;
  Direction direction;
  std::string_view detail = {};  // what exactly, when the kind has more to say
};

// Told, from the event loops, of the faults worth an entry on the event
// stream (each faulted HTTP request). Must not block for long: it runs on
// the data path.
class ChaosObserver {
 public:
  virtual void http_fault(const ChaosEvent& event, const HttpFault& fault) = 0;

 protected:
  ~ChaosObserver() = default;
};

}  // namespace faultline
