"""Where phones on the station's network can reach the archive: LAN addresses and a QR code.

The addresses are read from the machine's own interfaces; nothing is sent on the
network to find them.
"""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import socket
import struct

logger = logging.getLogger(__name__)

_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


def lan_addresses() -> list[str]:
    """The machine's IPv4 addresses a phone could use, private (LAN) ones first."""
    found = set(_interface_addresses()) | set(_hostname_addresses())
    usable = []
    for text in found:
        addr = ipaddress.ip_address(text)
        if addr.is_loopback or addr.is_link_local or addr.is_unspecified or addr.is_multicast:
            continue
        usable.append(addr)
    usable.sort(key=lambda a: (not a.is_private, a))
    return [str(a) for a in usable]


def _interface_addresses() -> list[str]:
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return []
    addresses = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in names:
            try:
                packed = fcntl.ioctl(
                    s.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15])
                )
            except OSError:  # down, or no IPv4 address
                continue
            addresses.append(socket.inet_ntoa(packed[20:24]))
    return addresses


def _hostname_addresses() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [info[4][0] for info in infos]


def urls(host: str, port: int) -> list[str]:
    """The URLs to print for ``radio serve --host HOST --port PORT``."""
    everywhere = host in ("0.0.0.0", "", "::")
    hosts = (lan_addresses() or ["127.0.0.1"]) if everywhere else [host]
    suffix = "" if port == 80 else f":{port}"
    return [f"http://{h}{suffix}/" for h in hosts]


def qr_text(url: str) -> str:
    """A QR code for ``url`` drawn with block characters, for a terminal."""
    import io

    import segno

    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()
