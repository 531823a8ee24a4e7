#!/usr/bin/python3
"""aiortc, an independent WebRTC stack, as a conference participant: it may publish a
moving test pattern and a tone, and it subscribes to whatever the server offers, counting
decoded frames per remote track. Prints one JSON line; exit 0 when the expectation held.

usage: aiortc_peer.py WSS_URL CA_FILE TOKEN [--publish] [--expect-remote N] [--seconds S]
  --publish          publish audio and video
  --expect-remote N  succeed once video and audio from N other participants decode
  --seconds S        stay at most S seconds (default 25); a pure publisher stays this long
  --hold S           stay at least S seconds, so others can finish receiving (default 0)
  --drop-signaling-after S   close the WebSocket after S seconds, without a leave
  --leave-after S    send `leave` after S seconds (the server then closes the socket)
  --linger S         once signaling has ended (dropped, kicked), keep both peer connections
                     open and sending for S more seconds, as a client that ignores it would
  --wrong-fingerprint        sign the publish offer with a fingerprint that is not our certificate's
  --noisy-video      publish random pixels instead of the moving bars (the encoder's full bitrate)
  --republish-after-failure  when the publish connection fails, publish again from a new one
  --leak-sdp FILE    write both peer connections' local and remote SDP to FILE (JSON, rewritten
                     as they change), as a participant whose ICE credentials leak would
Each remote track reports the unix time (ms) of its last decoded frame, so a test can tell
when media stopped.
"""
import argparse
import asyncio
import json
import os
import random
import re
import ssl
import time

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc_common import PatternTrack


