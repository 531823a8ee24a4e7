#include "transport/Sdp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <map>

namespace rollcall::transport {

namespace {

constexpr std::size_t kMaxLine = 4096;

template <typename T>
bool parse_number(std::string_view text, T& out, T max = std::numeric_limits<T>::max()) {
    if (text.empty()) return false;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() ||
        value > static_cast<std::uint64_t>(max))
        return false;
    out = static_cast<T>(value);
    return true;
}

std::vector<std::string_view> split(std::string_view text, char separator = ' ') {
    std::vector<std::string_view> parts;
    while (!text.empty()) {
        const auto at = text.find(separator);
        if (at != 0) parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) break;
        text.remove_prefix(at + 1);
    }
    return parts;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "sha-256 AB:CD:..." with the byte count the algorithm implies (RFC 8122 §5).
std::optional<SdpFingerprint> parse_fingerprint(std::string_view value) {
    auto parts = split(value);
    if (parts.size() != 2) return std::nullopt;
    SdpFingerprint fp;
    fp.algorithm = lower(parts[0]);
    std::size_t bytes = 0;
    if (fp.algorithm == "sha-256")
        bytes = 32;
    else if (fp.algorithm == "sha-384")
        bytes = 48;
    else if (fp.algorithm == "sha-512")
        bytes = 64;
    else if (fp.algorithm == "sha-1")
        bytes = 20;
    else
        return std::nullopt;
    const std::string_view hex = parts[1];
    if (hex.size() != bytes * 3 - 1) return std::nullopt;
    for (std::size_t i = 0; i < hex.size(); ++i) {
        if (i % 3 == 2 ? hex[i] != ':' : !is_hex(hex[i])) return std::nullopt;
    }
    fp.value.reserve(hex.size());
    for (char c : hex)
        fp.value.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return fp;
}

// Codecs whose rtpmap may be omitted (RFC 3551 §6).
std::optional<SdpCodec> static_codec(std::uint8_t pt) {
    switch (pt) {
        case 0:
            return SdpCodec{0, "PCMU", 8000, 1, {}, {}};
        case 8:
            return SdpCodec{8, "PCMA", 8000, 1, {}, {}};
        case 9:
            return SdpCodec{9, "G722", 8000, 1, {}, {}};
        case 13:
            return SdpCodec{13, "CN", 8000, 1, {}, {}};
        default:
            return std::nullopt;
    }
}

class Parser {
  public:
    Parser(std::string& error, const SdpLimits& limits) : error_(error), limits_(limits) {}

    std::optional<SessionDescription> run(std::string_view text) {
        if (text.size() > limits_.max_bytes)
            return fail("the SDP is larger than " + std::to_string(limits_.max_bytes) + " bytes");
        bool first = true;
        while (!text.empty()) {
            auto end = text.find('\n');
            std::string_view line = text.substr(0, end);
            text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.empty()) continue;
            if (line.size() > kMaxLine) return fail("an SDP line is too long");
            for (unsigned char c : line) {
                if (c < 0x20 && c != '\t') return fail("the SDP has control characters");
            }
            if (line.size() < 2 || line[1] != '=')
                return fail("not an SDP line: " + std::string(line.substr(0, 40)));
            if (first) {
                if (line != "v=0") return fail("an SDP starts with v=0");
                first = false;
                continue;
            }
            if (!handle(line[0], line.substr(2))) return std::nullopt;
        }
        if (first) return fail("empty SDP");
        if (!finish_media()) return std::nullopt;
        return std::move(description_);
    }

  private:
    std::nullopt_t fail(std::string message) {
        error_ = std::move(message);
        return std::nullopt;
    }
    bool bad(std::string message) {
        error_ = std::move(message);
        return false;
    }

    bool handle(char type, std::string_view value) {
        if (type == 'o' && !media_) {
            auto parts = split(value);
            if (parts.size() >= 3) {
                description_.origin_session_id = std::string(parts[1]);
                parse_number(parts[2], description_.origin_version);
            }
            return true;
        }
        if (type == 'm') return start_media(value);
        if (type != 'a') return true;  // c=, b=, s=, t= and the rest carry nothing rollcall uses
        const auto colon = value.find(':');
        const std::string_view name = value.substr(0, colon);
        const std::string_view arg =
            colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
        return media_ ? media_attribute(name, arg) : session_attribute(name, arg);
    }

