#include "engine/KernelRedirect.h"

#include <linux/sockios.h>
#include <netinet/in.h>  // IPPROTO_TCP
#include <linux/tcp.h>  // struct tcp_info with the byte totals (glibc's may lack them)
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

#include "api/EmbeddedFiles.h"

#if FAULTLINE_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#endif

namespace faultline {

#if FAULTLINE_HAVE_BPF
namespace bpf {
std::span<const EmbeddedFile> files();  // the compiled program (cmake/EmbedFiles.cmake)
}

namespace {

// Must match the program's structs.
struct Control {
  uint64_t peer;
  uint64_t delivered;
  uint64_t written;
  uint64_t hold_key;
  uint32_t redirect;
  uint32_t backlog_limit;
};

// Redirected bytes that may wait in the kernel for room in a peer socket
// whose reader is slow (beyond that, the program passes and TCP's window
// holds the sender back): about one full socket buffer.
constexpr uint32_t kBacklogLimit = 4u << 20;

uint64_t cookie_of(int fd) {
  uint64_t cookie = 0;
  socklen_t length = sizeof cookie;
  if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &length) != 0) return 0;
  return cookie;
}

int silent_libbpf(enum libbpf_print_level, const char*, va_list) { return 0; }

// The sockmap's TCP end-of-stream handling was reworked in 6.5; the path is
// tested on later kernels only (6.18 here), so older ones use splice.
constexpr int kOldestKernel[2] = {6, 6};

bool kernel_is_recent_enough(std::string& release) {
  utsname u{};
  if (::uname(&u) != 0) return false;
  release = u.release;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > kOldestKernel[0] || (major == kOldestKernel[0] && minor >= kOldestKernel[1]);
}

// A socket needs a descriptor, so the maps need no more entries than the
// process may open. Sized so, the sockhash's buckets (16 bytes each, all
// allocated at load) cost 16 MB only where a million descriptors are allowed;
// the two hash maps allocate an entry per socket as it joins.
void size_maps_to_descriptor_limit(bpf_object* object) {
  rlimit limit{};
  uint64_t entries = 1u << 20;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) entries = limit.rlim_cur;
  entries = std::clamp<uint64_t>(entries, 1024, 1u << 22);
  for (const char* name : {"sockets", "controls", "counters"})  // not "holds": one entry per proxy direction
    if (bpf_map* map = bpf_object__find_map_by_name(object, name)) bpf_map__set_max_entries(map, static_cast<uint32_t>(entries));
}

}  // namespace

std::unique_ptr<KernelRedirect> KernelRedirect::open(std::string& why_not) {
  std::string release;
  if (!kernel_is_recent_enough(release)) {
    why_not = "kernel " + release + " is older than 6.6, whose sockmap end-of-stream handling the fast path relies on";
    return nullptr;
  }
  libbpf_set_print(silent_libbpf);
  const auto program = bpf::files()[0].bytes();
  std::unique_ptr<KernelRedirect> k(new KernelRedirect);
  k->object_ = bpf_object__open_mem(program.data(), program.size(), nullptr);
  if (!k->object_) {
    why_not = std::string("cannot open the BPF program: ") + std::strerror(errno);
    return nullptr;
  }
  size_maps_to_descriptor_limit(k->object_);
  if (const int rc = bpf_object__load(k->object_); rc != 0) {
    why_not = std::string("the kernel refused the BPF program (needs CAP_BPF and CAP_NET_ADMIN, or root): ") + std::strerror(-rc);
    return nullptr;
  }
  k->sockets_ = bpf_object__find_map_fd_by_name(k->object_, "sockets");
  k->controls_ = bpf_object__find_map_fd_by_name(k->object_, "controls");
  k->counters_ = bpf_object__find_map_fd_by_name(k->object_, "counters");
  k->holds_ = bpf_object__find_map_fd_by_name(k->object_, "holds");
  bpf_program* verdict = bpf_object__find_program_by_name(k->object_, "redirect_or_pass");
  k->program_ = verdict ? bpf_program__fd(verdict) : -1;
  if (k->sockets_ < 0 || k->controls_ < 0 || k->counters_ < 0 || k->holds_ < 0 || k->program_ < 0) {
    why_not = "the BPF program lacks its maps";
    return nullptr;
  }
  if (bpf_prog_attach(k->program_, k->sockets_, BPF_SK_SKB_STREAM_VERDICT, 0) != 0) {
    why_not = std::string("cannot attach the stream verdict program to the sockhash: ") + std::strerror(errno);
    return nullptr;
  }
  return k;
}

