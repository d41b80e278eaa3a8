"""What `radio serve` prints so phones find the archive: LAN addresses and a QR code."""

import ipaddress

import segno

from radio.web import lan as net


def test_lan_addresses_are_usable_ipv4():
    for text in net.lan_addresses():
        addr = ipaddress.ip_address(text)
        assert addr.version == 4 and not addr.is_loopback and not addr.is_link_local


def test_urls_for_all_interfaces_and_for_one():
    assert net.urls("127.0.0.1", 8080) == ["http://127.0.0.1:8080/"]
    everywhere = net.urls("0.0.0.0", 80)
    assert everywhere and all(u.startswith("http://") and u.endswith("/") for u in everywhere)
    assert all(":80/" not in u for u in everywhere)


def test_the_qr_code_draws_the_url():
    url = "http://192.168.1.20:5000/"
    text = net.qr_text(url)
    # two modules a character: light ones drawn as blocks, so it reads on a dark terminal
    rows = [[bool(v) for v in row] for row in segno.make(url, error="m").matrix_iter(border=2)]
    if len(rows) % 2:
        rows.append([True] * len(rows[0]))
    chars = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    drawn = [
        "".join(chars[(a, b)] for a, b in zip(top, bottom, strict=True))
        for top, bottom in zip(rows[::2], rows[1::2], strict=True)
    ]
    assert text.splitlines() == drawn