    bool session_attribute(std::string_view name, std::string_view arg) {
        if (name == "group") {
            auto parts = split(arg);
            if (!parts.empty() && parts[0] == "BUNDLE") {
                for (std::size_t i = 1; i < parts.size(); ++i)
                    description_.bundle.emplace_back(parts[i]);
            }
        } else if (name == "ice-ufrag") {
            description_.ice_ufrag = std::string(arg);
        } else if (name == "ice-pwd") {
            description_.ice_pwd = std::string(arg);
        } else if (name == "ice-lite") {
            description_.ice_lite = true;
        } else if (name == "setup") {
            description_.setup = std::string(arg);
        } else if (name == "fingerprint") {
            auto fp = parse_fingerprint(arg);
            if (!fp) return bad("malformed a=fingerprint");
            description_.fingerprints.push_back(*fp);
        }
        return true;
    }

    bool start_media(std::string_view value) {
        if (!finish_media()) return false;
        if (description_.media.size() >= limits_.max_media) return bad("too many m= sections");
        auto parts = split(value);
        if (parts.size() < 3) return bad("malformed m= line");
        SdpMedia& m = description_.media.emplace_back();
        m.kind_name = std::string(parts[0]);
        m.kind = parts[0] == "audio"         ? MediaKind::audio
                 : parts[0] == "video"       ? MediaKind::video
                 : parts[0] == "application" ? MediaKind::application
                                             : MediaKind::unknown;
        if (!parse_number(parts[1].substr(0, parts[1].find('/')), m.port))
            return bad("malformed m= port");
        m.protocol = std::string(parts[2]);
        if (parts.size() - 3 > limits_.max_codecs) return bad("too many formats in an m= line");
        for (std::size_t i = 3; i < parts.size(); ++i) m.formats.emplace_back(parts[i]);
        media_ = &m;
        rtpmap_.clear();
        fmtp_.clear();
        feedback_.clear();
        return true;
    }

    bool media_attribute(std::string_view name, std::string_view arg) {
        SdpMedia& m = *media_;
        if (name == "mid") {
            if (arg.empty() || arg.size() > 32) return bad("a=mid must be 1..32 characters");
            m.mid = std::string(arg);
        } else if (name == "sendrecv" || name == "sendonly" || name == "recvonly" ||
                   name == "inactive") {
            m.direction = name == "sendrecv"   ? Direction::sendrecv
                          : name == "sendonly" ? Direction::sendonly
                          : name == "recvonly" ? Direction::recvonly
                                               : Direction::inactive;
        } else if (name == "rtcp-mux") {
            m.rtcp_mux = true;
        } else if (name == "rtcp-rsize") {
            m.rtcp_rsize = true;
        } else if (name == "crypto") {
            m.has_crypto = true;
        } else if (name == "ice-ufrag") {
            m.ice_ufrag = std::string(arg);
        } else if (name == "ice-pwd") {
            m.ice_pwd = std::string(arg);
        } else if (name == "setup") {
            m.setup = std::string(arg);
        } else if (name == "fingerprint") {
            auto fp = parse_fingerprint(arg);
            if (!fp) return bad("malformed a=fingerprint");
            m.fingerprints.push_back(*fp);
        } else if (name == "candidate") {
            if (m.candidates.size() >= limits_.max_candidates) return bad("too many candidates");
            auto candidate = parse_candidate(arg);
            if (!candidate) return bad("malformed a=candidate");
            m.candidates.push_back(*candidate);
        } else if (name == "end-of-candidates") {
            m.end_of_candidates = true;
        } else if (name == "bundle-only") {
            m.bundle_only = true;
        } else if (name == "sctp-port") {
            if (!parse_number(arg, m.sctp_port) || m.sctp_port == 0)
                return bad("malformed a=sctp-port");
        } else if (name == "sctpmap") {
            auto parts = split(arg);
            if (parts.size() < 2 || parts[1] != "webrtc-datachannel" ||
                !parse_number(parts[0], m.sctp_port) || m.sctp_port == 0)
                return bad("malformed a=sctpmap");
            m.sctpmap = true;
        } else if (name == "max-message-size") {
            if (!parse_number(arg, m.max_message_size)) return bad("malformed a=max-message-size");
        } else if (name == "msid") {
            m.msid = std::string(arg);
        } else if (name == "rtpmap") {
            return rtpmap(arg);
        } else if (name == "fmtp" || name == "rtcp-fb") {
            const auto space = arg.find(' ');
            std::uint8_t pt = 0;
            if (space == std::string_view::npos) return bad("malformed a=" + std::string(name));
            if (arg.substr(0, space) == "*" && name == "rtcp-fb") {
                wildcard_feedback_.emplace_back(arg.substr(space + 1));
                return true;
            }
            if (!parse_number(arg.substr(0, space), pt, std::uint8_t{127}))
                return bad("malformed a=" + std::string(name));
            if (name == "fmtp")
                fmtp_[pt] = std::string(arg.substr(space + 1));
            else
                feedback_[pt].emplace_back(arg.substr(space + 1));
        } else if (name == "extmap") {
            auto parts = split(arg);
            SdpExtension ext;
            if (parts.size() < 2 ||
                !parse_number(parts[0].substr(0, parts[0].find('/')), ext.id, std::uint8_t{255}) ||
                ext.id == 0) {
                return bad("malformed a=extmap");
            }
            ext.uri = std::string(parts[1]);
            m.extensions.push_back(std::move(ext));
        } else if (name == "ssrc") {
            return ssrc(arg);
        } else if (name == "rid") {
            return rid(arg);
        } else if (name == "simulcast") {
            return simulcast(arg);
        } else if (name == "ssrc-group") {
            auto parts = split(arg);
            if (parts.size() < 2) return bad("malformed a=ssrc-group");
            SdpSsrcGroup group;
            group.semantics = std::string(parts[0]);
            for (std::size_t i = 1; i < parts.size(); ++i) {
                std::uint32_t value = 0;
                if (!parse_number(parts[i], value)) return bad("malformed a=ssrc-group");
                group.ssrcs.push_back(value);
            }
            m.ssrc_groups.push_back(std::move(group));
        }
        return true;
    }

