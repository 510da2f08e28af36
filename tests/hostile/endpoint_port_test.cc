// An endpoint's scoring URL is what its clients are configured with: a host
// killed and restored by the next apply must come back on the same port
// (issue 12, item 9: it moved 45385 -> 58055 -> 49657).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

std::string EndpointDir(const QuickstartFolder& quickstart) { return quickstart.str() + "/.amlc/endpoints/iris"; }

void KillHost(const QuickstartFolder& quickstart) {
  std::ifstream in(EndpointDir(quickstart) + "/endpoint-host.pid");
  long pid = 0;
  in >> pid;
  REQUIRE(pid > 0);
  REQUIRE(kill(static_cast<pid_t>(pid), SIGKILL) == 0);
  // Gone once signal 0 fails (it is init's child, reaped there).
  for (int i = 0; i < 600 && kill(static_cast<pid_t>(pid), 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int PortOf(const std::string& url) {
  size_t colon = url.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
}

// A listening socket on 127.0.0.1:port, closed when it goes.
class PortSquatter {
 public:
  explicit PortSquatter(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && listen(fd_, 1) == 0;
  }
  ~PortSquatter() { close(fd_); }
  bool bound() const { return bound_; }

 private:
  int fd_;
  bool bound_ = false;
};

}  // namespace

TEST_CASE("an endpoint restored after its host is killed keeps its scoring URL", "[hostile][deploy]") {
  QuickstartFolder quickstart;
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  std::string url = quickstart.ScoringUri();
  REQUIRE(PortOf(url) > 0);
  for (int restore = 0; restore < 2; ++restore) {
    KillHost(quickstart);
    REQUIRE(quickstart.Apply(&out) == 0);
    CHECK(quickstart.ScoringUri() == url);
    CHECK(quickstart.Score(quickstart.Key()) == 200);
  }

  // When another process took the port meanwhile, the endpoint still comes
  // back, on a new port, and its host's log says why the URL changed.
  KillHost(quickstart);
  PortSquatter squatter(PortOf(url));
  REQUIRE(squatter.bound());
  REQUIRE(quickstart.Apply(&out) == 0);
  std::string moved = quickstart.ScoringUri();
  CHECK(PortOf(moved) > 0);
  CHECK(moved != url);
  CHECK(quickstart.Score(quickstart.Key()) == 200);
  std::ifstream log(EndpointDir(quickstart) + "/endpoint-host.log");
  std::stringstream text;
  text << log.rdbuf();
  CHECK(text.str().find("port " + std::to_string(PortOf(url)) + ", where this endpoint listened before, is taken") !=
        std::string::npos);
}