async def run(args):
    context = ssl.create_default_context(cafile=args.ca_file)
    started = time.monotonic()
    result = {"published": [], "remote": {}, "offers": 0, "errors": [], "media": {}}
    done = asyncio.Event()
    tracks_by_mid = {}
    leaked = {}

    def leak(role, connection):
        if not args.leak_sdp:
            return
        leaked[role] = {"local": connection.localDescription.sdp, "remote": connection.remoteDescription.sdp}
        with open(args.leak_sdp + ".tmp", "w") as f:
            json.dump(leaked, f)
        os.replace(args.leak_sdp + ".tmp", args.leak_sdp)

    def satisfied():
        if args.expect_remote <= 0:
            return False
        per_participant = {}
        for info in result["remote"].values():
            entry = per_participant.setdefault(info["identity"], {"video": 0, "audio": 0})
            entry[info["kind"]] = max(entry[info["kind"]], info["frames"])
        good = [p for p, e in per_participant.items() if e["video"] >= 10 and e["audio"] >= 20]
        return len(good) >= args.expect_remote

    async with websockets.connect(args.url, ssl=context, max_size=2**20) as ws:
        await ws.send(json.dumps({"type": "join", "token": args.token}))
        joined = json.loads(await ws.recv())
        if joined.get("type") != "joined":
            return {"error": joined}
        result["identity"] = joined["participant"]["identity"]
        subscriber = RTCPeerConnection()

        async def consume(track, mid):
            info = tracks_by_mid.get(mid, {})
            key = info.get("track") or f"mid-{mid}"
            entry = result["remote"].setdefault(key, {
                "identity": (info.get("participant") or {}).get("identity", "?"), "kind": track.kind, "frames": 0})
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                entry["frames"] += 1
                entry["last_frame_unix_ms"] = round(time.time() * 1000)
                if entry["frames"] == 1:
                    entry["first_frame_ms"] = round((time.monotonic() - started) * 1000)
                if satisfied():
                    done.set()

        @subscriber.on("track")
        def on_track(track):
            mid = next((t.mid for t in subscriber.getTransceivers() if t.receiver.track is track), None)
            asyncio.ensure_future(consume(track, mid))

        async def publish(request_id, wrong_fingerprint):
            connection = RTCPeerConnection()
            connection.addTransceiver(AudioStreamTrack(), direction="sendonly")
            connection.addTransceiver(PatternTrack(channel=2, noise=args.noisy_video), direction="sendonly")
            await connection.setLocalDescription(await connection.createOffer())
            sdp = connection.localDescription.sdp
            if wrong_fingerprint:
                fake = ":".join(f"{random.randrange(256):02X}" for _ in range(32))
                sdp = re.sub(r"a=fingerprint:sha-256 \S+", "a=fingerprint:sha-256 " + fake, sdp)
            await ws.send(json.dumps({"type": "publish", "sdp": sdp, "id": request_id}))
            return connection

        publisher = await publish(1, args.wrong_fingerprint) if args.publish else None

        async def signaling():
            nonlocal publisher
            async for text in ws:
                message = json.loads(text)
                kind = message.get("type")
                if kind == "answer" and publisher:
                    await publisher.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
                    result["published"] = message.get("tracks", [])
                    leak("publisher", publisher)
                elif kind == "subscribe_offer":
                    result["offers"] += 1
                    for entry in message["tracks"]:
                        tracks_by_mid[entry["mid"]] = entry
                    await subscriber.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
                    await subscriber.setLocalDescription(await subscriber.createAnswer())
                    await ws.send(json.dumps({"type": "subscribe_answer", "sdp": subscriber.localDescription.sdp,
                                              "version": message["version"]}))
                    leak("subscriber", subscriber)
                elif kind == "media":
                    result["media"][message.get("target", "?")] = message
                    if (args.republish_after_failure and message.get("target") == "publisher"
                            and message.get("state") == "failed" and not result.get("republished")):
                        # A new peer connection (a new certificate), as a client that retries would.
                        result["republished"] = True
                        await publisher.close()
                        publisher = await publish(2, False)
                elif kind == "error":
                    result["errors"].append(message)
                elif kind in ("kicked", "roll_call"):
                    result.setdefault("told", []).append(message)

        async def drop_signaling():
            await asyncio.sleep(args.drop_signaling_after)
            result["dropped_unix_ms"] = round(time.time() * 1000)
            await ws.close()

        async def leave():
            await asyncio.sleep(args.leave_after)
            result["left_unix_ms"] = round(time.time() * 1000)
            await ws.send(json.dumps({"type": "leave", "id": "bye"}))

        if args.drop_signaling_after:
            dropper = asyncio.ensure_future(drop_signaling())
        elif args.leave_after:
            dropper = asyncio.ensure_future(leave())
        else:
            dropper = None
        signaling_task = asyncio.ensure_future(signaling())
        waiter = asyncio.ensure_future(done.wait())
        await asyncio.wait([signaling_task, waiter], timeout=args.seconds, return_when=asyncio.FIRST_COMPLETED)
        remaining = args.hold - (time.monotonic() - started)
        if remaining > 0 and not signaling_task.done():
            await asyncio.wait([signaling_task], timeout=remaining)
        if args.linger and signaling_task.done():
            result["signaling_ended_unix_ms"] = round(time.time() * 1000)
            await asyncio.sleep(args.linger)  # media keeps flowing from our side meanwhile
        for task in (signaling_task, waiter) + ((dropper,) if dropper else ()):
            task.cancel()
        await asyncio.gather(signaling_task, waiter, *([dropper] if dropper else []), return_exceptions=True)
        result["ok"] = satisfied() if args.expect_remote > 0 else not result["errors"]
        await subscriber.close()
        if publisher:
            await publisher.close()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("ca_file")
    parser.add_argument("token")
    parser.add_argument("--publish", action="store_true")
    parser.add_argument("--expect-remote", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--hold", type=float, default=0)
    parser.add_argument("--drop-signaling-after", type=float, default=0)
    parser.add_argument("--linger", type=float, default=0)
    parser.add_argument("--leave-after", type=float, default=0)
    parser.add_argument("--wrong-fingerprint", action="store_true")
    parser.add_argument("--noisy-video", action="store_true")
    parser.add_argument("--leak-sdp")
    parser.add_argument("--republish-after-failure", action="store_true")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args()
    if args.debug:
        import logging
        logging.basicConfig(level=logging.DEBUG)
        from aiortc.rtcrtpsender import RTCRtpSender
        original = RTCRtpSender._handle_rtcp_packet

        async def traced(self, packet):
            logging.debug("sender(%s) < %s", self.kind, packet)
            await original(self, packet)
        RTCRtpSender._handle_rtcp_packet = traced
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)
    raise SystemExit(0 if result.get("ok") else 1)


if __name__ == "__main__":
    main()
