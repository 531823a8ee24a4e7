#!/usr/bin/python3
"""aiortc, an independent WebRTC stack, as a data-channel participant: it offers a
connection that carries only a data channel ("chat", reliable and ordered), sends chat
messages on it and records what arrives. Prints one JSON line; exit 0 when the expectation held.

usage: aiortc_data.py WSS_URL CA_FILE TOKEN [options]
  --send N          send N chat messages ({"type":"chat","text":"<name> <i>"}), one per --interval
  --spoof           write "from":"mallory" into each message (the server must replace it)
  --to IDENTITY     address the messages to this identity only
  --flood N         send N messages at once, as fast as the channel takes them
  --big BYTES       send one text message of BYTES bytes first
  --expect N        succeed once N chat messages from others arrived
  --expect-data-audience N   and once the server names N receivers of our data (`audience`)
  --seconds S       stay at most S seconds (default 20)
  --hold S          stay at least S seconds (default 0)
  --ready-file F    write F once the channel is open (a test's cue)
  --go-file F       once open, wait for F to exist before sending anything
"""
import argparse
import asyncio
import json
import os
import ssl
import time

import aiortc_common  # noqa: F401 (loopback-only ICE)
import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription


async def run(args):
    context = ssl.create_default_context(cafile=args.ca_file)
    started = time.monotonic()
    result = {"received": [], "server": [], "signaling": [], "errors": [], "sent": 0}
    done = asyncio.Event()
    opened = asyncio.Event()
    talked = asyncio.Event()  # everything we were to send is sent

    def satisfied():
        return (len(result["received"]) >= args.expect and talked.is_set()
                and len(result.get("data_audience", [])) >= args.expect_data_audience)

    async with websockets.connect(args.url, ssl=context, max_size=2**20) as ws:
        await ws.send(json.dumps({"type": "join", "token": args.token}))
        joined = json.loads(await ws.recv())
        if joined.get("type") != "joined":
            return {"error": joined}
        result["identity"] = joined["participant"]["identity"]
        connection = RTCPeerConnection()
        channel = connection.createDataChannel("chat")

        @channel.on("open")
        def on_open():
            opened.set()

        @channel.on("message")
        def on_message(text):
            try:
                message = json.loads(text)
            except Exception:
                result["errors"].append({"unparsable": str(text)[:100]})
                return
            if "from" not in message:
                result["server"].append(message)  # only the server writes none
            elif message.get("type") == "chat":
                result["received"].append({"from": message["from"], "text": message.get("text"),
                                           "ts": message.get("ts")})
                if args.expect and satisfied():
                    done.set()

        await connection.setLocalDescription(await connection.createOffer())
        await ws.send(json.dumps({"type": "publish", "sdp": connection.localDescription.sdp, "id": 1}))

        async def signaling():
            async for text in ws:
                message = json.loads(text)
                kind = message.get("type")
                if kind == "answer":
                    await connection.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
                elif kind == "error":
                    result["errors"].append(message)
                    if message.get("ref") == 1:
                        done.set()  # the offer was refused: nothing more will come
                elif kind == "audience":
                    result["audience"] = message["audience"]
                    seen = set(result.get("data_audience", [])) | {
                        a["identity"] for a in message["audience"] if a.get("data")}
                    result["data_audience"] = sorted(seen)
                    if args.expect and satisfied():
                        done.set()
                elif kind in ("data_closed", "kicked", "roll_call"):
                    result["signaling"].append(message)

        def send(text):
            channel.send(text)
            result["sent"] += 1

        async def talk():
            await opened.wait()
            result["open_ms"] = round((time.monotonic() - started) * 1000)
            if args.ready_file:
                with open(args.ready_file, "w") as f:
                    f.write("open")
            while args.go_file and not os.path.exists(args.go_file):
                await asyncio.sleep(0.05)
            if args.big:
                send(json.dumps({"type": "chat", "text": "x" * args.big}))
            for i in range(args.flood):
                send(json.dumps({"type": "chat", "text": f"flood {i}"}))
            for i in range(args.send):
                message = {"type": "chat", "text": f"{args.name} {i}"}
                if args.spoof:
                    message["from"] = "mallory"
                if args.to:
                    message["to"] = [args.to]
                send(json.dumps(message))
                await asyncio.sleep(args.interval)
            talked.set()
            if satisfied():
                done.set()  # nothing more to wait for but --hold

        signaling_task = asyncio.ensure_future(signaling())
        talker = asyncio.ensure_future(talk())
        waiter = asyncio.ensure_future(done.wait())
        await asyncio.wait([signaling_task, waiter], timeout=args.seconds,
                           return_when=asyncio.FIRST_COMPLETED)
        remaining = args.hold - (time.monotonic() - started)
        if remaining > 0 and not signaling_task.done():
            await asyncio.wait([signaling_task], timeout=remaining)
        result["state"] = channel.readyState
        if signaling_task.done() and not signaling_task.cancelled() and signaling_task.exception():
            result["errors"].append({"exception": repr(signaling_task.exception())})
        for task in (signaling_task, waiter, talker):
            task.cancel()
        await asyncio.gather(signaling_task, waiter, talker, return_exceptions=True)
        result["ok"] = satisfied() and opened.is_set()
        await connection.close()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("ca_file")
    parser.add_argument("token")
    parser.add_argument("--name", default="aiortc")
    parser.add_argument("--send", type=int, default=0)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--spoof", action="store_true")
    parser.add_argument("--to")
    parser.add_argument("--flood", type=int, default=0)
    parser.add_argument("--big", type=int, default=0)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--expect-data-audience", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--hold", type=float, default=0)
    parser.add_argument("--ready-file")
    parser.add_argument("--go-file")
    args = parser.parse_args()
    if os.environ.get("AIORTC_DEBUG"):
        import logging
        logging.basicConfig(level=logging.DEBUG)
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)
    raise SystemExit(0 if result.get("ok") else 1)


if __name__ == "__main__":
    main()
