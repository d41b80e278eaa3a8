"""Podcast feeds with feedgen. Never imports Flask or radio.

- ``feeds.build``: ``FeedInfo`` and ``FeedItem`` dataclasses in, RSS 2.0 bytes out
  (iTunes tags, Podcasting 2.0 namespace, RFC 5005 paging links).
- ``feeds.podcast``: the feedgen extension for the Podcasting 2.0 namespace.
- ``feeds.chapters``: Podcasting 2.0 JSON chapters.
"""


class FeedError(ValueError):
    """A feed cannot be written from what was given; the message says what to fix."""
