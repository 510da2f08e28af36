// Implementation notes: the request runs on a detached thread that holds the
// shared state, so a replica that goes away (or a host that exits) never waits
// for a probe to time out. The timeouts are long enough for a starved
// machine: a loopback connect only waits for the kernel, but the answer waits
// for the replica to be scheduled.
#include "runtime/serving/endpoint/readiness_probe.h"

#include <atomic>
#include <thread>

#include "runtime/serving/endpoint/http_client.h"

namespace amlc::runtime::endpoint {

namespace {

constexpr double kProbeConnectS = 1.0;
constexpr double kProbeReadS = 5.0;

}  // namespace

struct ReadinessProbe::Shared {
  std::atomic<Result> state{Result::kIdle};
};

ReadinessProbe::ReadinessProbe() : shared_(std::make_shared<Shared>()) {}

void ReadinessProbe::Start(int port) {
  if (shared_->state.load() == Result::kInFlight) return;
  shared_->state = Result::kInFlight;
  std::thread([shared = shared_, port] {
    HttpClient client("127.0.0.1", port, kProbeConnectS, kProbeReadS);
    StatusOr<HttpResponse> response = client.Get("/health/ready");
    shared->state = response.ok() && response->status == 200 ? Result::kReady : Result::kNotReady;
  }).detach();
}

ReadinessProbe::Result ReadinessProbe::Take() {
  Result state = shared_->state.load();
  if (state == Result::kReady || state == Result::kNotReady) shared_->state = Result::kIdle;
  return state;
}

}  // namespace amlc::runtime::endpoint
