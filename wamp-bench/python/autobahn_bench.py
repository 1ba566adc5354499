#!/usr/bin/env python3
"""Autobahn|Python side of wamp-bench: the reference client stack, measured.

Runs, in one asyncio process against a WAMP router (Crossbar.io in the
benchmark), the same workloads as wamp-bench's Rust side, and prints one
JSON line with the figures:

    seq        a callee registers com.bench.add2 (returns a + b), a caller
               calls it one at a time: {"calls_per_s", "p50_us", "p99_us"}
    pipelined  the same with 256 calls in flight: {"calls_per_s"}
    events     one publisher, --subscribers sessions subscribed to
               com.bench.event; unacknowledged publishes, at most 256
               outstanding per subscriber: {"events_per_s"} (total
               deliveries per second over all subscribers)

Measures N operations (--n) after a warm-up (--warmup seconds), or stops
earlier at --seconds. Both ends share one event loop, as a single-process
Autobahn application would: the figures are what this client stack does on
one core.

Usage:
    autobahn_bench.py --url ws://127.0.0.1:PORT/ws --mode seq|pipelined|events \\
                      --n N [--seconds S] [--warmup W] [--serializer json|msgpack] \\
                      [--subscribers K] [--realm realm1]
"""

import argparse
import asyncio
import json
import math
import sys
import time
from urllib.parse import urlparse

import txaio

txaio.use_asyncio()

# As in tests/python/router_suite.py: keep bjdata's NumPy-1.x C extension
# from printing a traceback on import (it falls back to pure Python).
sys.modules.setdefault("_bjdata", None)

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402

PROCEDURE = "com.bench.add2"
TOPIC = "com.bench.event"
IN_FLIGHT = 256
EVENT_WINDOW = 256
JOIN_TIMEOUT = 10.0

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer}


class BenchSession(ApplicationSession):
    """An ApplicationSession whose join can be awaited."""

    def __init__(self, config):
        super().__init__(config)
        self.joined = asyncio.get_running_loop().create_future()

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(f"join refused: {details.reason}"))
        return super().onLeave(details)

    def onDisconnect(self):
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("transport closed before WELCOME"))
        return super().onDisconnect()


async def connect(args):
    """A new joined session on its own connection."""
    loop = asyncio.get_running_loop()
    parsed = urlparse(args.url)
    session = BenchSession(ComponentConfig(realm=args.realm))
    serializer = SERIALIZERS[args.serializer]()
    if parsed.scheme == "ws":
        factory = WampWebSocketClientFactory(lambda: session, url=args.url, serializers=[serializer])
    elif parsed.scheme in ("rs", "tcp"):
        factory = WampRawSocketClientFactory(lambda: session, serializer=serializer)
    else:
        raise SystemExit(f"unsupported URL scheme {parsed.scheme!r}")
    transport, _ = await loop.create_connection(factory, parsed.hostname or "127.0.0.1", parsed.port)
    try:
        await asyncio.wait_for(session.joined, JOIN_TIMEOUT)
    except BaseException:
        transport.abort()
        raise
    return session


def percentile(sorted_samples, p):
    """Nearest rank, as wamp-bench's Rust side computes it."""
    if not sorted_samples:
        return float("nan")
    rank = math.ceil(p / 100.0 * len(sorted_samples))
    return sorted_samples[min(max(rank, 1), len(sorted_samples)) - 1]


def add2(a, b):
    return a + b


async def callee_and_caller(args):
    callee = await connect(args)
    await callee.register(add2, PROCEDURE)
    caller = await connect(args)
    result = await caller.call(PROCEDURE, 2, 3)
    if result != 5:
        raise SystemExit(f"{PROCEDURE}(2, 3) returned {result!r}")
    return callee, caller


async def bench_seq(args):
    callee, caller = await callee_and_caller(args)
    clock = time.perf_counter
    warm_end = clock() + args.warmup
    while clock() < warm_end:
        await caller.call(PROCEDURE, 2, 3)
    samples = []
    start = clock()
    end = start + args.seconds
    while len(samples) < args.n:
        t0 = clock()
        if t0 >= end:
            break
        await caller.call(PROCEDURE, 2, 3)
        samples.append(clock() - t0)
    elapsed = clock() - start
    samples.sort()
    return [callee, caller], {
        "mode": "seq",
        "calls": len(samples),
        "seconds": elapsed,
        "calls_per_s": len(samples) / elapsed,
        "p50_us": percentile(samples, 50) * 1e6,
        "p99_us": percentile(samples, 99) * 1e6,
    }


