"""``python -m radio`` runs the ``radio`` command."""

from radio.cli import main

main()
