"""The community radio archive: a Flask app over one data folder.

Configuration is read in three layers, later ones winning: the defaults in
``radio.config``, then ``config.toml`` in the data folder, then ``RADIO_*``
environment variables (``RADIO_MAX_DURATION_HOURS=3``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from radio import config as radio_config

logger = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None, *, home: str | None = None) -> Flask:
    """Build the archive's Flask app.

    Settings are the defaults, then ``config.toml`` in the data folder, then ``RADIO_*``
    variables; ``home`` (``radio --home``) names the data folder over ``RADIO_HOME``.
    ``test_config`` replaces file and environment: a test says everything it depends on.
    """
    static_dir = Path(__file__).resolve().parent.parent / "static"
    if not static_dir.is_dir():  # installed wheel: static/ ships as radio.static
        static_dir = Path(__file__).resolve().parent / "static"
    app = Flask(__name__, static_folder=str(static_dir), instance_relative_config=False)
    app.config.update(radio_config.defaults())
    if test_config is None:
        folder = radio_config.resolve_home(home or os.environ.get("RADIO_HOME"))
        app.config.update(radio_config.load_file(folder / "config.toml"))
        app.config.from_prefixed_env("RADIO")
        app.config["HOME"] = str(folder)
    else:
        app.config.update(test_config)
        app.config["HOME"] = str(radio_config.resolve_home(app.config.get("HOME")))
    radio_config.prepare_home(Path(app.config["HOME"]))
    radio_config.check(app.config)

    from radio import db
    from radio.data.licences import station_licence
    from radio.jobs import tasks
    from radio.web import errors, i18n, register_blueprints, templating
    from radio.web.http import compress, csrf
    from radio.web.http.headers import SecurityHeaders
    from radio.web.http.mediacache import PublicMedia
    from radio.web.http.uploads import SpoolingRequest

    app.config["LICENCE"] = station_licence(app.config.get("LICENCE"))
    db.init_app(app)
    tasks.init_app(app)
    # The web side, all of it here. Uploads spool to media/incoming in the data folder,
    # never to a global temp folder.
    app.request_class = SpoolingRequest
    templating.init_app(app)  # filters and enums for templates
    i18n.init_app(app)  # the interface's language per request (Flask-Babel), the switcher
    # Then, in the order a request meets them: the routes (auth loads the logged-in user
    # first, as in flaskr), the CSRF check of unsafe requests, the response rules (gzip,
    # static caching, safety headers) and one translation of every error.
    register_blueprints(app)
    csrf.init_app(app)
    compress.init_app(app)
    errors.init_app(app)
    # In front of all that, a WSGI layer answers listeners' requests for public media;
    # outermost, the safety headers go on every response, those answers' included.
    app.wsgi_app = PublicMedia(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    return app
