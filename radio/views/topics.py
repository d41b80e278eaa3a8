"""Topic pages (being built for #6)."""

from flask import Blueprint

bp = Blueprint("topics", __name__)
