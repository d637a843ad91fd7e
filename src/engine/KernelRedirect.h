#pragma once
// The in-kernel fast path (-fast-path bpf): the BPF program of
// engine/bpf/kernel_redirect.bpf.c, attached to a sockhash, and its maps.
// A connection joins with both of its sockets; from then on each direction
// is either redirected by the kernel or passed to the proxy's reader, as
// its Link decides (engine/Link.cpp: arm_kernel, disarm_kernel).
//
// One per server, shared by every worker: map updates are system calls and
// safe from any thread.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

struct bpf_object;

namespace faultline {

class KernelRedirect {
 public:
  // Loads the program and attaches it; nullptr and a reason in `why_not`
  // when the build, the kernel or the privileges do not allow it.
  static std::unique_ptr<KernelRedirect> open(std::string& why_not);
  ~KernelRedirect();
  KernelRedirect(const KernelRedirect&) = delete;
  KernelRedirect& operator=(const KernelRedirect&) = delete;

  struct Counts {
    uint64_t passed = 0;      // bytes the program gave to the proxy's reader
    uint64_t redirected = 0;  // bytes it sent straight to the peer socket
  };
  // How a socket's bytes are treated from its first buffer in the map.
  struct Start {
    bool redirect = false;  // straight to the peer (the proxy holds none of this direction's bytes)
    uint64_t written = 0;   // what the proxy has written to the peer, as `control` counts it
    uint64_t hold_key = 0;  // hold_key() of the socket's proxy and direction
  };
  // Puts both sockets of a connection in the map. None: the kernel refused
  // the first, nothing is left behind. FirstOnly: `a` is in the map for good
  // (it passes everything; its bytes are read, never spliced), `b` is not.
  enum class Joined { None, FirstOnly, Both };
  Joined join(int a, int b, const Start& start_a, const Start& start_b, uint64_t& cookie_a, uint64_t& cookie_b);
  // Forgets a socket's entries (its sockhash entry goes when it is closed).
  void leave(uint64_t cookie);
  // Redirect the socket's bytes to `peer` once the proxy has delivered
  // `delivered` passed bytes (redirect), or pass them all (!redirect).
  // `written`: what the proxy itself has written to `peer`, counted as the
  // kernel counts it (see syn_in_acked_count).
  bool control(uint64_t cookie, uint64_t peer, uint64_t hold_key, bool redirect, uint64_t delivered, uint64_t written);
  Counts counts(uint64_t cookie) const;

  // While a proxy's direction has toxics, the program passes all of its
  // sockets' bytes, whatever their control entries say; a Link taking its
  // direction back for a toxic then needs no system call of its own.
  static uint64_t hold_key(uint64_t proxy_id, int direction) { return proxy_id * 2 + static_cast<uint64_t>(direction); }
  bool hold(uint64_t key, bool held);  // false: the kernel refused (the Links then switch one by one)
  bool held(uint64_t key) const;

 private:
  KernelRedirect() = default;
  mutable std::mutex held_mutex_;
  std::unordered_set<uint64_t> held_;  // the keys the map holds, for the loops to ask without a system call
  bpf_object* object_ = nullptr;
  int sockets_ = -1, controls_ = -1, counters_ = -1, holds_ = -1, program_ = -1;
};

// What the kernel says of one TCP socket: the bytes it received in order,
// and the bytes written to it so far (acknowledged plus still queued).
struct SocketTotals {
  uint64_t received = 0;
  uint64_t written = 0;
};
bool socket_totals(int fd, bool connected_by_us, SocketTotals& out);

// The kernel's count of acknowledged bytes includes the SYN on a socket
// that connected (not on an accepted one): 1 to take off there.
inline uint64_t syn_in_acked_count(bool connected_by_us) { return connected_by_us ? 1 : 0; }

}  // namespace faultline
