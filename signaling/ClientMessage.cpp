#include "signaling/ClientMessage.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

bool json_depth_within(std::string_view text, std::size_t max_depth) noexcept {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) return false;
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return true;
}

std::optional<ClientMessage> parse_client_message(std::string_view text, ParseFailure& failure) {
    failure.code = "malformed_message";
    if (!json_depth_within(text, kMaxJsonDepth)) {
        failure.message =
            "the message nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        return std::nullopt;
    }
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
        failure.message = "the message is not valid JSON";
        return std::nullopt;
    }
    if (!value.is_object()) {
        failure.message = "a message is a JSON object";
        return std::nullopt;
    }
    ClientMessage message;
    if (auto id = value.find("id"); id != value.end()) {
        const bool ok = (id->is_string() && id->get_ref<const std::string&>().size() <= 64) ||
                        id->is_number_integer();
        if (!ok) {
            failure.message = "\"id\" must be an integer or a string of at most 64 bytes";
            return std::nullopt;
        }
        message.ref = *id;
    }
    auto type = value.find("type");
    if (type == value.end() || !type->is_string()) {
        failure.message = "a message needs a string \"type\"";
        return std::nullopt;
    }
    message.type_name = type->get<std::string>();
    if (message.type_name == "join") {
        message.type = ClientMessageType::join;
    } else if (message.type_name == "leave") {
        message.type = ClientMessageType::leave;
    } else if (message.type_name == "ping") {
        message.type = ClientMessageType::ping;
    } else if (message.type_name == "publish") {
        message.type = ClientMessageType::publish;
    } else if (message.type_name == "restart_ice") {
        message.type = ClientMessageType::restart_ice;
    } else if (message.type_name == "renegotiate") {
        message.type = ClientMessageType::renegotiate;
    } else if (message.type_name == "trickle") {
        message.type = ClientMessageType::trickle;
    } else if (message.type_name == "unpublish") {
        message.type = ClientMessageType::unpublish;
    } else if (message.type_name == "track_settings") {
        message.type = ClientMessageType::track_settings;
    } else if (message.type_name == "mute") {
        message.type = ClientMessageType::mute;
    } else if (message.type_name == "subscribe") {
        message.type = ClientMessageType::subscribe;
    } else if (message.type_name == "unsubscribe") {
        message.type = ClientMessageType::unsubscribe;
    } else if (message.type_name == "subscribe_answer") {
        message.type = ClientMessageType::subscribe_answer;
    }
    message.body = std::move(value);
    return message;
}

std::string to_text(const json& message) {
    return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace rollcall::signaling
