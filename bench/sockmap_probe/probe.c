// Part of bench/sockmap_probe (see run.sh).
// Proxies one client<->upstream pair entirely in the kernel with the sockmap,
// then switches the client->upstream direction back to user space and back.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

struct peer { unsigned long long peer_key; unsigned int redirect; unsigned int pad; };

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (void*)&a, sizeof a) || listen(fd, 16)) { perror("listen"); exit(1); }
  return fd;
}
static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (void*)&a, sizeof a)) { perror("connect"); exit(1); }
  return fd;
}
static unsigned long long cookie_of(int fd) {
  unsigned long long c = 0; socklen_t l = sizeof c;
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &l);
  return c;
}

int main(void) {
  struct bpf_object* obj = bpf_object__open_file("redirect.bpf.o", NULL);
  if (!obj || bpf_object__load(obj)) { fprintf(stderr, "load failed: %s\n", strerror(errno)); return 1; }
  int socks = bpf_object__find_map_fd_by_name(obj, "socks");
  int peers = bpf_object__find_map_fd_by_name(obj, "peers");
  int counts = bpf_object__find_map_fd_by_name(obj, "counts");
  int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "verdict"));
  if (bpf_prog_attach(prog, socks, BPF_SK_SKB_STREAM_VERDICT, 0)) { perror("attach"); return 1; }

  int upstream_listen = listen_on(29901), proxy_listen = listen_on(29902);
  int client = connect_to(29902);
  int proxy_client = accept(proxy_listen, NULL, NULL);       // the proxy's client side
  int proxy_upstream = connect_to(29901);                      // the proxy's upstream side
  int upstream = accept(upstream_listen, NULL, NULL);

  unsigned long long kc = 1, ku = 2;
  if (bpf_map_update_elem(socks, &kc, &proxy_client, BPF_ANY) || bpf_map_update_elem(socks, &ku, &proxy_upstream, BPF_ANY)) {
    perror("sockhash add"); return 1;
  }
  unsigned long long cc = cookie_of(proxy_client), cu = cookie_of(proxy_upstream), zero = 0;
  struct peer pc = {ku, 1, 0}, pu = {kc, 1, 0};
  bpf_map_update_elem(peers, &cc, &pc, BPF_ANY);
  bpf_map_update_elem(peers, &cu, &pu, BPF_ANY);
  bpf_map_update_elem(counts, &cc, &zero, BPF_ANY);
  bpf_map_update_elem(counts, &cu, &zero, BPF_ANY);

  char buf[65536];
  // Client -> upstream, in the kernel.
  write(client, "hello upstream", 14);
  ssize_t n = read(upstream, buf, sizeof buf);
  printf("upstream got %zd bytes in the kernel: %.*s\n", n, (int)n, buf);
  write(upstream, "hello client", 12);
  n = read(client, buf, sizeof buf);
  printf("client got %zd bytes in the kernel: %.*s\n", n, (int)n, buf);
  // A bulk transfer: 200 MB client -> upstream, timed.
  struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  if (fork() == 0) { static char big[1 << 20]; memset(big, 'x', sizeof big); for (int i = 0; i < 200; i++) write(client, big, sizeof big); _exit(0); }
  long long got = 0; while (got < 200LL << 20) { n = read(upstream, buf, sizeof buf); if (n <= 0) break; got += n; }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  printf("bulk: %lld bytes in %.3f s = %.2f Gbit/s\n", got, s, got * 8 / s / 1e9);
  unsigned long long counted = 0;
  bpf_map_lookup_elem(counts, &cc, &counted);
  printf("bytes counted by the program for the client socket: %llu\n", counted);

  // Ping-pong: 64 B there and back, 20000 times, the upstream echoing from a child process.
  if (fork() == 0) { char e[64]; for (int i = 0; i < 20000; i++) { int k = 0; while (k < 64) { int r = read(upstream, e + k, 64 - k); if (r <= 0) _exit(1); k += r; } write(upstream, e, 64); } _exit(0); }
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < 20000; i++) { write(client, buf, 64); int k = 0; while (k < 64) { int r = read(client, buf + k, 64 - k); if (r <= 0) break; k += r; } }
  clock_gettime(CLOCK_MONOTONIC, &b);
  s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  printf("ping-pong through the sockmap: %.1f us per round trip\n", s / 20000 * 1e6);
  // Switch client->upstream to user space: the verdict passes, the proxy reads.
  pc.redirect = 0;
  bpf_map_update_elem(peers, &cc, &pc, BPF_ANY);
  write(client, "via user space", 14);
  n = read(proxy_client, buf, sizeof buf);
  printf("proxy read %zd bytes itself: %.*s\n", n, (int)n, buf);
  write(proxy_upstream, buf, n);
  n = read(upstream, buf, sizeof buf);
  printf("upstream got %zd: %.*s\n", n, (int)n, buf);
  // Half-close from the client: what does the proxy see?
  pc.redirect = 1;
  bpf_map_update_elem(peers, &cc, &pc, BPF_ANY);
  shutdown(client, SHUT_WR);
  n = read(proxy_client, buf, sizeof buf);
  printf("after client FIN, proxy read on its client side returns %zd (0 = EOF)\n", n);
  return 0;
}
