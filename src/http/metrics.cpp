#include "unipoints/http/metrics.hpp"

#include <fmt/format.h>

namespace unipoints::http {

void Metrics::ObserveRequest(const std::string& method, const std::string& route, int status,
                             double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  auto& h = latency_[{method, route}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::Add(const std::string& name, const std::string& labels, std::int64_t value) {
  std::lock_guard lock(mu_);
  counters_[{name, labels}] += value;
}

void Metrics::AddCollector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::Render() const {
  std::string out;
  std::vector<std::function<void(std::string&)>> collectors;
  {
    std::lock_guard lock(mu_);
    out += "# HELP unipoints_http_requests_total HTTP requests by method, route and status.\n";
    out += "# TYPE unipoints_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, status] = key;
      out += fmt::format("unipoints_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                         method, route, status, n);
    }
    out += "# HELP unipoints_http_request_duration_seconds HTTP request latency by method and route.\n";
    out += "# TYPE unipoints_http_request_duration_seconds histogram\n";
    for (const auto& [key, h] : latency_) {
      const auto& [method, route] = key;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        out += fmt::format(
            "unipoints_http_request_duration_seconds_bucket{{method=\"{}\",route=\"{}\",le=\"{}\"}} {}\n",
            method, route, kBuckets[i], h.buckets[i]);
      }
      out += fmt::format(
          "unipoints_http_request_duration_seconds_bucket{{method=\"{}\",route=\"{}\",le=\"+Inf\"}} {}\n",
          method, route, h.count);
      out += fmt::format("unipoints_http_request_duration_seconds_sum{{method=\"{}\",route=\"{}\"}} {:.6f}\n",
                         method, route, h.sum);
      out += fmt::format("unipoints_http_request_duration_seconds_count{{method=\"{}\",route=\"{}\"}} {}\n",
                         method, route, h.count);
    }
    std::string last;
    for (const auto& [key, v] : counters_) {
      if (key.first != last) {
        out += "# TYPE " + key.first + " counter\n";
        last = key.first;
      }
      out += key.first + (key.second.empty() ? "" : "{" + key.second + "}") + " " + std::to_string(v) + "\n";
    }
    collectors = collectors_;
  }
  for (const auto& c : collectors) c(out);
  return out;
}

}  // namespace unipoints::http
