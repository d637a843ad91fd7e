#include "ToxicTestSupport.h"

#include <thread>

namespace faultline::test {

using Slicer = ToxicTest;

TEST_F(Slicer, CutsDataIntoPiecesSpacedByTheDelay) {
  // 64 bytes, 8-byte pieces, 50 ms after each: about 400 ms in all.
  add_toxic(R"({"type":"slicer","attributes":{"average_size":8,"size_variation":0,"delay":50000}})");
  Socket s = connect();
  const std::string payload = random_bytes(64, 2);
  const auto start = Clock::now();
  s.send(payload);
  ReadResult r = recv_exact(s.fd(), 64, std::chrono::seconds(5));
  EXPECT_TRUE(r.data == payload);
  EXPECT_GE(ms_since(start), 340);
  EXPECT_LT(ms_since(start), 1500);
}

TEST_F(Slicer, FirstPieceComesAloneBeforeTheRest) {
  add_toxic(R"({"type":"slicer","attributes":{"average_size":10,"size_variation":0,"delay":200000}})");
  Socket s = connect();
  s.send(std::string(40, 'x'));
  ReadResult first = recv_exact(s.fd(), 40, std::chrono::milliseconds(150));
  EXPECT_GT(first.data.size(), 0u);
  EXPECT_LT(first.data.size(), 40u) << "the whole chunk came at once: not sliced";
}

TEST_F(Slicer, LargePayloadWithVariationArrivesIntact) {
  add_toxic(R"({"type":"slicer","stream":"upstream","attributes":{"average_size":700,"size_variation":300,"delay":0}})");
  add_toxic(R"({"type":"slicer","stream":"downstream","attributes":{"average_size":1000,"size_variation":5000,"delay":0}})");
  Socket s = connect();
  const std::string payload = random_bytes(2 * 1024 * 1024, 4);
  std::thread writer([&] { s.send(payload); });
  ReadResult r = recv_exact(s.fd(), payload.size(), std::chrono::seconds(30));
  writer.join();
  EXPECT_TRUE(r.data == payload);
}

TEST_F(Slicer, AverageSizeZeroPassesChunksUnsliced) {
  add_toxic(R"({"type":"slicer","attributes":{"average_size":0,"size_variation":0,"delay":0}})");
  Socket s = connect();
  EXPECT_GT(round_trip_ms(s, std::string(5000, 'z')), 0);
  // The server is alive and well (the reference crashes here).
  EXPECT_EQ(server_->api().get("/version").status, 200);
}

using Noop = ToxicTest;

TEST_F(Noop, PassesDataUnchangedBothWays) {
  add_toxic(R"({"type":"noop","stream":"upstream"})");
  add_toxic(R"({"type":"noop","stream":"downstream"})");
  Socket s = connect();
  const std::string payload = random_bytes(1024 * 1024, 8);
  std::thread writer([&] { s.send(payload); });
  ReadResult r = recv_exact(s.fd(), payload.size(), std::chrono::seconds(20));
  writer.join();
  EXPECT_TRUE(r.data == payload);
}

}  // namespace faultline::test
