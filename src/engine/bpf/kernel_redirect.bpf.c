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
  __u64 peer;       // the cookie of the socket this one's bytes go to
  __u64 delivered;  // the proxy has written on every passed byte up to this count
  __u32 redirect;   // 1: redirect when caught up; 0: pass everything
  __u32 unused;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1 << 20);
  __type(key, __u64);
  __type(value, struct control);
} controls SEC(".maps");

// Written by the program only (the proxy reads them).
struct counts {
  __u64 passed;
  __u64 redirected;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1 << 20);
  __type(key, __u64);
  __type(value, struct counts);
} counters SEC(".maps");

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
  if (c->redirect && n->passed == c->delivered) {
    __sync_fetch_and_add(&n->redirected, skb->len);
    return bpf_sk_redirect_hash(skb, &sockets, &c->peer, 0);
  }
  __sync_fetch_and_add(&n->passed, skb->len);
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
