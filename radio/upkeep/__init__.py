"""Keeping the archive running for years: backups, restore and verify, health, logs.

- ``backup``: ``run_backup(home, dest)``, a consistent, incremental snapshot of the data folder
  (databases through SQLite's online backup API, files in a content-addressed store);
- ``restore``: a snapshot into an empty data folder, every hash checked on the way;
- ``verify``: the data folder or a backup against the recorded hashes, every database's
  ``PRAGMA integrity_check``;
- ``folder``: what of the data folder a backup holds, the manifest, atomic writes;
- ``layout``: a backup folder (objects, snapshots, latest, its lock); ``prune``: old ones out;
- ``schedule``: ``start_scheduled_backups(app)``, the ``radio serve`` thread;
- ``state``: the last backup's time and result (``backups.json`` in the data folder);
- ``health``: what ``/health`` and ``radio status --health`` report, the worker's heartbeat;
- ``logs``: the episode id on every log line of its processing, the rotating log file.

Light to import (the web process uses ``health`` and ``state``); it uses ``radio.data``,
``radio.db`` and ``radio.media``, and nothing here imports ``radio.jobs``, ``web`` or ``cli``
(``radio.jobs.pipeline`` uses ``logs``).
"""
