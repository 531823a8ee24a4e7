#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace rollcall::signaling {

enum class ClientMessageType {
    join,
    leave,
    ping,
    publish,
    renegotiate,
    trickle,
    unpublish,
    mute,
    subscribe,
    unsubscribe,
    subscribe_answer,
    restart_ice,
    track_settings,
    unknown
};

// A client's signaling message after the checks every message gets: JSON, an object,
// nested at most a few levels, a string "type", and an optional request "id" that replies
// echo back as "ref".
struct ClientMessage {
    ClientMessageType type = ClientMessageType::unknown;
    std::string type_name;
    nlohmann::json body;
    nlohmann::json ref;  // null when the request carried no id
};

struct ParseFailure {
    std::string code;  // "malformed_message"
    std::string message;
};

inline constexpr std::size_t kMaxJsonDepth = 16;

// Returns the message or fills `failure`. Never throws.
std::optional<ClientMessage> parse_client_message(std::string_view text, ParseFailure& failure);

// True when brackets nest no deeper than `max_depth` (strings are skipped), so a parser
// never sees a pathological document.
bool json_depth_within(std::string_view text, std::size_t max_depth) noexcept;

// Serialises a server message; invalid UTF-8 is replaced, never thrown on.
std::string to_text(const nlohmann::json& message);

}  // namespace rollcall::signaling
