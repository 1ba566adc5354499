#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/complex backend: every interval publishes
com.myapp.heartbeat without payload and com.myapp.topic2 with
(randint(0, 100), 23, c="Hello", d={"counter": n, "foo": [1, 2, 3]})."""

import random

from common import periodic, run_backend


async def setup(session, args):
    def publish(counter):
        print("publish: com.myapp.heartbeat", flush=True)
        session.publish("com.myapp.heartbeat")
        obj = {"counter": counter, "foo": [1, 2, 3]}
        print("publish: com.myapp.topic2", flush=True)
        session.publish("com.myapp.topic2", random.randint(0, 100), 23, c="Hello", d=obj)

    periodic(args.interval, publish)


if __name__ == "__main__":
    run_backend("pubsub_complex", __doc__, setup)
