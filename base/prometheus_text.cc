#include "base/prometheus_text.h"

#include <cmath>
#include <cstdio>

namespace amlc {

namespace {

std::string Number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

std::string Escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

void PrometheusText::Family(const std::string& name, const std::string& type, const std::string& help) {
  text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void PrometheusText::Sample(const std::string& name, const PrometheusLabels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += "{";
    for (size_t i = 0; i < labels.size(); ++i) {
      text_ += (i ? "," : "") + labels[i].first + "=\"" + Escaped(labels[i].second) + "\"";
    }
    text_ += "}";
  }
  text_ += " " + Number(value) + "\n";
}

void PrometheusText::Histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                               const std::vector<double>& values) {
  Family(name, "histogram", help);
  double sum = 0;
  for (double value : values) sum += value;
  for (double bound : bounds) {
    size_t at_most = 0;
    for (double value : values) at_most += value <= bound ? 1 : 0;
    Sample(name + "_bucket", {{"le", Number(bound)}}, static_cast<double>(at_most));
  }
  Sample(name + "_bucket", {{"le", "+Inf"}}, static_cast<double>(values.size()));
  Sample(name + "_sum", {}, sum);
  Sample(name + "_count", {}, static_cast<double>(values.size()));
}

void HttpRequestCounter::Add(const std::string& method, const std::string& route, int code) {
  std::lock_guard lock(mutex_);
  ++counts_[{method, route, code}];
}

void HttpRequestCounter::Render(PrometheusText& out) const {
  out.Family("amlc_http_requests_total", "counter", "HTTP requests answered, by method, route template and status code.");
  std::lock_guard lock(mutex_);
  for (const auto& [key, count] : counts_) {
    const auto& [method, route, code] = key;
    out.Sample("amlc_http_requests_total", {{"method", method}, {"route", route}, {"code", std::to_string(code)}},
               static_cast<double>(count));
  }
}

}  // namespace amlc
