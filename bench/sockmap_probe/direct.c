// Part of bench/sockmap_probe (see run.sh).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0), on = 1; setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(29911), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(l, (void*)&a, sizeof a); listen(l, 4);
  int c = socket(AF_INET, SOCK_STREAM, 0); connect(c, (void*)&a, sizeof a); int u = accept(l, 0, 0);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on); setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  char buf[64];
  if (fork() == 0) { for (int i = 0; i < 20000; i++) { int k = 0; while (k < 64) { int r = read(u, buf + k, 64 - k); if (r <= 0) _exit(1); k += r; } write(u, buf, 64); } _exit(0); }
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 20000; i++) { write(c, buf, 64); int k = 0; while (k < 64) { int r = read(c, buf + k, 64 - k); if (r <= 0) break; k += r; } }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("direct ping-pong: %.1f us per round trip\n", ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9) / 20000 * 1e6);
}
