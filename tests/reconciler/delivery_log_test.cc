// The replay memory of the webhook: deliveries recorded, remembered for a
// window, bounded in number, and kept across a restart in a 0600 file.
#include "reconciler/server/delivery_log.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_support.h"

namespace rc = amlc::reconciler;

TEST_CASE("a delivery is new once, then a replay within the window", "[reconciler][webhook]") {
  rc::DeliveryLog log("", /*window_seconds=*/100, /*capacity=*/10);
  REQUIRE(log.Load(1000).ok());
  CHECK_FALSE(log.SeenOrRecord({"delivery:a", "payload:x"}, 1000));
  CHECK(log.SeenOrRecord({"delivery:a", "payload:x"}, 1001));
  CHECK(log.SeenOrRecord({"delivery:b", "payload:x"}, 1002));  // same payload, new id
  CHECK(log.SeenOrRecord({"delivery:a", "payload:y"}, 1003));  // same id, new payload
  CHECK_FALSE(log.SeenOrRecord({"delivery:c", "payload:z"}, 1004));
  // After the window the first one is forgotten.
  CHECK_FALSE(log.SeenOrRecord({"delivery:a", "payload:x"}, 1100));
}

TEST_CASE("the delivery log holds at most its capacity", "[reconciler][webhook]") {
  rc::DeliveryLog log("", 1000000, /*capacity=*/50);
  for (int i = 0; i < 500; ++i) CHECK_FALSE(log.SeenOrRecord({"delivery:" + std::to_string(i)}, 10 + i));
  CHECK(log.size() == 50);
  CHECK(log.SeenOrRecord({"delivery:499"}, 600));
  CHECK_FALSE(log.SeenOrRecord({"delivery:0"}, 600));  // the oldest went first
}

TEST_CASE("two copies of a delivery at once: exactly one is new", "[reconciler][webhook]") {
  rc::DeliveryLog log("");
  std::vector<int> fresh(16, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] { fresh[i] = !log.SeenOrRecord({"delivery:same"}, 5); });
  }
  for (std::thread& thread : threads) thread.join();
  int count = 0;
  for (int f : fresh) count += f;
  CHECK(count == 1);
}

TEST_CASE("the delivery log survives a restart in a private file", "[reconciler][webhook]") {
  amlc::testing::SpecDir dir;
  std::string path = dir.str() + "/webhook-deliveries";
  {
    rc::DeliveryLog log(path, 100, 10);
    REQUIRE(log.Load(1000).ok());
    CHECK_FALSE(log.SeenOrRecord({"delivery:old"}, 900 + 5));
    CHECK_FALSE(log.SeenOrRecord({"delivery:kept"}, 1000));
  }
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  std::ofstream(path, std::ios::app) << "garbage line\n12 notadigest\n";
  rc::DeliveryLog restarted(path, 100, 10);
  REQUIRE(restarted.Load(1010).ok());
  CHECK(restarted.size() == 1);  // "old" expired, garbage dropped
  CHECK(restarted.SeenOrRecord({"delivery:kept"}, 1011));
  CHECK_FALSE(restarted.SeenOrRecord({"delivery:old"}, 1011));
  CHECK(amlc::testing::ReadFile(path).find("garbage") == std::string::npos);
}
