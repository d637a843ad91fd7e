#pragma once
// Why a request failed, as a client would classify it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace faultline::load {

enum class ErrorClass : uint8_t {
  Timeout,   // no complete reply within --timeout (connecting included)
  Refused,   // the connection was refused (RST to the SYN)
  Reset,     // the connection was reset while in use
  Closed,    // the peer closed the connection before the reply was complete
  Mismatch,  // a reply came, but not the right one (echo differs, protocol error, unexpected status)
  Other,     // anything else the system reported (unreachable, out of descriptors)
};
inline constexpr size_t kErrorClasses = 6;

constexpr std::string_view to_string(ErrorClass e) {
  constexpr std::array<std::string_view, kErrorClasses> names = {"timeout", "refused", "reset", "closed", "mismatch", "other"};
  return names[static_cast<size_t>(e)];
}

using ErrorCounts = std::array<uint64_t, kErrorClasses>;

}  // namespace faultline::load
