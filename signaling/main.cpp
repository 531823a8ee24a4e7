// rollcall: wires the layers together and runs the server, or mints a token.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <thread>

#include "monitoring/ServerMetrics.hpp"
#include "room/Roster.hpp"
#include "sfu/MediaPlane.hpp"
#include "signaling/DevCertificate.hpp"
#include "signaling/HttpRouter.hpp"
#include "signaling/HttpServer.hpp"
#include "signaling/JsonLog.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/SignalingHub.hpp"
#include "signaling/Token.hpp"
#include "transport/SrtpSession.hpp"

namespace {

using namespace rollcall;
using signaling::ServerConfig;

struct CommonOptions {
    std::string config_file;
    std::string bind;
    int port = -1;
    std::string data_dir;
    std::string web_root;
    std::string log_level;
    std::string log_format;
    std::string tls_cert;
    std::string tls_key;
    bool dev = false;
    bool insecure_dev = false;
};

struct TokenOptions {
    bool dev = false;
    std::string room;
    std::string identity;
    std::string name;
    std::string ttl = "1h";
    std::string api_key;
    bool publish = false;
    bool subscribe = false;
    bool data = false;
    bool admin = false;
    bool list = false;
};

// "90s", "30m", "1h", "2d" or plain seconds.
std::int64_t parse_duration(const std::string& text) {
    if (text.empty()) throw CLI::ValidationError("--ttl", "empty duration");
    std::size_t used = 0;
    long long value = 0;
    try {
        value = std::stoll(text, &used);
    } catch (const std::exception&) {
        throw CLI::ValidationError("--ttl", "not a duration: " + text);
    }
    const std::string unit = text.substr(used);
    std::int64_t scale = 1;
    if (unit == "m")
        scale = 60;
    else if (unit == "h")
        scale = 3600;
    else if (unit == "d")
        scale = 86400;
    else if (!unit.empty() && unit != "s")
        throw CLI::ValidationError("--ttl", "unit must be s, m, h or d");
    if (value <= 0 || value > 366LL * 86400 / scale)
        throw CLI::ValidationError("--ttl", "out of range");
    return value * scale;
}

ServerConfig build_config(const CommonOptions& o, CLI::App& app) {
    ServerConfig config;
    config.web_root = ROLLCALL_DEFAULT_WEB_ROOT;
    if (!o.config_file.empty()) signaling::load_config_file(o.config_file, config);
    auto given = [&](const char* name) { return app.get_option(name)->count() > 0; };
    if (given("--bind")) config.bind = o.bind;
    if (given("--port")) {
        if (o.port < 0 || o.port > 65535) throw signaling::ConfigError("--port must be 0..65535");
        config.port = static_cast<std::uint16_t>(o.port);
    }
    if (given("--data-dir")) config.data_dir = o.data_dir;
    if (given("--web-root")) config.web_root = o.web_root;
    if (given("--log-level")) config.log_level = o.log_level;
    if (given("--log-format")) config.log_format = o.log_format;
    if (given("--tls-cert")) config.tls_cert_file = o.tls_cert;
    if (given("--tls-key")) config.tls_key_file = o.tls_key;
    if (given("--dev")) config.dev = o.dev;
    if (given("--insecure-dev")) config.insecure_dev = o.insecure_dev;
    const char* key = std::getenv("ROLLCALL_API_KEY");
    const char* secret = std::getenv("ROLLCALL_API_SECRET");
    if (key && secret) config.api_keys[key] = secret;
    signaling::finalize_config(config);
    return config;
}

int print_token(const ServerConfig& config, const TokenOptions& t) {
    std::string api_key = t.api_key;
    std::string secret;
    if (t.dev) {
        api_key = signaling::kDevApiKey;
        secret = signaling::kDevApiSecret;
    } else if (api_key.empty() && config.api_keys.size() == 1) {
        api_key = config.api_keys.begin()->first;
        secret = config.api_keys.begin()->second;
    } else if (auto it = config.api_keys.find(api_key); it != config.api_keys.end()) {
        secret = it->second;
    } else {
        std::cerr << "rollcall token: name a configured key with --api-key, or use --dev\n";
        return 2;
    }
    signaling::TokenClaims claims;
    claims.identity = t.identity;
    claims.name = t.name;
    claims.grants.room = t.room;
    claims.grants.room_join = !t.identity.empty() && t.room != "*";
    claims.grants.can_publish = t.publish;
    claims.grants.can_subscribe = t.subscribe;
    claims.grants.can_publish_data = t.data;
    claims.grants.room_admin = t.admin;
    // A room's admin reads and kicks in that room only; listing every room, the audit log
    // and /metrics takes --list, or an admin token for every room.
    claims.grants.room_list = t.list || (t.admin && t.room == "*");
    claims.expires_at = static_cast<std::int64_t>(std::time(nullptr)) + parse_duration(t.ttl);
    std::cerr << "token for " << (t.identity.empty() ? "(no identity)" : t.identity) << " in room "
              << t.room << ", key " << api_key << ", valid " << t.ttl << "\n";
    std::cout << signaling::mint_hs256_token(api_key, secret, claims) << std::endl;
    return 0;
}

int serve(const ServerConfig& config) {
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    if (config.log_format == "json") signaling::use_json_logs();
    signaling::ServerOptions options;
    options.bind = config.bind;
    options.port = config.port;
    options.tls = !config.insecure_dev;
    options.hsts = options.tls && !config.dev;
    options.signaling = config.signaling;
    options.http = config.http;
    if (options.tls) {
        if (config.tls_cert_file.empty()) {
            auto files = signaling::ensure_dev_certificate(config.data_dir);
            options.certificate_file = files.certificate;
            options.private_key_file = files.private_key;
        } else {
            options.certificate_file = config.tls_cert_file;
            options.private_key_file = config.tls_key_file;
        }
    }

    signaling::TokenKeys keys{config.api_keys, config.issuer_keys};
    signaling::TokenVerifier verifier(keys, {config.token_leeway, 4096});
    room::Roster roster({config.max_rooms, config.max_participants_per_room,
                         config.auto_create_rooms, config.empty_room_timeout});
    signaling::SignalingStats stats;
    signaling::HttpServer* server_ptr = nullptr;
    sfu::MediaPlane media({config.media_workers ? config.media_workers
                                                : std::max(1u, std::thread::hardware_concurrency()),
                           config.media_network()},
                          [&server_ptr](std::function<void()> task) {
                              if (server_ptr) server_ptr->post(std::move(task));
                          });
    room::AuditLog audit(config.data_dir, {.max_file_bytes = config.roll_call.audit_max_file_bytes,
                                           .keep_files = config.roll_call.audit_keep_files});
    if (std::string error = audit.open(); !error.empty()) {
        std::cerr << "rollcall: the audit log cannot be opened: " << error << "\n";
        return 1;
    }
    signaling::SignalingHub hub(config, verifier, roster, stats, &media, &audit);
    media.set_events(&hub);
    signaling::HttpRouter router(config, verifier, hub, [&] {
        return monitoring::render_server_metrics(stats, roster, hub.connection_count(),
                                                 audit.write_failures(),
                                                 hub.roll_call().worker_reports());
    });
    signaling::HttpServer server(options, hub, router, stats);
    server_ptr = &server;
    const std::uint16_t port = server.listen();
    media.start();

    const std::string scheme = options.tls ? "https" : "http";
    const std::string host =
        config.bind.find(':') != std::string::npos ? "[" + config.bind + "]" : config.bind;
    if (config.log_format == "json") {
        spdlog::info("rollcall {} listening on {}://{}:{}/", ROLLCALL_VERSION, scheme, host, port);
    } else {
        std::cout << "rollcall " << ROLLCALL_VERSION << " listening on " << scheme << "://" << host
                  << ":" << port << "/" << std::endl;
    }
    spdlog::info("SRTP: {}", transport::srtp_library());
    if (config.dev && config.log_format != "json") {
        std::cout << "dev mode: API key '" << signaling::kDevApiKey << "', secret '"
                  << signaling::kDevApiSecret << "' (loopback only)\n"
                  << "  join a room:   open " << scheme << "://" << host << ":" << port
                  << "/ (self-signed certificate: accept it once)\n"
                  << "  operators:     open " << scheme << "://" << host << ":" << port
                  << "/dashboard\n"
                  << "  admin token:   rollcall token --dev --admin --room '*'\n"
                  << std::flush;
    }
    server.run();
    media.stop();
    server_ptr = nullptr;
    spdlog::info("rollcall stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "rollcall: a WebRTC SFU that takes roll call.\n"
        "Precedence: flags > environment > --config file > defaults."};
    app.set_version_flag("--version", ROLLCALL_VERSION);
    CommonOptions o;
    app.add_option("-c,--config", o.config_file, "TOML config file")->envname("ROLLCALL_CONFIG");
    app.add_option("--bind", o.bind, "address to listen on (default 127.0.0.1)")
        ->envname("ROLLCALL_BIND");
    app.add_option("-p,--port", o.port, "port for HTTPS, WSS and admin (default 7880; 0 picks one)")
        ->envname("ROLLCALL_PORT");
    app.add_option("--data-dir", o.data_dir,
                   "where the dev certificate and durable state live (default ./data)")
        ->envname("ROLLCALL_DATA_DIR");
    app.add_option("--web-root", o.web_root, "folder the web client is served from")
        ->envname("ROLLCALL_WEB_ROOT");
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
        ->envname("ROLLCALL_LOG_LEVEL");
    app.add_option("--log-format", o.log_format, "text, or json (one object per line)")
        ->check(CLI::IsMember({"text", "json"}))
        ->envname("ROLLCALL_LOG_FORMAT");
    app.add_option("--tls-cert", o.tls_cert, "PEM certificate chain (outside dev mode)")
        ->envname("ROLLCALL_TLS_CERT");
    app.add_option("--tls-key", o.tls_key, "PEM private key (outside dev mode)")
        ->envname("ROLLCALL_TLS_KEY");
    app.add_flag("--dev", o.dev,
                 "dev mode: loopback only, self-signed certificate, API key 'devkey' with the "
                 "documented dev secret, "
                 "POST /dev/token")
        ->envname("ROLLCALL_DEV");
    app.add_flag("--insecure-dev", o.insecure_dev, "with --dev: plain http/ws instead of https/wss")
        ->envname("ROLLCALL_INSECURE_DEV");
    app.footer(
        "Environment: ROLLCALL_API_KEY and ROLLCALL_API_SECRET add an HS256 key.\n"
        "Subcommand: rollcall token --help");

    TokenOptions t;
    CLI::App* token = app.add_subcommand(
        "token", "print a signed access token (the token alone on the last line)");
    token->add_flag("--dev", t.dev, "sign with the dev key");
    token->add_option("--room", t.room, "room the token is for ('*' for every room, admin only)")
        ->required();
    token->add_option("--identity", t.identity, "participant identity (sub)");
    token->add_option("--name", t.name, "display name");
    token->add_flag("--publish", t.publish, "grant canPublish");
    token->add_flag("--subscribe", t.subscribe, "grant canSubscribe");
    token->add_flag("--data", t.data, "grant canPublishData");
    token->add_flag("--admin", t.admin, "grant roomAdmin (with --room '*' also roomList)");
    token->add_flag("--list", t.list, "grant roomList");
    token->add_option("--ttl", t.ttl, "lifetime: 90s, 30m, 1h, 2d (default 1h)");
    token->add_option("--api-key", t.api_key, "which configured key signs");

    CLI11_PARSE(app, argc, argv);
    try {
        if (token->parsed()) {
            if (t.dev) o.dev = true;
            if (t.dev && app.get_option("--dev")->count() == 0) {
                // `token --dev` needs no server config: the dev key is fixed.
                ServerConfig config;
                return print_token(config, t);
            }
            return print_token(build_config(o, app), t);
        }
        return serve(build_config(o, app));
    } catch (const signaling::ConfigError& error) {
        std::cerr << "rollcall: configuration error: " << error.what() << "\n";
        return 2;
    } catch (const CLI::Error& error) {
        return app.exit(error);
    } catch (const std::exception& error) {
        std::cerr << "rollcall: " << error.what() << "\n";
        return 1;
    }
}
