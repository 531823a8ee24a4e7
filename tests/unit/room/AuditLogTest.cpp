#include <gtest/gtest.h>

#include <fstream>

#include "room/AuditLog.hpp"

namespace rollcall::room {
namespace {

class AuditLogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ =
            std::filesystem::temp_directory_path() /
            ("rollcall-audit-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static AuditEvent event(std::string room, std::int64_t time_ms) {
        AuditEvent e;
        e.room = std::move(room);
        e.time_ms = time_ms;
        e.participant = "alice";
        e.audit_class = "not_on_roster";
        e.action = "ejected";
        e.detected_after_ms = 12.5;
        e.evidence = {{"transport", "7"}, {"remote_address", "127.0.0.1:5000"}};
        return e;
    }

    std::filesystem::path dir_;
};

TEST_F(AuditLogTest, EventsSurviveReopening) {
    {
        AuditLog log(dir_);
        ASSERT_EQ(log.open(), "");
        EXPECT_TRUE(log.append(event("a", 1000)));
        EXPECT_TRUE(log.append(event("b", 2000)));
    }
    AuditLog again(dir_);
    ASSERT_EQ(again.open(), "");
    auto events = again.query("", 0, 100);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].room, "a");
    EXPECT_EQ(events[0].id, 1u);
    EXPECT_EQ(events[1].evidence, event("b", 0).evidence);
    EXPECT_EQ(events[1].detected_after_ms, 12.5);
    EXPECT_TRUE(again.append(event("c", 3000)));
    EXPECT_EQ(again.query("", 0, 100).back().id, 3u);  // ids keep increasing across runs
}

TEST_F(AuditLogTest, QueryFiltersByRoomAndTimeAndKeepsTheNewest) {
    AuditLog log(dir_);
    ASSERT_EQ(log.open(), "");
    for (int i = 0; i < 10; ++i) log.append(event(i % 2 ? "odd" : "even", 1000 + i));
    auto odd = log.query("odd", 0, 100);
    EXPECT_EQ(odd.size(), 5u);
    EXPECT_EQ(log.query("", 1005, 100).size(), 5u);
    auto newest = log.query("", 0, 3);
    ASSERT_EQ(newest.size(), 3u);
    EXPECT_EQ(newest.back().time_ms, 1009);
    EXPECT_EQ(newest.front().time_ms, 1007);
}

TEST_F(AuditLogTest, TornLastLineIsSkippedAndTheNextEventStartsCleanly) {
    {
        AuditLog log(dir_);
        ASSERT_EQ(log.open(), "");
        log.append(event("a", 1000));
    }
    {
        std::ofstream out(dir_ / "audit.log", std::ios::app);
        out << R"({"id":2,"time_ms":20)";  // a crash mid-write
    }
    AuditLog log(dir_);
    ASSERT_EQ(log.open(), "");
    EXPECT_EQ(log.size(), 1u);
    log.append(event("b", 3000));
    AuditLog again(dir_);
    ASSERT_EQ(again.open(), "");
    EXPECT_EQ(again.size(), 2u);
}

TEST_F(AuditLogTest, RotatesPastItsSizeAndStillReadsThePreviousFile) {
    AuditLog::Options options;
    options.max_file_bytes = 600;
    {
        AuditLog log(dir_, options);
        ASSERT_EQ(log.open(), "");
        for (int i = 0; i < 6; ++i) log.append(event("r", 1000 + i));
    }
    EXPECT_TRUE(std::filesystem::exists(dir_ / "audit.log.1"));
    EXPECT_LE(std::filesystem::file_size(dir_ / "audit.log"), 600u);
    AuditLog again(dir_, options);
    ASSERT_EQ(again.open(), "");
    EXPECT_GE(again.size(), 2u);
    EXPECT_EQ(again.query("", 0, 100).back().time_ms, 1005);
}

TEST_F(AuditLogTest, HostileEvidenceIsStoredAsDataAndMalformedLinesAreRefused) {
    AuditEvent e = event("r", 1);
    e.evidence = {{"detail", "line\nbreak \"quoted\" \xff bytes"}};
    const std::string line = AuditLog::to_json_line(e);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto back = AuditLog::from_json_line(line);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->room, "r");
    EXPECT_FALSE(AuditLog::from_json_line("[]"));
    EXPECT_FALSE(AuditLog::from_json_line(R"({"id":"1","time_ms":1})"));
    EXPECT_FALSE(AuditLog::from_json_line(""));
}

}  // namespace
}  // namespace rollcall::room
