"""What the aiortc test peers share: loopback-only ICE and a video source that encodes."""
import aioice.ice
# aioice skips 127.0.0.1 when listing interfaces; in a loopback-only namespace that leaves
# nothing, so offer loopback explicitly (BROWSER-TESTING.md).
aioice.ice.get_host_addresses = lambda *args, **kwargs: ["127.0.0.1"]

import numpy
from aiortc.mediastreams import VideoStreamTrack
from av import VideoFrame


class PatternTrack(VideoStreamTrack):
    """Moving bars, so the encoder produces real frames (not a flat image); with `noise`,
    random pixels, so it spends its whole bitrate (hundreds of kbit/s, not tens)."""

    def __init__(self, channel=1, noise=False):
        super().__init__()
        self.counter = 0
        self.channel = channel
        self.noise = noise
        self.random = numpy.random.default_rng(7)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        self.counter += 1
        if self.noise:
            image = self.random.integers(0, 256, (240, 320, 3), numpy.uint8)
        else:
            image = numpy.zeros((240, 320, 3), numpy.uint8)
            image[:, (self.counter * 4) % 320:, self.channel] = 200
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame
