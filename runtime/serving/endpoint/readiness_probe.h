#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_READINESS_PROBE_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_READINESS_PROBE_H_

#include <memory>

namespace amlc::runtime::endpoint {

/// Asks a starting replica's GET /health/ready, one request at a time, on a
/// thread of its own: a replica slow to answer (a busy machine, a model still
/// loading) must not hold up the host's loop, which routes, scales and
/// reports for every deployment. Copies share the request in flight.
class ReadinessProbe {
 public:
  enum class Result {
    kIdle,      // nothing asked since the last result was taken
    kInFlight,  // a request is under way
    kReady,     // it answered 200
    kNotReady,  // it answered otherwise, or not within the timeouts
  };

  ReadinessProbe();

  /// Asks 127.0.0.1:`port` unless a request is already in flight.
  void Start(int port);
  /// The state; a finished result is returned once, then the probe is idle.
  Result Take();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_READINESS_PROBE_H_
