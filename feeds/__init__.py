"""Podcast feeds with feedgen. Never imports Flask or radio."""