    bool rtpmap(std::string_view arg) {
        // "<pt> <name>/<rate>[/<channels>]"
        const auto space = arg.find(' ');
        std::uint8_t pt = 0;
        if (space == std::string_view::npos ||
            !parse_number(arg.substr(0, space), pt, std::uint8_t{127})) {
            return bad("malformed a=rtpmap");
        }
        auto parts = split(arg.substr(space + 1), '/');
        SdpCodec codec;
        codec.payload_type = pt;
        if (parts.size() < 2 || parts.size() > 3 || !parse_number(parts[1], codec.clock_rate) ||
            (parts.size() == 3 && !parse_number(parts[2], codec.channels))) {
            return bad("malformed a=rtpmap");
        }
        codec.name = std::string(parts[0]);
        rtpmap_[pt] = std::move(codec);
        return true;
    }

    static bool valid_rid(std::string_view id) {
        return !id.empty() && id.size() <= 16 && std::all_of(id.begin(), id.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
    }

    // "<id> send|recv [params]"
    bool rid(std::string_view arg) {
        auto parts = split(arg);
        SdpMedia& m = *media_;
        if (parts.size() < 2 || !valid_rid(parts[0]) || (parts[1] != "send" && parts[1] != "recv"))
            return bad("malformed a=rid");
        if (m.rids.size() >= limits_.max_rids) return bad("too many a=rid");
        SdpRid r{std::string(parts[0]), parts[1] == "send",
                 parts.size() > 2 ? std::string(parts[2]) : ""};
        m.rids.push_back(std::move(r));
        return true;
    }

    // "send <streams> [recv <streams>]", streams "a;b,c;~d": ';' between streams, ',' between
    // alternatives of one, '~' paused.
    bool simulcast(std::string_view arg) {
        auto parts = split(arg);
        SdpMedia& m = *media_;
        if (parts.empty() || parts.size() % 2 != 0) return bad("malformed a=simulcast");
        for (std::size_t i = 0; i < parts.size(); i += 2) {
            if (parts[i] != "send" && parts[i] != "recv") return bad("malformed a=simulcast");
            auto& list = parts[i] == "send" ? m.simulcast_send : m.simulcast_recv;
            list.clear();
            for (std::string_view stream : split(parts[i + 1], ';')) {
                std::string_view first = stream.substr(0, stream.find(','));
                if (first.starts_with('~')) first.remove_prefix(1);
                if (!valid_rid(first) || list.size() >= limits_.max_rids)
                    return bad("malformed a=simulcast");
                list.emplace_back(first);
            }
        }
        return true;
    }

    bool ssrc(std::string_view arg) {
        const auto space = arg.find(' ');
        std::uint32_t value = 0;
        if (!parse_number(arg.substr(0, space), value)) return bad("malformed a=ssrc");
        SdpMedia& m = *media_;
        if (std::find(m.ssrcs.begin(), m.ssrcs.end(), value) == m.ssrcs.end()) {
            if (m.ssrcs.size() >= limits_.max_ssrcs) return bad("too many SSRCs");
            m.ssrcs.push_back(value);
        }
        if (space != std::string_view::npos) {
            const std::string_view attribute = arg.substr(space + 1);
            if (attribute.starts_with("cname:")) m.cname = std::string(attribute.substr(6));
        }
        return true;
    }

    // Codecs in m= line order, with their fmtp and feedback attached.
    bool finish_media() {
        if (!media_) return true;
        SdpMedia& m = *media_;
        if (m.kind == MediaKind::audio || m.kind == MediaKind::video) {
            for (const std::string& format : m.formats) {
                std::uint8_t pt = 0;
                if (!parse_number(std::string_view(format), pt, std::uint8_t{127}))
                    return bad("malformed payload type in m= line");
                std::optional<SdpCodec> codec;
                if (auto it = rtpmap_.find(pt); it != rtpmap_.end())
                    codec = it->second;
                else
                    codec = static_codec(pt);
                if (!codec) continue;  // no rtpmap: not a codec anyone can use
                if (auto it = fmtp_.find(pt); it != fmtp_.end()) codec->fmtp = it->second;
                if (auto it = feedback_.find(pt); it != feedback_.end())
                    codec->feedback = it->second;
                for (const auto& fb : wildcard_feedback_) codec->feedback.push_back(fb);
                m.codecs.push_back(std::move(*codec));
            }
        }
        wildcard_feedback_.clear();
        media_ = nullptr;
        return true;
    }

    std::string& error_;
    const SdpLimits& limits_;
    SessionDescription description_;
    SdpMedia* media_ = nullptr;
    std::map<std::uint8_t, SdpCodec> rtpmap_;
    std::map<std::uint8_t, std::string> fmtp_;
    std::map<std::uint8_t, std::vector<std::string>> feedback_;
    std::vector<std::string> wildcard_feedback_;
};

}  // namespace

