// Probe: a sockhash keyed by a u64 id; each socket's value in `peers` is its peer's key.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, __u32);
} socks SEC(".maps");

struct peer { __u64 peer_key; __u32 redirect; __u32 pad; };
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);   // socket cookie
  __type(value, struct peer);
} peers SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);   // socket cookie
  __type(value, __u64); // bytes redirected
} counts SEC(".maps");

SEC("sk_skb/stream_verdict")
int verdict(struct __sk_buff *skb) {
  __u64 cookie = bpf_get_socket_cookie(skb);
  struct peer *p = bpf_map_lookup_elem(&peers, &cookie);
  if (!p || !p->redirect) return SK_PASS;
  __u64 *c = bpf_map_lookup_elem(&counts, &cookie);
  if (c) __sync_fetch_and_add(c, skb->len);
  return bpf_sk_redirect_hash(skb, &socks, &p->peer_key, 0);
}

char LICENSE[] SEC("license") = "GPL";
