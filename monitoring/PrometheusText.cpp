#include "monitoring/PrometheusText.hpp"

#include <cmath>
#include <cstdio>
#include <vector>

namespace rollcall::monitoring {

namespace {

void append_escaped(std::string& out, std::string_view value, bool quote_escape) {
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote_escape) {
            out += "\\\"";
        } else {
            out.push_back(c);
        }
    }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_escaped(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void PrometheusText::sample(std::string_view name, double value, std::span<const Label> labels) {
    out_ += name;
    if (labels.size() > 0) {
        out_ += '{';
        bool first = true;
        for (const auto& [key, label_value] : labels) {
            if (!first) out_ += ',';
            first = false;
            out_ += key;
            out_ += "=\"";
            append_escaped(out_, label_value, true);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
    char number[64];
    if (std::isnan(value)) {
        out_ += "NaN";
    } else if (std::isinf(value)) {
        out_ += value > 0 ? "+Inf" : "-Inf";
    } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
        std::snprintf(number, sizeof(number), "%.0f", value);
        out_ += number;
    } else {
        std::snprintf(number, sizeof(number), "%.17g", value);
        out_ += number;
    }
    out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                               std::span<const std::uint64_t> counts, double sum,
                               std::uint64_t count) {
    std::vector<Label> with_le(labels.begin(), labels.end());
    with_le.emplace_back("le", "");
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    char bound[32];
    for (std::size_t i = 0; i <= bounds.size() && i < counts.size(); ++i) {
        cumulative += counts[i];
        if (i < bounds.size()) {
            std::snprintf(bound, sizeof(bound), "%g", bounds[i]);
            with_le.back().second = bound;
        } else {
            with_le.back().second = "+Inf";
        }
        sample(bucket, static_cast<double>(cumulative), with_le);
    }
    sample(std::string(name) + "_sum", sum, std::span<const Label>(labels.begin(), labels.size()));
    sample(std::string(name) + "_count", static_cast<double>(count),
           std::span<const Label>(labels.begin(), labels.size()));
}

}  // namespace rollcall::monitoring
