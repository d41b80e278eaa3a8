"""`radio sync --from` between two real archives served on 127.0.0.1 (#17), through a relay
that breaks the first audio download off halfway: the second run continues it with a
Range request, and the result is the same as a bundle's."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from radio import create_app
from tests.conftest import Runner, settings
from tests.exchange_archives import (
    RECEIVER,
    SOURCE,
    build_source,
    copy_home,
    episodes_by_guid,
    make_home,
)
from tests.test_jobs_exchange import chapters_and_files, shared_guids, transcript
from tests.webserver import live_server


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_source(tmp_path_factory.mktemp("alpha") / "home")


class BreakingRelay:
    """A TCP relay in front of the archive that cuts the first audio response after
    ``cut_after`` bytes (a Wi-Fi link dropping mid-download), and records requests."""

    def __init__(self, port: int, cut_after: int = 6000) -> None:
        self.upstream, self.cut_after, self.requests = port, cut_after, []
        self.cut = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.upstream)) as server:
            head = b""
            while b"\r\n\r\n" not in head:
                block = client.recv(65536)
                if not block:
                    return
                head += block
            request = head.decode("latin-1")
            self.requests.append(request)
            server.sendall(head)
            limit = None
            if not self.cut and ".mp3 " in request.split("\r\n")[0]:
                self.cut, limit = True, self.cut_after
            sent = 0
            while block := server.recv(65536):
                if limit is not None and sent + len(block) > limit:
                    client.sendall(block[: limit - sent])
                    return  # the link drops: the client sees a short body
                client.sendall(block)
                sent += len(block)

    def close(self) -> None:
        self.listener.close()


def test_sync_between_two_served_archives_resumes_a_broken_download(built, tmp_path, monkeypatch):
    monkeypatch.setenv("RADIO_TRANSCRIBE", "false")
    alpha = copy_home(built, tmp_path / "alpha")
    beta = Runner(make_home(tmp_path / "beta", RECEIVER))
    with live_server(create_app(settings(alpha, STATION_NAME=SOURCE))) as server:
        relay = BreakingRelay(server.port)
        try:
            first = beta("sync", "--from", f"http://127.0.0.1:{relay.port}")
            assert first.exit_code == 1, first.output
            assert "broke off" in first.output and "run the same command again" in first.output
            parts = list((beta.home / "media" / "incoming" / "exchange").rglob("*.mp3.*.part"))
            assert len(parts) == 1 and 0 < parts[0].stat().st_size <= relay.cut_after
            assert episodes_by_guid(beta.home) == {}  # nothing imported from a broken transfer

            second = beta("sync", "--from", f"http://127.0.0.1:{relay.port}")
            assert second.exit_code == 0, second.output
            assert "1 continued" in second.output and "Imported 2" in second.output
            ranged = [r for r in relay.requests if "\r\nRange: bytes=" in r]
            assert len(ranged) == 1 and ".mp3" in ranged[0].split("\r\n")[0]

            third = beta("sync", "--from", f"http://127.0.0.1:{relay.port}")
            assert "Imported 0, already here 2" in third.output, third.output
        finally:
            relay.close()
    guids = shared_guids(alpha)
    assert set(episodes_by_guid(beta.home)) == guids
    for guid in guids:
        assert transcript(beta.home, guid) == transcript(alpha, guid)
        assert chapters_and_files(beta.home, guid) == chapters_and_files(alpha, guid)
    exchange = beta.home / "media" / "incoming" / "exchange"
    assert not list(exchange.glob("sync-*")), "the download folder goes once imported"


def test_the_catalogue_offers_only_what_listeners_may_have(built, tmp_path):
    import json

    alpha = copy_home(built, tmp_path / "alpha")
    client = create_app(settings(alpha, STATION_NAME=SOURCE)).test_client()
    answer = client.get("/exchange/catalogue.json").get_json()
    manifest = json.loads(answer["manifest"])
    assert set(manifest["episodes"]) == shared_guids(alpha)
    assert not any(n.startswith("originals/") for n in manifest["files"])
    held = {g for g in episodes_by_guid(alpha)} - shared_guids(alpha)
    for guid in held:
        assert client.get(f"/exchange/files/episodes/{guid}/episode.json").status_code == 404
        assert client.get(f"/exchange/files/episodes/{guid}/audio.mp3").status_code == 404
