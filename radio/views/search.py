"""The search area of the archive (being built for #4)."""

from flask import Blueprint

bp = Blueprint("search", __name__)
