#include "signaling/ServerConfig.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace rollcall::signaling {

namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

template <typename T>
void read_integer(const toml::table& table, const char* key, T& out, std::int64_t min,
                  std::int64_t max) {
    const toml::node* node = table.get(key);
    if (!node) return;
    auto value = node->value<std::int64_t>();
    if (!node->is_integer() || !value || *value < min || *value > max) {
        throw ConfigError(std::string("'") + key + "' must be an integer in [" +
                          std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    out = static_cast<T>(*value);
}

void read_number(const toml::table& table, const char* key, double& out, double min, double max) {
    const toml::node* node = table.get(key);
    if (!node) return;
    auto value = node->value<double>();
    if (!value || *value < min || *value > max) {
        throw ConfigError(std::string("'") + key + "' must be a number in [" + std::to_string(min) +
                          ", " + std::to_string(max) + "]");
    }
    out = *value;
}

void read_string(const toml::table& table, const char* key, std::string& out) {
    const toml::node* node = table.get(key);
    if (!node) return;
    if (!node->is_string()) throw ConfigError(std::string("'") + key + "' must be a string");
    out = *node->value<std::string>();
}

// An array of strings; `what` names it in errors ("[media] addresses"). Absent: unchanged.
void read_strings(const toml::table& table, const char* key, std::vector<std::string>& out,
                  const std::string& what, bool allow_empty) {
    const toml::node* node = table.get(key);
    if (!node) return;
    const toml::array* list = node->as_array();
    if (!list || (!allow_empty && list->empty()))
        throw ConfigError(what + " must be " + (allow_empty ? "an" : "a non-empty") +
                          " array of strings");
    out.clear();
    for (const auto& item : *list) {
        if (!item.is_string()) throw ConfigError(what + " must be strings");
        out.push_back(*item.value<std::string>());
    }
}

void read_bool(const toml::table& table, const char* key, bool& out) {
    const toml::node* node = table.get(key);
    if (!node) return;
    if (!node->is_boolean()) throw ConfigError(std::string("'") + key + "' must be true or false");
    out = *node->value<bool>();
}

void read_path(const toml::table& table, const char* key, std::filesystem::path& out) {
    std::string text;
    read_string(table, key, text);
    if (!text.empty()) out = text;
}

const toml::table* sub_table(const toml::table& root, const char* key) {
    const toml::node* node = root.get(key);
    if (!node) return nullptr;
    if (!node->is_table()) throw ConfigError(std::string("[") + key + "] must be a table");
    return node->as_table();
}

void read_seconds(const toml::table& table, const char* key, std::chrono::seconds& out,
                  std::int64_t max) {
    std::int64_t seconds = out.count();
    read_integer(table, key, seconds, 0, max);
    out = std::chrono::seconds(seconds);
}

// [keys] (API key → secret) and [issuers] (issuer → public key file, relative to `path`).
void read_credentials(const toml::table& root, const std::filesystem::path& path,
                      ServerConfig& config) {
    if (const auto* keys = sub_table(root, "keys")) {
        for (const auto& [key, value] : *keys) {
            if (!value.is_string())
                throw ConfigError("[keys] values are secrets and must be strings");
            config.api_keys[std::string(key.str())] = *value.value<std::string>();
        }
    }
    if (const auto* issuers = sub_table(root, "issuers")) {
        // issuer = "/path/to/public-key.pem" (the issuer's private key never lives here)
        for (const auto& [issuer, value] : *issuers) {
            if (!value.is_string()) throw ConfigError("[issuers] values are public key file paths");
            std::filesystem::path key_path = *value.value<std::string>();
            if (key_path.is_relative()) key_path = path.parent_path() / key_path;
            config.issuer_keys[std::string(issuer.str())] = read_file(key_path);
        }
    }
}

void read_roll_call(const toml::table& root, RollCallConfig& config) {
    const auto* roll_call = sub_table(root, "roll_call");
    if (!roll_call) return;
    std::int64_t grace_ms = config.reconnect_grace.count();
    read_integer(*roll_call, "reconnect_grace_ms", grace_ms, 0, 600000);
    config.reconnect_grace = std::chrono::milliseconds(grace_ms);
    read_bool(*roll_call, "test_hooks", config.test_hooks);
    read_integer(*roll_call, "audit_max_file_bytes", config.audit_max_file_bytes, 4096,
                 std::int64_t{1} << 32);
    read_integer(*roll_call, "audit_keep_files", config.audit_keep_files, 1, 100);
}

}  // namespace

void load_config_file(const std::filesystem::path& path, ServerConfig& config) {
    toml::table root;
    try {
        root = toml::parse(read_file(path), path.string());
    } catch (const toml::parse_error& error) {
        std::ostringstream message;
        message << path.string() << ":" << error.source().begin.line << ": " << error.description();
        throw ConfigError(message.str());
    }

    if (const auto* server = sub_table(root, "server")) {
        read_string(*server, "bind", config.bind);
        read_integer(*server, "port", config.port, 0, 65535);
        read_path(*server, "data_dir", config.data_dir);
        read_path(*server, "web_root", config.web_root);
        read_bool(*server, "dev", config.dev);
        read_bool(*server, "insecure_dev", config.insecure_dev);
        read_path(*server, "tls_cert", config.tls_cert_file);
        read_path(*server, "tls_key", config.tls_key_file);
        read_string(*server, "log_level", config.log_level);
        read_string(*server, "log_format", config.log_format);
        if (config.log_format != "text" && config.log_format != "json")
            throw ConfigError("[server] log_format must be \"text\" or \"json\"");
        read_strings(*server, "allowed_origins", config.signaling.allowed_origins,
                     "[server] allowed_origins", true);
    }
    read_credentials(root, path, config);
    if (const auto* auth = sub_table(root, "auth")) {
        read_seconds(*auth, "token_leeway_s", config.token_leeway, 60);
        read_string(*auth, "metrics_token", config.metrics_token);
    }
    if (const auto* rooms = sub_table(root, "rooms")) {
        read_integer(*rooms, "max_rooms", config.max_rooms, 1, 1000000);
        read_integer(*rooms, "max_participants", config.max_participants_per_room, 1, 100000);
        read_integer(*rooms, "max_received_tracks", config.max_received_tracks, 1, 64);
        read_bool(*rooms, "auto_create", config.auto_create_rooms);
        read_seconds(*rooms, "empty_timeout_s", config.empty_room_timeout, 86400);
    }
    if (const auto* media = sub_table(root, "media")) {
        read_integer(*media, "workers", config.media_workers, 0, 64);
        read_strings(*media, "addresses", config.media_addresses, "[media] addresses", false);
        read_strings(*media, "candidate_scopes", config.media_candidate_scopes,
                     "[media] candidate_scopes", false);
    }
    read_roll_call(root, config.roll_call);
    if (const auto* limits = sub_table(root, "limits")) {
        SignalingLimits& s = config.signaling;
        read_integer(*limits, "max_message_bytes", s.max_message_bytes, 1024, 1 << 20);
        read_integer(*limits, "max_frame_bytes", s.max_frame_bytes, 1024, 4 << 20);
        read_number(*limits, "messages_per_second", s.messages_per_second, 1, 10000);
        read_number(*limits, "message_burst", s.message_burst, 1, 100000);
        read_integer(*limits, "max_connections", s.max_connections, 1, 1000000);
        read_integer(*limits, "max_connections_per_address", s.max_connections_per_address, 1,
                     1000000);
        std::int64_t join_timeout_ms = s.join_timeout.count();
        read_integer(*limits, "join_timeout_ms", join_timeout_ms, 100, 600000);
        s.join_timeout = std::chrono::milliseconds(join_timeout_ms);
        read_number(*limits, "admin_requests_per_second", config.http.admin_requests_per_second, 1,
                    10000);
        read_integer(*limits, "max_http_body_bytes", config.http.max_body_bytes, 1024, 1 << 20);
    }
}

bool is_loopback_address(const std::string& address) {
    return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

transport::LocalNetwork ServerConfig::media_network() const {
    transport::LocalNetwork network(media_addresses);
    for (const std::string& name : media_candidate_scopes) {
        if (auto scope = transport::parse_candidate_scope(name))
            network.candidate_scopes.push_back(*scope);
    }
    return network;
}

void finalize_config(ServerConfig& config) {
    const bool loopback = is_loopback_address(config.bind);
    for (const std::string& name : config.media_candidate_scopes) {
        if (!transport::parse_candidate_scope(name))
            throw ConfigError("[media] candidate_scopes: unknown scope '" + name +
                              "' (loopback, private, link_local, public)");
    }
    if (config.roll_call.test_hooks) {
#ifndef ROLLCALL_FAULT_INJECTION
        throw ConfigError(
            "[roll_call] test_hooks: this build has no fault injection (configure with "
            "ROLLCALL_FAULT_INJECTION=ON)");
#endif
        if (!config.dev)
            throw ConfigError("[roll_call] test_hooks is for test servers in dev mode only");
    }
    if (config.dev) {
        if (!loopback)
            throw ConfigError("dev mode binds loopback only; refusing bind address " + config.bind);
        config.api_keys.emplace(kDevApiKey, kDevApiSecret);
    }
    if (config.dev) {
        for (const auto& address : config.media_addresses) {
            if (!is_loopback_address(address))
                throw ConfigError("dev mode offers loopback media addresses only; refusing " +
                                  address);
        }
    }
    if (config.insecure_dev && !(config.dev && loopback)) {
        throw ConfigError("plain http/ws (--insecure-dev) needs --dev and a loopback bind address");
    }
    for (const auto& [key, secret] : config.api_keys) {
        if (secret == kDevApiSecret && !config.dev) {
            throw ConfigError("the documented dev secret is refused outside dev mode (key '" + key +
                              "')");
        }
        if (!config.dev && secret.size() < 32) {
            throw ConfigError("the secret of API key '" + key + "' is shorter than 32 bytes");
        }
    }
    if (!config.dev && config.api_keys.empty() && config.issuer_keys.empty()) {
        throw ConfigError(
            "no API key or token issuer configured ([keys], [issuers] or ROLLCALL_API_KEY/SECRET)");
    }
    if (!config.insecure_dev && !config.dev &&
        (config.tls_cert_file.empty() || config.tls_key_file.empty())) {
        throw ConfigError(
            "a TLS certificate and key are required outside dev mode (server.tls_cert, "
            "server.tls_key)");
    }
    if (config.signaling.max_message_bytes > config.signaling.max_frame_bytes) {
        throw ConfigError("max_message_bytes must not exceed max_frame_bytes");
    }
}

}  // namespace rollcall::signaling
