#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace rollcall::monitoring {

// Writes the Prometheus text exposition format (version 0.0.4): one HELP and TYPE line per
// family, then its samples; label values escaped.
class PrometheusText {
  public:
    using Label = std::pair<std::string_view, std::string_view>;
    using Labels = std::initializer_list<Label>;

    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, double value, Labels labels = {}) {
        sample(name, value, std::span<const Label>(labels.begin(), labels.size()));
    }
    void sample(std::string_view name, double value, std::span<const Label> labels);
    // A histogram's samples: `counts` per bucket (not cumulative; one more than `bounds`, the
    // last for +Inf) become name_bucket{…,le} cumulative, then name_sum and name_count.
    void histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                   std::span<const std::uint64_t> counts, double sum, std::uint64_t count);

    const std::string& text() const noexcept { return out_; }

  private:
    std::string out_;
};

}  // namespace rollcall::monitoring
