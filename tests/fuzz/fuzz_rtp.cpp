// RTP header and extension parsing over arbitrary datagrams, and what the forwarding path
// reads from a video payload (VP8 descriptor, H264 NAL units) and rewrites in it.
#include <cstdint>
#include <vector>

#include "sfu/VideoPayload.hpp"
#include "transport/RtpPacket.hpp"
#include "transport/TransportCc.hpp"

using namespace rollcall::transport;
using namespace rollcall::sfu;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> copy(data, data + size);
    if (auto packet = RtpPacket::parse(copy)) {
        for (int id = 1; id < 16; ++id) {
            if (auto element = packet->extension(static_cast<std::uint8_t>(id)))
                (void)transport_cc_sequence(*element);
        }
        auto payload = packet->bytes().subspan(packet->header_size(), packet->payload().size());
        for (VideoCodec codec : {VideoCodec::vp8, VideoCodec::h264}) {
            if (auto info = parse_video_payload(codec, payload)) {
                write_vp8_picture_id(payload, *info,
                                     static_cast<std::uint16_t>(info->picture_id + 1));
                write_vp8_tl0(payload, *info, static_cast<std::uint8_t>(info->tl0 + 1));
            }
        }
        packet->set_ssrc(packet->ssrc() + 1);
        packet->set_sequence(static_cast<std::uint16_t>(packet->sequence() + 1));
    }
    return 0;
}
