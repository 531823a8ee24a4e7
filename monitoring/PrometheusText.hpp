#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace rollcall::monitoring {

// Writes the Prometheus text exposition format (version 0.0.4): one HELP and TYPE line per
// family, then its samples; label values escaped.
class PrometheusText {
  public:
    using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, double value, Labels labels = {});

    const std::string& text() const noexcept { return out_; }

  private:
    std::string out_;
};

}  // namespace rollcall::monitoring
