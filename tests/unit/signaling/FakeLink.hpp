#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "signaling/ClientLink.hpp"

namespace rollcall::test {

// A ClientLink that records what the hub sends, for unit tests.
class FakeLink : public signaling::ClientLink {
  public:
    void send_text(std::string text) override { sent.push_back(nlohmann::json::parse(text)); }
    void close(signaling::CloseCode code, std::string_view reason) override {
        closed = code;
        close_reason = std::string(reason);
    }
    const std::string& remote_address() const override { return address; }

    // The messages of one type, oldest first.
    std::vector<nlohmann::json> of_type(std::string_view type) const {
        std::vector<nlohmann::json> out;
        for (const auto& m : sent)
            if (m.value("type", "") == type) out.push_back(m);
        return out;
    }
    const nlohmann::json& last() const { return sent.back(); }

    std::vector<nlohmann::json> sent;
    std::optional<signaling::CloseCode> closed;
    std::string close_reason;
    std::string address = "127.0.0.1";
};

}  // namespace rollcall::test
