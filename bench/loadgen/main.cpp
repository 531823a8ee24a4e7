// rollcall_loadgen: P publishers and S subscribers in one room over real ICE, DTLS and SRTP
// against rollcall (started here, plain ws on 127.0.0.1) or Janus's VideoRoom (already
// running; its WebSocket port and pid given). Publishers send stamped synthetic media;
// subscribers measure one-way delay, loss, jitter and reordering; the server's CPU is read
// from /proc over a fixed window once everyone receives, beside the generator's own.
// Prints one JSON object (and writes it to --out). Run inside a loopback-only namespace (bench/run
// does), e.g. tests/e2e/run-in-netns.sh build/dev/rollcall_loadgen --subscribers 50
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "bench/loadgen/LoadPeer.hpp"
#include "transport/SrtpSession.hpp"

using namespace rollcall;
using namespace rollcall::loadgen;
using nlohmann::json;

namespace {

struct Options {
    std::string target = "rollcall";
    std::string name;
    std::string rollcall_bin = "build/dev/signaling/rollcall";
    std::uint16_t janus_port = 8188;
    int janus_pid = 0;
    std::size_t publishers = 1;
    std::size_t subscribers = 10;
    bool meeting = false;   // publishers receive each other too
    double join_rate = 50;  // subscribers started per second; 0: one after another
    double window_s = 10;   // measured
    double warmup_s = 2;    // after everyone receives, before measuring
    double admit_timeout_s = 60;
    int server_cpu = -1;  // pin the server (every thread) here
    int self_cpu = -1;    // and the generator here
    std::string out;
    MediaShape shape;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--target")
            o.target = value();
        else if (a == "--name")
            o.name = value();
        else if (a == "--rollcall-bin")
            o.rollcall_bin = value();
        else if (a == "--janus-port")
            o.janus_port = static_cast<std::uint16_t>(std::stoi(value()));
        else if (a == "--janus-pid")
            o.janus_pid = std::stoi(value());
        else if (a == "--publishers")
            o.publishers = std::stoul(value());
        else if (a == "--subscribers")
            o.subscribers = std::stoul(value());
        else if (a == "--meeting")
            o.meeting = true;
        else if (a == "--join-rate")
            o.join_rate = std::stod(value());
        else if (a == "--window")
            o.window_s = std::stod(value());
        else if (a == "--warmup")
            o.warmup_s = std::stod(value());
        else if (a == "--admit-timeout")
            o.admit_timeout_s = std::stod(value());
        else if (a == "--server-cpu")
            o.server_cpu = std::stoi(value());
        else if (a == "--self-cpu")
            o.self_cpu = std::stoi(value());
        else if (a == "--video-bps")
            o.shape.video_bps = std::stod(value());
        else if (a == "--pacing")
            o.shape.pacing_factor = std::stod(value());
        else if (a == "--out")
            o.out = value();
        else {
            std::fprintf(stderr, "unknown argument %s (see bench/README.md)\n", a.c_str());
            std::exit(2);
        }
    }
    if (o.target != "rollcall" && o.target != "janus") {
        std::fprintf(stderr, "--target is rollcall or janus\n");
        std::exit(2);
    }
    if (o.target == "janus" && o.janus_pid <= 0) {
        std::fprintf(stderr, "--target janus needs --janus-pid\n");
        std::exit(2);
    }
    return o;
}

double process_cpu_s(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
        if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double self_cpu_s() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return s(usage.ru_utime) + s(usage.ru_stime);
}

// Udp: InErrors and RcvbufErrors of this namespace (/proc/net/snmp).
long udp_receive_errors() {
    std::ifstream in("/proc/net/snmp");
    std::string header, values;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Udp:", 0) != 0) continue;
        if (header.empty())
            header = line;
        else
            values = line;
    }
    std::istringstream h(header), v(values);
    std::string name, value;
    long total = 0;
    while (h >> name && v >> value)
        if (name == "RcvbufErrors" || name == "InErrors") total += std::stol(value);
    return total;
}

void pin(int pid, int cpu, bool all_threads) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (!all_threads) {
        ::sched_setaffinity(pid, sizeof(set), &set);
        return;
    }
    std::error_code ec;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
        ::sched_setaffinity(std::stoi(task.path().filename().string()), sizeof(set), &set);
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

