"""Podcast feeds (being built for #5); thin over the ``feeds`` package."""

from flask import Blueprint

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
