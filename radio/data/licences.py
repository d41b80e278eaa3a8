"""The licences a recording can be published under: one short list, each with its code (what
the archive stores), its label (what people read), its identifier (SPDX's, in lower case, as
Podcasting 2.0's ``podcast:license`` writes it) and the URL of its legal text.

An episode's ``licence`` column holds a code, or NULL when no licence was stated. Typed
values are checked by ``radio.data.fields.licence``; ``find`` takes a code, a label or an
identifier in any case ("CC BY", "cc-by", "CC BY 4.0", "cc-by-4.0").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from radio.config import ConfigError
from radio.i18n import _


@dataclass(frozen=True)
class Licence:
    code: str  # stored in episodes.licence and shows.licence: "cc-by"
    label: str  # shown on pages: "CC BY 4.0"
    identifier: str  # podcast:license and the JSON transcript: "cc-by-4.0"
    url: str | None  # the legal text; None for all rights reserved (no public licence)

    @property
    def shown(self) -> str:
        """The label in the reader's language ("All rights reserved" is words; the Creative
        Commons names are names). ``label`` stays the English one files and JSON carry."""
        return str(_SHOWN_LABELS.get(self.code, self.label))

    def summary(self) -> dict[str, str]:
        """As the JSON transcript carries it: identifier, name and (if any) URL."""
        found = {"identifier": self.identifier, "name": self.label}
        return {**found, "url": self.url} if self.url else found


LICENCES: tuple[Licence, ...] = (
    Licence("cc-by", "CC BY 4.0", "cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/"),
    Licence(
        "cc-by-sa",
        "CC BY-SA 4.0",
        "cc-by-sa-4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    Licence(
        "cc-by-nc",
        "CC BY-NC 4.0",
        "cc-by-nc-4.0",
        "https://creativecommons.org/licenses/by-nc/4.0/",
    ),
    Licence("cc0", "CC0 1.0", "cc0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    Licence("all-rights-reserved", "All rights reserved", "all-rights-reserved", None),
)
# The labels that are words, marked for translation here (the table keeps plain text: it is
# also matched against typed values and written into files and JSON).
_SHOWN_LABELS = {"all-rights-reserved": _("All rights reserved")}
CODES = tuple(licence.code for licence in LICENCES)
_SEPARATORS = re.compile(r"[\s_]+")


def _key(text: str) -> str:
    """ "CC BY 4.0", "cc_by" and "All rights reserved" as "cc-by-4.0", "cc-by"..."""
    return _SEPARATORS.sub("-", text.strip().casefold())


_BY_KEY = {
    _key(name): licence
    for licence in LICENCES
    for name in (licence.code, licence.label, licence.identifier)
}


def find(value: str | None) -> Licence | None:
    """The licence ``value`` names (a code, label or identifier, in any case), else None."""
    return _BY_KEY.get(_key(value)) if value else None


def choices() -> str:
    """The choices as a message names them: "cc-by (CC BY 4.0), cc-by-sa (...), ..."."""
    return ", ".join(f"{licence.code} ({licence.label})" for licence in LICENCES)


def station_licence(value: Any) -> str | None:
    """The config's LICENCE as a code ("CC BY" -> "cc-by"), None when empty; ConfigError
    names the choices."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    found = find(value) if isinstance(value, str) else None
    if found is None:
        raise ConfigError(f"LICENCE must be one of {choices()} (or empty), not {value!r}.")
    return found.code
