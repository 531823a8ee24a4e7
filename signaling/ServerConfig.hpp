#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "transport/AddressPolicy.hpp"

namespace rollcall::signaling {

// The dev key, as LiveKit's dev mode has one: documented, fixed, and refused by a server
// that binds anything but loopback.
inline constexpr const char* kDevApiKey = "devkey";
inline constexpr const char* kDevApiSecret = "rollcall-dev-secret-not-for-production-use";

struct SignalingLimits {
    std::size_t max_message_bytes = 64 * 1024;  // larger: error, connection kept
    std::size_t max_frame_bytes = 256 * 1024;   // larger: close 1009
    double messages_per_second = 20;            // per connection, sustained
    double message_burst = 60;
    std::size_t flood_drops_before_close = 200;    // dropped messages before the flooder is closed
    std::chrono::milliseconds join_timeout{5000};  // first message must be a join by then
    std::size_t max_connections = 2000;
    std::size_t max_connections_per_address = 128;  // one host cannot hold every slot
    // Origins (scheme://host[:port]) whose pages may open /rtc and /dev/token besides the
    // server's own; a request without Origin (not a browser) is not a page's and passes.
    std::vector<std::string> allowed_origins;
    std::size_t max_outgoing_queue = 512;  // messages queued to a slow client before it is closed
    std::chrono::milliseconds close_grace{1000};  // time to flush a final error before closing
};

struct HttpLimits {
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 16 * 1024;
    std::chrono::seconds request_timeout{10};
    double admin_requests_per_second = 20;
    double admin_burst = 40;
};

// Roll call (docs/design.md, Roll call): the audit of the media plane against the roster.
struct RollCallConfig {
    // How long a participant whose signaling socket dropped keeps its media.
    std::chrono::milliseconds reconnect_grace{5000};
    // Test builds only: the admin API may plant ghost consumers and stray transports.
    bool test_hooks = false;
    // The audit log rotates past this size, keeping this many older files.
    std::size_t audit_max_file_bytes = 16u << 20;
    std::size_t audit_keep_files = 4;
};

struct ServerConfig {
    std::string bind = "127.0.0.1";
    std::uint16_t port = 7880;
    std::filesystem::path data_dir = "data";
    std::filesystem::path web_root;  // defaults to the source tree's web-client/
    bool dev = false;
    bool insecure_dev = false;  // plain http/ws; development only, loopback only
    std::filesystem::path tls_cert_file;
    std::filesystem::path tls_key_file;
    std::string log_level = "info";
    std::string log_format = "text";  // or "json": one JSON object per line (JsonLog.hpp)

    std::map<std::string, std::string, std::less<>> api_keys;     // key -> HS256 secret
    std::map<std::string, std::string, std::less<>> issuer_keys;  // iss -> P-256 public key PEM
    std::chrono::seconds token_leeway{5};
    std::string
        metrics_token;  // static bearer for Prometheus scrapes; empty = JWT with roomList only

    std::size_t max_rooms = 1000;
    std::size_t max_participants_per_room = 100;
    // Tracks one participant receives at most (one m= section each; at most 64).
    std::size_t max_received_tracks = 64;
    bool auto_create_rooms = true;
    std::chrono::seconds empty_room_timeout{300};

    std::size_t media_workers = 0;                             // 0: one per core
    std::vector<std::string> media_addresses = {"127.0.0.1"};  // the only ICE candidates offered
    // Scopes of peer candidates the server sends checks to ("loopback", "private",
    // "link_local", "public"); empty: public plus the scopes of media_addresses.
    std::vector<std::string> media_candidate_scopes;
    transport::LocalNetwork media_network() const;

    SignalingLimits signaling;
    HttpLimits http;
    RollCallConfig roll_call;
};

class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Reads a TOML file over the defaults in `config`. Throws ConfigError naming the key.
void load_config_file(const std::filesystem::path& path, ServerConfig& config);

// Applies dev mode (dev key, loopback) and checks the invariants that keep a production
// server safe. Throws ConfigError with the reason the server must not start.
void finalize_config(ServerConfig& config);

bool is_loopback_address(const std::string& address);

}  // namespace rollcall::signaling