// The first or the last tenth of `v` (at least one element).
std::vector<double> tenth(const std::vector<double>& v, bool last) {
    const std::size_t n = std::max<std::size_t>(1, v.size() / 10);
    if (v.size() < n) return v;
    return last ? std::vector<double>(v.end() - static_cast<std::ptrdiff_t>(n), v.end())
                : std::vector<double>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
}

class Run {
  public:
    explicit Run(const Options& o) : o_(o) {
        if (o.target == "rollcall") {
            server_ = std::make_unique<testpeer::ServerProcess>(
                o.rollcall_bin,
                "[rooms]\nmax_participants = 100000\n[limits]\nmax_connections = 100000\n"
                "max_connections_per_address = 100000\n");
            pid_ = server_->pid();
        } else {
            pid_ = o.janus_pid;
        }
        pin(pid_, o.server_cpu, true);
        pin(0, o.self_cpu, false);
        room_number_ = std::random_device{}() % 1000000000 + 1;
    }

    json execute();

  private:
    std::unique_ptr<LoadPeer> make(PeerRole role) {
        const auto id = static_cast<std::uint32_t>(peers_.size());
        if (o_.target == "rollcall")
            return make_rollcall_peer(loop_, *server_, "load-" + std::to_string(room_number_),
                                      std::move(role), o_.shape, recorder_, id);
        const std::size_t room_publishers = o_.publishers + 1;
        return make_janus_peer(loop_, o_.janus_port, room_number_, id == 0, room_publishers,
                               std::move(role), o_.shape, recorder_, id);
    }
    // Runs the loop for `seconds`, or until `done`; whether `done` came.
    bool run(double seconds, const std::function<bool()>& done = {}) {
        const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(seconds));
        for (;;) {
            const auto now = Clock::now();
            for (auto& peer : peers_) peer->step(now);
            if (done && done()) return true;
            if (now >= deadline) return false;
            loop_.run_for(std::chrono::milliseconds(1));
        }
    }
    std::string problems() const {
        std::string out;
        for (const auto& peer : peers_)
            for (const auto& p : peer->problems())
                if (out.size() < 2000) out += peer->role().identity + ": " + p + "\n";
        return out;
    }

    const Options& o_;
    testpeer::Loop loop_;
    std::unique_ptr<testpeer::ServerProcess> server_;
    int pid_ = 0;
    std::uint64_t room_number_ = 0;
    Recorder recorder_;
    std::vector<std::unique_ptr<LoadPeer>> peers_;
};

