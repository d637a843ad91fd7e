#pragma once
// Accepts a TCP proxy's clients on one loop: a watch on the listening socket
// that every loop shares (EPOLLEXCLUSIVE wakes one loop per client, which
// spreads accepts across the cores), and a Connection per accepted client.
#include "engine/Transport.h"

namespace faultline {

class TcpListener final : public ProxyListener, public IoHandler {
 public:
  TcpListener(Worker& worker, LoopProxy& proxy);
  ~TcpListener() override;

  void start() override;
  int stop_accepting() override;
  void pause_for_descriptors() override;
  void on_io(uint32_t events) override;

 private:
  void accept_batch();
  void resume();

  Worker& worker_;
  LoopProxy& proxy_;
  bool accepting_ = false;
  Timer retry_;  // after running out of descriptors
};

}  // namespace faultline
