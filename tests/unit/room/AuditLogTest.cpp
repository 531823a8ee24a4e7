#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
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

    // Every line of a file, and whether each is a whole event.
    std::vector<std::optional<AuditEvent>> lines_of(const std::string& name) const {
        std::vector<std::optional<AuditEvent>> out;
        std::ifstream in(dir_ / name);
        for (std::string line; std::getline(in, line);)
            out.push_back(AuditLog::from_json_line(line));
        return out;
    }

    std::filesystem::path dir_;
};

// A file-size limit stands in for a full disk: writes stop mid-line, like ENOSPC on a tmpfs.
class FileSizeLimit {
  public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        previous_ = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
        rlimit limit = saved_;
        limit.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, previous_);
    }

  private:
    rlimit saved_{};
    void (*previous_)(int) = nullptr;
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
    log.flush();  // written by the writer thread
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

TEST_F(AuditLogTest, KeepsTheConfiguredNumberOfRotatedFiles) {
    AuditLog::Options options;
    options.max_file_bytes = 600;
    options.keep_files = 2;
    {
        AuditLog log(dir_, options);
        ASSERT_EQ(log.open(), "");
        for (int i = 0; i < 20; ++i) log.append(event("r", 1000 + i));
    }
    EXPECT_TRUE(std::filesystem::exists(dir_ / "audit.log.1"));
    EXPECT_TRUE(std::filesystem::exists(dir_ / "audit.log.2"));
    EXPECT_FALSE(std::filesystem::exists(dir_ / "audit.log.3"));
    AuditLog again(dir_, options);
    ASSERT_EQ(again.open(), "");
    EXPECT_EQ(again.query("", 0, 100).back().time_ms, 1019);
    EXPECT_EQ(again.write_failures(), 0u);
}

TEST_F(AuditLogTest, AFailedRotationKeepsAppendingAndNeverTruncatesTheLiveLog) {
    AuditLog::Options options;
    options.max_file_bytes = 600;
    options.keep_files = 1;
    std::filesystem::create_directories(dir_ / "audit.log.1" / "in-the-way");  // rename fails
    {
        AuditLog log(dir_, options);
        ASSERT_EQ(log.open(), "");
        for (int i = 0; i < 12; ++i) EXPECT_TRUE(log.append(event("r", 1000 + i)));
        log.flush();
        EXPECT_EQ(log.write_failures(), 0u);
    }
    const auto lines = lines_of("audit.log");
    ASSERT_EQ(lines.size(), 12u);  // every event, none lost to a truncation
    for (std::size_t i = 0; i < lines.size(); ++i) {
        ASSERT_TRUE(lines[i]) << "line " << i;
        EXPECT_EQ(lines[i]->time_ms, 1000 + static_cast<std::int64_t>(i));
    }
}

TEST_F(AuditLogTest, AWriteThatFailsMidLineIsCountedAndLeavesNoTornLine) {
    AuditLog log(dir_);
    ASSERT_EQ(log.open(), "");
    ASSERT_TRUE(log.append(event("a", 1000)));
    log.flush();
    const auto size = std::filesystem::file_size(dir_ / "audit.log");
    {
        FileSizeLimit full(size + 40);              // room for part of the next line only
        EXPECT_TRUE(log.append(event("b", 2000)));  // queued; the disk refuses it
        EXPECT_TRUE(log.append(event("c", 3000)));
        log.flush();
    }
    EXPECT_EQ(log.write_failures(), 2u);
    EXPECT_EQ(log.size(), 3u);                                        // still answers queries
    EXPECT_EQ(std::filesystem::file_size(dir_ / "audit.log"), size);  // the partial line cut off
    ASSERT_TRUE(log.append(event("d", 4000)));                        // space again
    log.flush();
    EXPECT_EQ(log.write_failures(), 2u);
    const auto lines = lines_of("audit.log");
    ASSERT_EQ(lines.size(), 2u);
    ASSERT_TRUE(lines[0] && lines[1]);
    EXPECT_EQ(lines[0]->room, "a");
    EXPECT_EQ(lines[1]->room, "d");
}

TEST_F(AuditLogTest, WithoutAFileEventsAreKeptInMemoryAndCounted) {
    AuditLog log(dir_);  // never opened
    EXPECT_FALSE(log.append(event("a", 1000)));
    EXPECT_EQ(log.write_failures(), 1u);
    EXPECT_EQ(log.query("", 0, 10).size(), 1u);
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