const SdpCodec* SdpMedia::codec(std::uint8_t payload_type) const {
    for (const auto& c : codecs)
        if (c.payload_type == payload_type) return &c;
    return nullptr;
}

bool SessionDescription::in_bundle(const SdpMedia& m) const {
    return !m.mid.empty() && std::find(bundle.begin(), bundle.end(), m.mid) != bundle.end();
}

bool SessionDescription::is_stopped(const SdpMedia& m) const {
    return m.port == 0 && !(m.bundle_only && in_bundle(m));
}

const SdpExtension* SdpMedia::extension(std::string_view uri) const {
    for (const auto& e : extensions)
        if (e.uri == uri) return &e;
    return nullptr;
}

std::optional<SdpCandidate> parse_candidate(std::string_view value) {
    // RFC 8839 §5.1: foundation component transport priority address port "typ" type [...]
    if (value.starts_with("candidate:")) value.remove_prefix(10);
    auto parts = split(value);
    if (parts.size() < 8 || parts[6] != "typ") return std::nullopt;
    SdpCandidate c;
    c.foundation = std::string(parts[0]);
    if (c.foundation.empty() || c.foundation.size() > 32) return std::nullopt;
    if (!parse_number(parts[1], c.component, std::uint16_t{256}) || c.component == 0)
        return std::nullopt;
    c.transport = lower(parts[2]);
    if (!parse_number(parts[3], c.priority)) return std::nullopt;
    c.address = std::string(parts[4]);
    if (c.address.empty() || c.address.size() > 255) return std::nullopt;
    if (!parse_number(parts[5], c.port)) return std::nullopt;
    c.type = std::string(parts[7]);
    if (c.type != "host" && c.type != "srflx" && c.type != "prflx" && c.type != "relay")
        return std::nullopt;
    return c;
}

std::string write_candidate(const SdpCandidate& c) {
    return "candidate:" + c.foundation + " " + std::to_string(c.component) + " " + c.transport +
           " " + std::to_string(c.priority) + " " + c.address + " " + std::to_string(c.port) +
           " typ " + c.type;
}

std::optional<SessionDescription> parse_sdp(std::string_view text, std::string& error,
                                            const SdpLimits& limits) {
    return Parser(error, limits).run(text);
}

std::string to_string(const SdpFingerprint& fingerprint) {
    return fingerprint.algorithm + " " + fingerprint.value;
}

std::string_view to_string(Direction direction) noexcept {
    switch (direction) {
        case Direction::sendrecv:
            return "sendrecv";
        case Direction::sendonly:
            return "sendonly";
        case Direction::recvonly:
            return "recvonly";
        case Direction::inactive:
            return "inactive";
    }
    return "inactive";
}

