"""The upload area of the archive (being built for #4)."""

from flask import Blueprint

bp = Blueprint("upload", __name__)
