#!/usr/bin/env python3
"""The guide's concert topics in Autobahn|Python: every interval publishes
(title, date) to each topic of the guide's match tables."""

from common import periodic, run_backend

# The same table as examples/src/pubsub_patterns.rs: topic after com.myapp., title, date.
CONCERTS = [
    ("us.montana.billings.on_concert", "Big Sky Blues", "2014-02-01"),
    ("us.montana.helena.on_concert", "Helena Hoedown", "2014-02-02"),
    ("us.newmexico.albuquerque.on_concert", "Powerhour with Ali Spagnola", "2014-02-04"),
    ("de.bavaria.munich.on_concert", "Oktoberfest Brass", "2014-09-20"),
    ("us.montana.billings", "Billings Day", "2014-03-01"),
    ("us.montana.billings.on_challenge", "Rodeo Challenge", "2014-03-02"),
    ("us.newmexico.albuquerque.citycenter.on_concert", "Downtown Jazz", "2014-03-03"),
]


async def setup(session, args):
    def publish(round):
        for topic, title, date in CONCERTS:
            session.publish(f"com.myapp.{topic}", title, date)

    periodic(args.interval, publish)


if __name__ == "__main__":
    run_backend("pubsub_patterns", __doc__, setup)