std::string_view to_string(MediaKind kind) noexcept {
    switch (kind) {
        case MediaKind::audio:
            return "audio";
        case MediaKind::video:
            return "video";
        case MediaKind::application:
            return "application";
        case MediaKind::unknown:
            return "unknown";
    }
    return "unknown";
}

std::string write_sdp(const SessionDescription& d) {
    std::string out;
    auto line = [&out](std::string_view text) {
        out += text;
        out += "\r\n";
    };
    line("v=0");
    // The origin address is not an address of anything: no peer learns one from it.
    line("o=- " + d.origin_session_id + " " + std::to_string(d.origin_version) + " IN IP4 0.0.0.0");
    line("s=-");
    line("t=0 0");
    if (!d.bundle.empty()) {
        std::string group = "a=group:BUNDLE";
        for (const auto& mid : d.bundle) group += " " + mid;
        line(group);
    }
    if (d.ice_lite) line("a=ice-lite");
    line("a=msid-semantic: WMS *");
    for (const SdpMedia& m : d.media) {
        std::string mline = "m=" + m.kind_name + " " + std::to_string(m.port) + " " + m.protocol;
        for (const auto& f : m.formats) mline += " " + f;
        line(mline);
        const SdpCandidate* first = m.candidates.empty() ? nullptr : &m.candidates.front();
        line(std::string("c=IN IP4 ") + (first ? first->address : "0.0.0.0"));
        const bool data = m.kind == MediaKind::application;
        if (!data) line("a=rtcp:9 IN IP4 0.0.0.0");
        for (const auto& c : m.candidates) line("a=" + write_candidate(c));
        if (m.end_of_candidates) line("a=end-of-candidates");
        if (!m.ice_ufrag.empty()) line("a=ice-ufrag:" + m.ice_ufrag);
        if (!m.ice_pwd.empty()) line("a=ice-pwd:" + m.ice_pwd);
        line("a=ice-options:trickle");
        for (const auto& fp : m.fingerprints) line("a=fingerprint:" + to_string(fp));
        if (!m.setup.empty()) line("a=setup:" + m.setup);
        if (!m.mid.empty()) line("a=mid:" + m.mid);
        if (m.bundle_only) line("a=bundle-only");
        for (const auto& e : m.extensions) line("a=extmap:" + std::to_string(e.id) + " " + e.uri);
        if (!data) line("a=" + std::string(to_string(m.direction)));
        if (m.sctp_port != 0 && m.sctpmap)
            line("a=sctpmap:" + std::to_string(m.sctp_port) + " webrtc-datachannel 1024");
        else if (m.sctp_port != 0)
            line("a=sctp-port:" + std::to_string(m.sctp_port));
        if (m.max_message_size != 0)
            line("a=max-message-size:" + std::to_string(m.max_message_size));
        if (!m.msid.empty()) line("a=msid:" + m.msid);
        if (m.rtcp_mux) line("a=rtcp-mux");
        if (m.rtcp_rsize) line("a=rtcp-rsize");
        for (const auto& c : m.codecs) {
            std::string map = "a=rtpmap:" + std::to_string(c.payload_type) + " " + c.name + "/" +
                              std::to_string(c.clock_rate);
            if (c.channels > 1) map += "/" + std::to_string(c.channels);
            line(map);
            for (const auto& fb : c.feedback)
                line("a=rtcp-fb:" + std::to_string(c.payload_type) + " " + fb);
            if (!c.fmtp.empty()) line("a=fmtp:" + std::to_string(c.payload_type) + " " + c.fmtp);
        }
        for (const auto& r : m.rids) {
            line("a=rid:" + r.id + (r.send ? " send" : " recv") +
                 (r.params.empty() ? "" : " " + r.params));
        }
        auto simulcast = [&](std::string_view dir, const std::vector<std::string>& list) {
            if (list.empty()) return;
            std::string text = "a=simulcast:" + std::string(dir) + " ";
            for (std::size_t i = 0; i < list.size(); ++i) text += (i ? ";" : "") + list[i];
            line(text);
        };
        simulcast("send", m.simulcast_send);
        simulcast("recv", m.simulcast_recv);
        for (const auto& g : m.ssrc_groups) {
            std::string group = "a=ssrc-group:" + g.semantics;
            for (auto s : g.ssrcs) group += " " + std::to_string(s);
            line(group);
        }
        for (auto s : m.ssrcs) {
            if (!m.cname.empty()) line("a=ssrc:" + std::to_string(s) + " cname:" + m.cname);
            if (!m.msid.empty()) line("a=ssrc:" + std::to_string(s) + " msid:" + m.msid);
        }
    }
    return out;
}

}  // namespace rollcall::transport