async def bench_pipelined(args):
    callee, caller = await callee_and_caller(args)
    loop = asyncio.get_running_loop()
    clock = time.perf_counter
    measure_start = clock() + args.warmup
    end = measure_start + args.seconds
    finished = loop.create_future()
    state = {"in_flight": 0, "counted": 0, "last": measure_start, "error": None}

    def launch():
        state["in_flight"] += 1
        # ensure_future: a Future is returned as is, a coroutine is wrapped.
        asyncio.ensure_future(caller.call(PROCEDURE, 2, 3)).add_done_callback(on_done)

    def on_done(fut):
        state["in_flight"] -= 1
        if fut.cancelled() or fut.exception() is not None:
            state["error"] = state["error"] or repr(fut.exception() if not fut.cancelled() else "cancelled")
        now = clock()
        stop = state["error"] is not None or now >= end or state["counted"] >= args.n
        if not stop:
            if now >= measure_start:
                state["counted"] += 1
                state["last"] = now
            launch()
        elif state["in_flight"] == 0 and not finished.done():
            finished.set_result(None)

    for _ in range(IN_FLIGHT):
        launch()
    await finished
    if state["error"]:
        raise SystemExit(f"pipelined call failed: {state['error']}")
    window = (end if state["counted"] < args.n else state["last"]) - measure_start
    return [callee, caller], {
        "mode": "pipelined",
        "calls": state["counted"],
        "seconds": window,
        "calls_per_s": state["counted"] / window,
    }


async def bench_events(args):
    loop = asyncio.get_running_loop()
    k = args.subscribers
    counts = [0] * k
    waiter = [None]  # the publisher's future while it waits on the window

    def handler(i):
        def on_event(*_args, **_kwargs):
            counts[i] += 1
            w = waiter[0]
            if w is not None and not w.done():
                w.set_result(None)

        return on_event

    subscribers = []
    for i in range(k):
        s = await connect(args)
        await s.subscribe(handler(i), TOPIC)
        subscribers.append(s)
    publisher = await connect(args)

    clock = time.perf_counter
    measure_start = clock() + args.warmup
    # With many subscribers in this one event loop, a burst of deliveries
    # can keep the loop from coming back here for seconds: the window is
    # counted from when the base count was actually taken, so it always
    # lasts `seconds` (a deadline stops a run that cannot progress).
    deadline = measure_start + args.seconds + 30.0
    base = None
    published = 0
    allowed = EVENT_WINDOW
    while True:
        now = clock()
        if base is None and now >= measure_start:
            base = (now, sum(counts))
        if base is not None and (now >= base[0] + args.seconds or sum(counts) - base[1] >= args.n):
            break
        if now >= deadline:
            raise SystemExit("events: no measurement window within the deadline")
        if published >= allowed:
            allowed = min(counts) + EVENT_WINDOW
            if published >= allowed:
                waiter[0] = loop.create_future()
                try:
                    await asyncio.wait_for(waiter[0], 0.05)
                except asyncio.TimeoutError:
                    pass
                waiter[0] = None
                continue
        publisher.publish(TOPIC, 2, 3)
        published += 1
        if published % 32 == 0:
            # publish() only writes to the transport: let the loop read.
            await asyncio.sleep(0)
    t1 = clock()
    delivered = sum(counts) - base[1]
    # Let what is in flight arrive before leaving (bounded).
    drain_end = clock() + 5.0
    while min(counts) < published and clock() < drain_end:
        await asyncio.sleep(0.01)
    return subscribers + [publisher], {
        "mode": "events",
        "subscribers": k,
        "events": delivered,
        "published": published,
        "seconds": t1 - base[0],
        "events_per_s": delivered / (t1 - base[0]),
    }


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--realm", default="realm1")
    ap.add_argument("--mode", required=True, choices=["seq", "pipelined", "events"])
    ap.add_argument("--n", type=int, required=True, help="operations to measure (at most)")
    ap.add_argument("--seconds", type=float, default=float("inf"), help="stop measuring after this long")
    ap.add_argument("--warmup", type=float, default=0.3, help="seconds run before measuring")
    ap.add_argument("--serializer", default="json", choices=sorted(SERIALIZERS))
    ap.add_argument("--subscribers", type=int, default=1, help="subscriber sessions (events mode)")
    args = ap.parse_args()

    bench = {"seq": bench_seq, "pipelined": bench_pipelined, "events": bench_events}[args.mode]
    sessions, figures = await bench(args)
    print(json.dumps(figures), flush=True)
    for s in sessions:
        try:
            await asyncio.wait_for(s.leave(), 2.0)
        except Exception:  # the figures are out; a slow goodbye does not matter
            pass


if __name__ == "__main__":
    asyncio.run(main())
