#!/usr/bin/python3
"""aiortc, an independent WebRTC stack, joins rollcall in echo mode and decodes its own
frames coming back. Prints one JSON line with the outcome; exit 0 on the expected result.

usage: aiortc_echo.py WSS_URL CA_FILE TOKEN [--bad-fingerprint] [--sdes]
"""
import asyncio
import json
import re
import ssl
import sys
import time

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc_common import PatternTrack


async def run(url, ca_file, token, bad_fingerprint, sdes):
    context = ssl.create_default_context(cafile=ca_file)
    result = {"video_frames": 0, "audio_frames": 0}
    started = time.monotonic()
    async with websockets.connect(url, ssl=context, max_size=2**20) as ws:
        await ws.send(json.dumps({"type": "join", "token": token}))
        joined = json.loads(await ws.recv())
        if joined.get("type") != "joined":
            return {"error": joined}
        pc = RTCPeerConnection()
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(PatternTrack())
        got_video = asyncio.Event()
        got_audio = asyncio.Event()

        async def consume(track):
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                if track.kind == "video":
                    result["video_frames"] += 1
                    if result["video_frames"] == 1:
                        result["first_frame_ms"] = round((time.monotonic() - started) * 1000)
                    if result["video_frames"] >= 10:
                        got_video.set()
                else:
                    result["audio_frames"] += 1
                    if result["audio_frames"] >= 20:
                        got_audio.set()

        pc.on("track", lambda track: asyncio.ensure_future(consume(track)))
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        if bad_fingerprint:
            sdp = re.sub(r"a=fingerprint:sha-256 [0-9A-F:]+", "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), sdp)
        if sdes:
            sdp = sdp.replace("a=rtcp-mux", "a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
        await ws.send(json.dumps({"type": "publish", "echo": True, "sdp": sdp, "id": 1}))

        async def signaling():
            async for text in ws:
                message = json.loads(text)
                if message.get("type") == "answer":
                    await pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
                    result["answer_addresses"] = sorted(set(re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) ", message["sdp"])))
                elif message.get("type") == "media":
                    result["media"] = message
                    if message.get("state") == "failed":
                        return
                elif message.get("type") == "error":
                    result["error"] = message
                    return

        signaling_task = asyncio.ensure_future(signaling())
        media_task = asyncio.ensure_future(asyncio.gather(got_video.wait(), got_audio.wait()))
        done, _ = await asyncio.wait([signaling_task, media_task], timeout=20, return_when=asyncio.FIRST_COMPLETED)
        for task in (signaling_task, media_task):
            task.cancel()
        await asyncio.gather(signaling_task, media_task, return_exceptions=True)
        await pc.close()
    return result


def main():
    url, ca_file, token = sys.argv[1:4]
    bad_fingerprint = "--bad-fingerprint" in sys.argv
    sdes = "--sdes" in sys.argv
    result = asyncio.run(run(url, ca_file, token, bad_fingerprint, sdes))
    print(json.dumps(result), flush=True)
    if bad_fingerprint:
        ok = result.get("media", {}).get("state") == "failed" and result["video_frames"] == 0
    elif sdes:
        ok = result.get("error", {}).get("code") == "sdes_not_supported"
    else:
        ok = result["video_frames"] >= 10 and result["audio_frames"] >= 20
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
