// The in-kernel fast path (-fast-path bpf): a stream verdict program on a
// sockhash that holds both sockets of every proxied connection joined to
// it, keyed by socket cookie. For each buffer a socket receives it either
// redirects the buffer to the peer socket's output (the proxy never sees
// it) or passes it to the socket's reader (the proxy, for toxics).
//
// Handing a live stream over between the two without reordering rests on
// two counts the program keeps per socket (`passed`, `redirected`) and one
// the proxy keeps (`delivered`: how much of what was passed it has written
// on). A buffer is redirected only when the proxy has delivered everything
// passed before it; see docs/performance.md ("The in-kernel fast path").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 1 << 20);
  __type(key, __u64);    // socket cookie
  __type(value, __u64);  // (the socket)
} sockets SEC(".maps");

// Written by the proxy only.
struct control {
  __u64 peer;           // the cookie of the socket this one's bytes go to
  __u64 delivered;      // the proxy has written on every passed byte up to this count
  __u64 written;        // bytes the proxy itself had written to the peer socket then
  __u64 hold_key;       // the proxy and direction this socket's bytes belong to (see holds)
  __u32 redirect;       // 1: redirect when caught up; 0: pass everything
  __u32 backlog_limit;  // most redirected bytes that may wait for room in the peer socket
};
// The hash maps hold an entry per joined socket, allocated when it joins
// (BPF_F_NO_PREALLOC): a server with few connections pays for few. The proxy
// sizes all three maps to its descriptor limit when it loads the program.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 20);
  __type(key, __u64);
  __type(value, struct control);
} controls SEC(".maps");

// Written by the proxy only: a proxy's direction that has toxics. Its
// sockets pass everything, so a toxic added to a proxy with thousands of
// connections costs one map update, not one per connection.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 16);
  __type(key, __u64);  // proxy id * 2 + direction
  __type(value, __u32);
} holds SEC(".maps");

// Written by the program only (the proxy reads them).
struct counts {
  __u64 passed;
  __u64 redirected;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 20);
  __type(key, __u64);
  __type(value, struct counts);
} counters SEC(".maps");

// The few fields of the kernel's TCP socket read here; libbpf finds their
// offsets in the running kernel's BTF when it loads the program (CO-RE).
struct tcp_sock___faultline {
  __u32 write_seq;
  __u32 snd_una;
  __u64 bytes_acked;
} __attribute__((preserve_access_index));

// A redirected buffer waits in the kernel until the peer socket has room:
// nothing stops the sender meanwhile (the verdict has consumed the bytes,
// so TCP's window stays open). The program therefore redirects only while
// fewer than `backlog_limit` redirected bytes wait; beyond that it passes,
// the proxy reads, and the proxy's bounded queue and TCP's window hold the
// sender back as on the splice path.
static __always_inline int peer_has_room(struct control *c, struct counts *n, __u32 len) {
  struct bpf_sock *peer = bpf_map_lookup_elem(&sockets, &c->peer);
  if (!peer) return 0;
  struct tcp_sock___faultline *tp = (void *)bpf_skc_to_tcp_sock(peer);
  int room = 0;
  if (tp) {
    __u64 in_socket = tp->bytes_acked + (__u32)(tp->write_seq - tp->snd_una);
    __u64 sent = c->written + n->redirected;
    room = sent <= in_socket || sent - in_socket + len <= c->backlog_limit;
  }
  bpf_sk_release(peer);
  return room;
}

SEC("sk_skb/stream_verdict")
int redirect_or_pass(struct __sk_buff *skb) {
  __u64 cookie = bpf_get_socket_cookie(skb);
  struct control *c = bpf_map_lookup_elem(&controls, &cookie);
  struct counts *n = bpf_map_lookup_elem(&counters, &cookie);
  if (!c || !n) return SK_PASS;
  // An empty buffer carries the peer's FIN, which the socket has already
  // taken note of (a read returns 0 once the bytes before it are read); the
  // proxy forwards the end of the stream itself. The buffer must not go on:
  // redirected, or passed while the socket's kernel queue is busy, the
  // kernel's sender takes its empty send for a broken pipe, marks the
  // socket with EPIPE and drops everything queued behind it.
  if (skb->len == 0) return SK_DROP;
  // One socket's verdicts run one at a time, in order: plain reads are exact.
  if (c->redirect && n->passed == c->delivered && !bpf_map_lookup_elem(&holds, &c->hold_key) &&
      peer_has_room(c, n, skb->len)) {
    __sync_fetch_and_add(&n->redirected, skb->len);
    return bpf_sk_redirect_hash(skb, &sockets, &c->peer, 0);
  }
  __sync_fetch_and_add(&n->passed, skb->len);
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
