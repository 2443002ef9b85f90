#pragma once
// Prometheus metrics: request counts and latency histograms by route and status, plus named
// counters that domains bump (accruals), and gauges read at scrape time (DB pool).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace unipoints::http {

class Metrics {
 public:
  void ObserveRequest(const std::string& method, const std::string& route, int status, double seconds);
  // A counter with a fixed label set, e.g. ("unipoints_accruals_total", "result=\"created\"").
  void Add(const std::string& name, const std::string& labels, std::int64_t value);
  // Called at scrape time; appends text in Prometheus exposition format.
  void AddCollector(std::function<void(std::string&)> collector);
  std::string Render() const;

 private:
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, std::int64_t> counters_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

}  // namespace unipoints::http
