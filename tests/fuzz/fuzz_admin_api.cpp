// The admin API behind a valid all-rooms admin token: arbitrary methods, targets (paths,
// percent-encoding, queries such as ?ban= and ?reason=) and bodies against a hub with rooms
// and participants. Every answer must be an HTTP status with a JSON body.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "room/Roster.hpp"
#include "signaling/AdminApi.hpp"
#include "signaling/HttpMessage.hpp"
#include "signaling/SignalingHub.hpp"
#include "signaling/Token.hpp"

namespace {

using namespace rollcall::signaling;
using Clock = std::chrono::steady_clock;

constexpr const char* kKey = "fuzzkey";
constexpr const char* kSecret = "fuzz-secret-fuzz-secret-fuzz-secret-0123";

struct NullLink final : ClientLink {
    void send_text(std::string) override {}
    void close(CloseCode, std::string_view) override { closed = true; }
    bool closed = false;
    SessionId session = 0;
    const std::string& remote_address() const override { return address; }
    std::string address = "127.0.0.1";
};

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

std::string token(const std::string& identity, const std::string& room, bool admin) {
    TokenClaims claims;
    claims.identity = identity;
    claims.grants.room = room;
    claims.grants.room_join = !admin;
    claims.grants.can_publish = !admin;
    claims.grants.can_subscribe = !admin;
    claims.grants.room_admin = admin;
    claims.grants.room_list = admin;
    claims.expires_at = unix_now() + 3600;
    return mint_hs256_token(kKey, kSecret, claims);
}

struct World {
    ServerConfig config;
    SignalingStats stats;
    TokenVerifier verifier{keys(), {}};
    rollcall::room::Roster roster{{}};
    SignalingHub hub{config, verifier, roster, stats};
    AdminApi api{verifier, hub, config.http};
    std::vector<std::unique_ptr<NullLink>> links;
    std::string admin = token("", "*", true);

    static TokenKeys keys() {
        TokenKeys k;
        k.hmac_secrets[kKey] = kSecret;
        return k;
    }
    // Everyone back in their rooms (kicks and deletions in earlier inputs removed them).
    void populate() {
        // Links the hub closed (kicks, deleted rooms) go, as the server's sockets would.
        std::erase_if(links, [&](const std::unique_ptr<NullLink>& link) {
            if (link->closed) hub.on_close(link->session);
            return link->closed;
        });
        for (const char* room : {"r1", "r2"}) {
            for (const char* who : {"ada", "bob"}) {
                if (roster.find(room, who)) continue;
                links.push_back(std::make_unique<NullLink>());
                links.back()->session = hub.on_open(*links.back(), Clock::now());
                const nlohmann::json join = {{"type", "join"}, {"token", token(who, room, false)}};
                hub.on_text(links.back()->session, join.dump(), Clock::now(), unix_now());
            }
        }
        if (hub.connection_count() > 16) std::abort();  // sessions must not pile up
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto world = std::make_unique<World>();
    if (size == 0) return 0;
    static const char* kMethods[] = {"GET", "POST", "DELETE", "PUT", "HEAD", "PATCH"};
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto newline = text.find('\n');
    HttpRequest request;
    request.method = kMethods[data[0] % 6];
    request.target = "/admin/v1" + std::string(text.substr(0, newline));
    request.body = newline == std::string_view::npos ? "" : std::string(text.substr(newline + 1));
    request.authorization = (data[0] & 0x80) ? "" : "Bearer " + world->admin;
    request.remote_address = "127.0.0.1";
    const auto [path, query] = split_target(request.target);
    if (path.size() < 9) return 0;
    const HttpResponse response =
        world->api.handle(request, path.substr(9), Clock::now(), unix_now());
    if (response.status < 200 || response.status > 599) std::abort();
    if (response.content_type == "application/json" &&
        nlohmann::json::parse(response.body, nullptr, false).is_discarded()) {
        std::abort();
    }
    world->populate();
    return 0;
}
