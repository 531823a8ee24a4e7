#include "signaling/MediaStatsJson.hpp"

#include <cmath>

namespace rollcall::signaling {

using nlohmann::json;

namespace {

// Figures rounded for people: bitrates to whole bits, ratios and times to 3 decimals.
double rounded(double value) {
    return std::round(value * 1000.0) / 1000.0;
}

json stream_json(const sfu::StreamStats& stats) {
    json out = {{"packets", stats.packets},
                {"bytes", stats.bytes},
                {"bitrate_bps", std::llround(stats.bitrate_bps)},
                {"loss", rounded(stats.loss)},
                {"jitter_ms", rounded(stats.jitter_ms)},
                {"keyframe_requests", stats.keyframe_requests}};
    return out;
}

std::string transport_state(const sfu::RoomTruth* truth, sfu::SessionId session,
                            sfu::PeerRole role) {
    if (!truth) return "none";
    for (const sfu::TransportFact& fact : truth->transports) {
        if (fact.session == session && fact.role == role)
            return fact.connected ? "connected" : "connecting";
    }
    return "none";
}

// The server's estimate of a subscriber connection's link, and the probes it sent (null
// without transport-cc).
const sfu::TransportFact* estimating(const sfu::RoomTruth* truth, sfu::SessionId session) {
    if (!truth) return nullptr;
    for (const sfu::TransportFact& fact : truth->transports) {
        if (fact.session == session && fact.role == sfu::PeerRole::subscriber &&
            fact.estimate_bps > 0)
            return &fact;
    }
    return nullptr;
}

std::string identity_of(const room::Room& room, sfu::SessionId session) {
    for (const auto& [identity, participant] : room.participants) {
        if (participant.session == session) return identity;
    }
    return {};
}

}  // namespace

json participant_media_json(const room::Room& room, const room::Participant& participant,
                            const sfu::RoomTruth* truth) {
    const sfu::SessionId session = participant.session;
    json published = json::array();
    json receiving = json::array();
    double in_bps = 0;
    double out_bps = 0;
    double rtt_sum = 0;
    int rtt_count = 0;
    if (truth) {
        for (const sfu::ProducerFact& producer : truth->producers) {
            if (producer.publisher != session) continue;
            json entry = stream_json(producer.stats);
            entry["track"] = producer.track_id;
            entry["kind"] = transport::to_string(producer.kind);
            entry["paused"] = producer.paused;
            std::size_t receivers = 0;
            for (const sfu::ConsumerFact& consumer : truth->consumers)
                receivers += consumer.track_id == producer.track_id && consumer.active;
            entry["receivers"] = receivers;
            if (!producer.layers.empty()) {
                json layers = json::array();
                for (const sfu::LayerFact& l : producer.layers)
                    layers.push_back({{"rid", l.rid},
                                      {"width", l.width},
                                      {"height", l.height},
                                      {"active", l.active},
                                      {"bitrate_bps", std::llround(l.bitrate_bps)}});
                entry["layers"] = std::move(layers);
            }
            in_bps += producer.stats.bitrate_bps;
            published.push_back(std::move(entry));
        }
        for (const sfu::ConsumerFact& consumer : truth->consumers) {
            if (consumer.subscriber != session) continue;
            json entry = stream_json(consumer.stats);
            entry["track"] = consumer.track_id;
            entry["from"] = identity_of(room, consumer.publisher);
            entry["active"] = consumer.active;
            if (consumer.target_layer >= 0 || consumer.layer >= 0 || consumer.video_off) {
                entry["layer"] = consumer.layer < 0 ? json(nullptr) : json(consumer.layer);
                entry["target_layer"] =
                    consumer.target_layer < 0 ? json(nullptr) : json(consumer.target_layer);
                entry["max_layer"] =
                    consumer.max_layer < 0 ? json(nullptr) : json(consumer.max_layer);
                entry["video_off"] = consumer.video_off;
            }
            entry["nacks"] = consumer.stats.nacks;
            entry["retransmissions"] = consumer.stats.retransmissions;
            entry["rtt_ms"] =
                consumer.stats.rtt_ms < 0 ? json(nullptr) : json(rounded(consumer.stats.rtt_ms));
            if (consumer.stats.rtt_ms >= 0) {
                rtt_sum += consumer.stats.rtt_ms;
                ++rtt_count;
            }
            out_bps += consumer.stats.bitrate_bps;
            receiving.push_back(std::move(entry));
        }
    }
    const sfu::TransportFact* estimate = estimating(truth, session);
    return {
        {"publisher", {{"state", transport_state(truth, session, sfu::PeerRole::publisher)}}},
        {"subscriber",
         {{"state", transport_state(truth, session, sfu::PeerRole::subscriber)},
          {"rtt_ms", rtt_count ? json(rounded(rtt_sum / rtt_count)) : json(nullptr)},
          {"estimate_bps", estimate ? json(std::llround(estimate->estimate_bps)) : json(nullptr)},
          {"probes", estimate ? json(estimate->probes) : json(nullptr)}}},
        {"bitrate_in_bps", std::llround(in_bps)},
        {"bitrate_out_bps", std::llround(out_bps)},
        {"published", std::move(published)},
        {"receiving", std::move(receiving)}};
}

json room_bitrates_json(const sfu::RoomTruth* truth) {
    double in_bps = 0;
    double out_bps = 0;
    if (truth) {
        for (const sfu::ProducerFact& producer : truth->producers)
            in_bps += producer.stats.bitrate_bps;
        for (const sfu::ConsumerFact& consumer : truth->consumers)
            out_bps += consumer.stats.bitrate_bps;
    }
    return {{"bitrate_in_bps", std::llround(in_bps)}, {"bitrate_out_bps", std::llround(out_bps)}};
}

}  // namespace rollcall::signaling
