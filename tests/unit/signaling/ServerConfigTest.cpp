#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "signaling/JsonLog.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/TestTokens.hpp"

namespace rollcall::signaling {
namespace {

class ServerConfigTest : public ::testing::Test {
  protected:
    ServerConfigTest() {
        dir_ = std::filesystem::temp_directory_path() /
               ("rollcall-config-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    ~ServerConfigTest() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
        return dir_ / name;
    }

    std::filesystem::path dir_;
};

TEST_F(ServerConfigTest, ReadsEveryTable) {
    write("issuer.pem", test::es256_public_pem());
    ServerConfig config;
    load_config_file(write("rollcall.toml", R"(
[server]
bind = "127.0.0.1"
port = 9000
data_dir = "/var/lib/rollcall"
tls_cert = "/etc/rollcall/cert.pem"
tls_key = "/etc/rollcall/key.pem"
[keys]
prod = "a-secret-that-is-at-least-32-bytes-long"
[issuers]
"auth.example" = "issuer.pem"
[auth]
token_leeway_s = 3
metrics_token = "scrape"
[rooms]
max_rooms = 10
max_participants = 5
auto_create = false
empty_timeout_s = 60
[limits]
max_message_bytes = 4096
messages_per_second = 5
join_timeout_ms = 2000
)"),
                     config);
    EXPECT_EQ(config.port, 9000);
    EXPECT_EQ(config.data_dir, "/var/lib/rollcall");
    EXPECT_EQ(config.api_keys.at("prod"), "a-secret-that-is-at-least-32-bytes-long");
    EXPECT_EQ(config.issuer_keys.at("auth.example"), test::es256_public_pem());
    EXPECT_EQ(config.token_leeway, std::chrono::seconds(3));
    EXPECT_EQ(config.max_participants_per_room, 5u);
    EXPECT_FALSE(config.auto_create_rooms);
    EXPECT_EQ(config.signaling.max_message_bytes, 4096u);
    EXPECT_EQ(config.signaling.join_timeout, std::chrono::milliseconds(2000));
    EXPECT_NO_THROW(finalize_config(config));
}

TEST_F(ServerConfigTest, NamesTheBadKey) {
    ServerConfig config;
    try {
        load_config_file(write("bad.toml", "[server]\nport = \"high\"\n"), config);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& error) {
        EXPECT_NE(std::string(error.what()).find("port"), std::string::npos);
    }
    EXPECT_THROW(load_config_file(write("syntax.toml", "[server\n"), config), ConfigError);
    EXPECT_THROW(load_config_file(dir_ / "missing.toml", config), ConfigError);
    EXPECT_THROW(load_config_file(write("range.toml", "[server]\nport = 70000\n"), config),
                 ConfigError);
}

TEST_F(ServerConfigTest, LogFormatIsTextOrJson) {
    ServerConfig config;
    EXPECT_EQ(config.log_format, "text");
    load_config_file(write("json.toml", "[server]\nlog_format = \"json\"\n"), config);
    EXPECT_EQ(config.log_format, "json");
    EXPECT_THROW(load_config_file(write("xml.toml", "[server]\nlog_format = \"xml\"\n"), config),
                 ConfigError);
}

TEST(JsonLog, EveryLineIsOneJsonObjectWhateverTheMessageHolds) {
    std::ostringstream out;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("json-test", sink));
    use_json_logs();
    spdlog::warn("a \"quoted\" \\ name\nwith a newline and a bell \a in room '{}'", "r1");
    spdlog::set_default_logger(previous);
    std::string line = out.str();
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    EXPECT_EQ(line.find('\n'), std::string::npos);
    const auto object = nlohmann::json::parse(line);
    EXPECT_EQ(object["level"], "warning");
    EXPECT_EQ(object["msg"], "a \"quoted\" \\ name\nwith a newline and a bell \a in room 'r1'");
    EXPECT_EQ(object["time"].get<std::string>().back(), 'Z');
}

TEST_F(ServerConfigTest, CandidateScopesAreReadAndChecked) {
    ServerConfig config;
    load_config_file(write("scopes.toml",
                           "[media]\ncandidate_scopes "
                           "= [\"public\", \"private\"]\n"),
                     config);
    config.dev = true;
    EXPECT_NO_THROW(finalize_config(config));
    const transport::LocalNetwork network = config.media_network();
    EXPECT_EQ(network.addresses, std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(network.candidate_scopes,
              (std::vector<transport::AddressScope>{transport::AddressScope::public_internet,
                                                    transport::AddressScope::private_network}));
    ServerConfig wrong;
    load_config_file(write("wrong.toml",
                           "[media]\ncandidate_scopes "
                           "= [\"intranet\"]\n"),
                     wrong);
    wrong.dev = true;
    try {
        finalize_config(wrong);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& error) {
        EXPECT_NE(std::string(error.what()).find("intranet"), std::string::npos);
    }
    EXPECT_THROW(load_config_file(write("empty.toml", "[media]\ncandidate_scopes = []\n"), wrong),
                 ConfigError);
    EXPECT_THROW(load_config_file(write("type.toml", "[media]\ncandidate_scopes = [1]\n"), wrong),
                 ConfigError);
}

TEST_F(ServerConfigTest, DevModeAddsTheDevKeyOnLoopback) {
    ServerConfig config;
    config.dev = true;
    finalize_config(config);
    EXPECT_EQ(config.api_keys.at(kDevApiKey), kDevApiSecret);
}

TEST_F(ServerConfigTest, DevModeRefusesNonLoopbackBinds) {
    ServerConfig config;
    config.dev = true;
    config.bind = "0.0.0.0";
    EXPECT_THROW(finalize_config(config), ConfigError);
}

TEST_F(ServerConfigTest, TheDevSecretIsRefusedOffLoopbackEvenOutsideDevMode) {
    ServerConfig config;
    config.bind = "0.0.0.0";
    config.tls_cert_file = "c";
    config.tls_key_file = "k";
    config.api_keys["devkey"] = kDevApiSecret;
    EXPECT_THROW(finalize_config(config), ConfigError);
}

TEST_F(ServerConfigTest, TheDevSecretIsRefusedOutsideDevModeWhateverTheBind) {
    ServerConfig config;
    config.bind = "127.0.0.1";
    config.tls_cert_file = "c";
    config.tls_key_file = "k";
    config.api_keys["other"] = kDevApiSecret;
    EXPECT_THROW(finalize_config(config), ConfigError);
}

TEST_F(ServerConfigTest, ShortSecretsAreRefusedOutsideDevMode) {
    ServerConfig config;
    config.tls_cert_file = "c";
    config.tls_key_file = "k";
    config.api_keys["k"] = "short";
    EXPECT_THROW(finalize_config(config), ConfigError);
}

TEST_F(ServerConfigTest, ProductionNeedsKeysAndTls) {
    ServerConfig config;
    EXPECT_THROW(finalize_config(config), ConfigError);
    config.api_keys["k"] = std::string(32, 'x');
    EXPECT_THROW(finalize_config(config), ConfigError);
    config.tls_cert_file = "c";
    config.tls_key_file = "k";
    EXPECT_NO_THROW(finalize_config(config));
}

TEST_F(ServerConfigTest, InsecureNeedsDevAndLoopback) {
    ServerConfig config;
    config.insecure_dev = true;
    config.api_keys["k"] = std::string(32, 'x');
    EXPECT_THROW(finalize_config(config), ConfigError);
    config.dev = true;
    EXPECT_NO_THROW(finalize_config(config));
}

TEST(LoopbackAddress, RecognisesLoopback) {
    EXPECT_TRUE(is_loopback_address("127.0.0.1"));
    EXPECT_TRUE(is_loopback_address("127.1.2.3"));
    EXPECT_TRUE(is_loopback_address("::1"));
    EXPECT_TRUE(is_loopback_address("localhost"));
    EXPECT_FALSE(is_loopback_address("0.0.0.0"));
    EXPECT_FALSE(is_loopback_address("::"));
    EXPECT_FALSE(is_loopback_address("10.0.0.1"));
}

}  // namespace
}  // namespace rollcall::signaling
