"""The media area of the archive (being built for #4)."""

from flask import Blueprint

bp = Blueprint("media", __name__)