json Run::execute() {
    json result{{"target", o_.target},
                {"name", o_.name},
                {"publishers", o_.publishers},
                {"subscribers", o_.subscribers},
                {"meeting", o_.meeting},
                {"video_bps", o_.shape.video_bps},
                {"pacing_factor", o_.shape.pacing_factor}};
    const long rss_idle = testpeer::sample_process(pid_).rss_kb;
    // Publishers first, one after another (Janus: the first creates the room).
    for (std::size_t i = 0; i < o_.publishers; ++i) {
        peers_.push_back(make({"pub-" + std::to_string(i), true, o_.meeting}));
        peers_.back()->start();
        LoadPeer* p = peers_.back().get();
        if (!run(20, [&] {
                return p->publishing() && (i > 0 || p->feed() || o_.target == "rollcall");
            }))
            throw std::runtime_error("publisher " + std::to_string(i) + " did not connect:\n" +
                                     problems());
    }
    std::vector<std::uint64_t> feeds;
    for (const auto& p : peers_) feeds.push_back(p->feed());
    if (o_.meeting)
        for (auto& p : peers_) p->subscribe(feeds);
    // Subscribers, at the join rate (or each once the previous one receives).
    const auto admitting = Clock::now();
    const std::size_t first_subscriber = peers_.size();
    for (std::size_t i = 0; i < o_.subscribers; ++i) {
        peers_.push_back(make({"sub-" + std::to_string(i), false, true}));
        peers_.back()->start();
        peers_.back()->subscribe(feeds);
        LoadPeer* s = peers_.back().get();
        if (o_.join_rate <= 0) {
            if (!run(o_.admit_timeout_s, [&] { return s->sink().first_media().has_value(); }))
                throw std::runtime_error(s->role().identity + " received nothing:\n" + problems());
        } else {
            run(1.0 / o_.join_rate);
        }
    }
    const auto receiving = [&] {
        for (const auto& p : peers_)
            if (p->role().subscribe && !p->sink().first_media()) return false;
        return true;
    };
    if (!run(o_.admit_timeout_s, receiving)) {
        std::size_t waiting = 0;
        for (const auto& p : peers_) waiting += p->role().subscribe && !p->sink().first_media();
        throw std::runtime_error(std::to_string(waiting) + " subscribers received nothing:\n" +
                                 problems());
    }
    // Join latency: started (token in hand) → the first stamped packet decrypted. A meeting's
    // publishers count too (their first packet waits for the others to publish).
    std::vector<double> joins_ms;
    Clock::time_point last_admitted = admitting;
    for (std::size_t i = 0; i < peers_.size(); ++i) {
        if (!peers_[i]->role().subscribe) continue;
        const auto first = *peers_[i]->sink().first_media();
        joins_ms.push_back(
            std::chrono::duration<double, std::milli>(first - peers_[i]->started()).count());
        if (i >= first_subscriber) last_admitted = std::max(last_admitted, first);
    }
    run(o_.warmup_s);
    // The window.
    const long drops_before = udp_receive_errors();
    const double server_before = process_cpu_s(pid_), self_before = self_cpu_s();
    std::uint64_t sent_before = 0;
    for (const auto& p : peers_) sent_before += p->packets_sent();
    const auto window_start = Clock::now();
    recorder_.start();
    run(o_.window_s);
    recorder_.stop();
    const double seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
    const double server_cpu = process_cpu_s(pid_) - server_before;
    const double self_cpu = self_cpu_s() - self_before;
    std::uint64_t sent = 0;
    for (const auto& p : peers_) sent += p->packets_sent();
    sent -= sent_before;
    const long rss = testpeer::sample_process(pid_).rss_kb;
    const Recorder::Summary r = recorder_.summary();
    const auto profile = peers_.back()->profile();
    const double participants = static_cast<double>(peers_.size());
    result.update({
        {"srtp_profile", profile ? std::string(transport::to_string(*profile)) : "?"},
        {"loadgen_srtp", transport::srtp_library()},
        {"window_s", seconds},
        {"ingress_packets", sent},
        {"egress_packets", r.packets},
        {"egress_pps", static_cast<double>(r.packets) / seconds},
        {"egress_mbps", static_cast<double>(r.bytes) * 8 / seconds / 1e6},
        {"server_cpu_s", server_cpu},
        {"server_cpu_percent", 100 * server_cpu / seconds},
        {"server_cpu_us_per_egress_packet",
         r.packets ? 1e6 * server_cpu / static_cast<double>(r.packets) : 0},
        {"server_cpu_s_per_million_egress",
         r.packets ? 1e6 * server_cpu / static_cast<double>(r.packets) : 0},
        {"loadgen_cpu_percent", 100 * self_cpu / seconds},
        {"delay_ms",
         {{"p50", r.delay_p50_us / 1000},
          {"p99", r.delay_p99_us / 1000},
          {"max", r.delay_max_us / 1000}}},
        {"jitter_ms", r.jitter_us / 1000},
        {"lost", r.lost},
        {"loss_percent", r.packets + r.lost ? 100.0 * static_cast<double>(r.lost) /
                                                  static_cast<double>(r.packets + r.lost)
                                            : 0},
        {"reordered", r.reordered},
        {"duplicates", r.duplicates},
        {"udp_receive_errors", udp_receive_errors() - drops_before},
        {"join_ms",
         {{"p50", percentile(joins_ms, 0.5)},
          {"p99", percentile(joins_ms, 0.99)},
          {"max", percentile(joins_ms, 1)},
          // In join order: whether a join costs more in a fuller room.
          {"first_tenth_p50", percentile(tenth(joins_ms, false), 0.5)},
          {"last_tenth_p50", percentile(tenth(joins_ms, true), 0.5)}}},
        {"admit_all_s", std::chrono::duration<double>(last_admitted - admitting).count()},
        {"rss_idle_kb", rss_idle},
        {"rss_kb", rss},
        {"rss_per_participant_kb", static_cast<double>(rss - rss_idle) / participants},
        {"problems", problems()},
    });
    for (auto& p : peers_) p->leave();
    run(0.5);
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    try {
        Run run(options);
        const json result = run.execute();
        std::printf("%s\n", result.dump().c_str());
        if (!options.out.empty()) std::ofstream(options.out) << result.dump(2) << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "loadgen: %s\n", e.what());
        return 1;
    }
}
