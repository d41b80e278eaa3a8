"""The auth area of the archive (being built for #4)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
