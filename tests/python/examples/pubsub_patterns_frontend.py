#!/usr/bin/env python3
"""The guide's concert handlers in Autobahn|Python: three wildcard and one
prefix subscription; each must receive exactly the topics the WAMP matching
rules give it (the guide's table wrongly excludes munich from the first)."""

import asyncio

from autobahn.wamp.types import SubscribeOptions

from common import bound, run_frontend, wait_until
from pubsub_patterns_backend import CONCERTS

HANDLERS = [
    # name, subscription URI, match policy
    ("on_concert_pulse", "com.myapp....on_concert", "wildcard"),
    ("on_concert_us_montana_pulse", "com.myapp.us.montana..on_concert", "wildcard"),
    ("on_concert_us_pulse", "com.myapp.us...on_concert", "wildcard"),
    ("on_us_event", "com.myapp.us.", "prefix"),
]

US_CONCERTS = ["us.montana.billings.on_concert", "us.montana.helena.on_concert",
               "us.newmexico.albuquerque.on_concert"]
EXPECTED = {
    "on_concert_pulse": set(US_CONCERTS) | {"de.bavaria.munich.on_concert"},
    "on_concert_us_montana_pulse": set(US_CONCERTS[:2]),
    "on_concert_us_pulse": set(US_CONCERTS),
    "on_us_event": {t for t, _, _ in CONCERTS if t.startswith("us.")},
}


async def body(session, args, checks):
    seen = {name: set() for name, _, _ in HANDLERS}
    payloads = {}
    for name, uri, match in HANDLERS:
        def handler(title, date, details=None, name=name):
            topic = details.topic[len("com.myapp."):]
            if topic not in seen[name]:
                print(f"{name}: {topic}: {title} on {date}")
            seen[name].add(topic)
            payloads[topic] = (title, date)

        await session.subscribe(handler, uri, options=SubscribeOptions(match=match, details_arg="details"))

    complete = await wait_until(lambda: all(EXPECTED[n] <= seen[n] for n in EXPECTED), bound(args, 10))
    checks.ok(complete, "every handler got its topics within the bound", repr(seen))
    await asyncio.sleep(args.interval + 0.1)  # one more round: what must not come would have
    for name in EXPECTED:
        checks.eq(sorted(seen[name]), sorted(EXPECTED[name]), f"topics of {name}")
    table = {t: (title, date) for t, title, date in CONCERTS}
    checks.eq(payloads, {t: table[t] for t in payloads}, "(title, date) payloads")


if __name__ == "__main__":
    run_frontend(__doc__, body)