KernelRedirect::~KernelRedirect() {
  if (program_ >= 0 && sockets_ >= 0) bpf_prog_detach2(program_, sockets_, BPF_SK_SKB_STREAM_VERDICT);
  if (object_) bpf_object__close(object_);
}

KernelRedirect::Joined KernelRedirect::join(int a, int b, const Start& start_a, const Start& start_b,
                                            uint64_t& cookie_a, uint64_t& cookie_b) {
  cookie_a = cookie_of(a);
  cookie_b = cookie_of(b);
  if (cookie_a == 0 || cookie_b == 0) return Joined::None;
  const Counts zero{};
  // Control and counters first: the program passes a socket it has no entries for.
  if (!control(cookie_a, cookie_b, start_a.hold_key, start_a.redirect, 0, start_a.written) ||
      !control(cookie_b, cookie_a, start_b.hold_key, start_b.redirect, 0, start_b.written) ||
      bpf_map_update_elem(counters_, &cookie_a, &zero, BPF_ANY) != 0 ||
      bpf_map_update_elem(counters_, &cookie_b, &zero, BPF_ANY) != 0) {
    leave(cookie_a);
    leave(cookie_b);
    return Joined::None;
  }
  uint64_t fd_a = static_cast<uint64_t>(a), fd_b = static_cast<uint64_t>(b);
  if (bpf_map_update_elem(sockets_, &cookie_a, &fd_a, BPF_NOEXIST) != 0) {
    leave(cookie_a);
    leave(cookie_b);
    return Joined::None;
  }
  // The second can fail too (e.g. its peer's FIN arrived: a socket no longer
  // established is refused). The first must then stay: taking a socket out
  // of the map drops what the program passed and the proxy has not read
  // yet. Without its peer in the map the program passes all it gets.
  if (bpf_map_update_elem(sockets_, &cookie_b, &fd_b, BPF_NOEXIST) != 0) {
    control(cookie_a, cookie_b, start_a.hold_key, false, 0, 0);
    leave(cookie_b);
    return Joined::FirstOnly;
  }
  return Joined::Both;
}

void KernelRedirect::leave(uint64_t cookie) {
  bpf_map_delete_elem(controls_, &cookie);
  bpf_map_delete_elem(counters_, &cookie);
}

bool KernelRedirect::control(uint64_t cookie, uint64_t peer, uint64_t hold_key, bool redirect, uint64_t delivered,
                             uint64_t written) {
  const Control c{peer, delivered, written, hold_key, redirect ? 1u : 0u, kBacklogLimit};
  return bpf_map_update_elem(controls_, &cookie, &c, BPF_ANY) == 0;
}

bool KernelRedirect::hold(uint64_t key, bool held) {
  std::lock_guard lock(held_mutex_);
  if (held == held_.contains(key)) return true;
  const uint32_t one = 1;
  if (held ? bpf_map_update_elem(holds_, &key, &one, BPF_ANY) != 0 : bpf_map_delete_elem(holds_, &key) != 0) return false;
  if (held) held_.insert(key);
  else held_.erase(key);
  return true;
}

bool KernelRedirect::held(uint64_t key) const {
  std::lock_guard lock(held_mutex_);
  return held_.contains(key);
}

KernelRedirect::Counts KernelRedirect::counts(uint64_t cookie) const {
  Counts c;
  if (bpf_map_lookup_elem(counters_, &cookie, &c) != 0) return {};
  return c;
}

#else  // built without clang or libbpf

std::unique_ptr<KernelRedirect> KernelRedirect::open(std::string& why_not) {
  why_not = "this build has no BPF support (clang and libbpf-dev were missing when it was built)";
  return nullptr;
}
KernelRedirect::~KernelRedirect() = default;
KernelRedirect::Joined KernelRedirect::join(int, int, const Start&, const Start&, uint64_t&, uint64_t&) {
  return Joined::None;
}
void KernelRedirect::leave(uint64_t) {}
bool KernelRedirect::control(uint64_t, uint64_t, uint64_t, bool, uint64_t, uint64_t) { return false; }
bool KernelRedirect::hold(uint64_t, bool) { return false; }
bool KernelRedirect::held(uint64_t) const { return false; }
KernelRedirect::Counts KernelRedirect::counts(uint64_t) const { return {}; }

#endif

bool socket_totals(int fd, bool connected_by_us, SocketTotals& out) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return false;
  int queued = 0;  // written, not yet acknowledged
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0) return false;
  out.received = info.tcpi_bytes_received;
  const uint64_t syn = info.tcpi_bytes_acked > 0 ? syn_in_acked_count(connected_by_us) : 0;
  out.written = info.tcpi_bytes_acked + static_cast<uint64_t>(queued) - syn;
  return true;
}

}  // namespace faultline
