"""The throughput benchmark's harness: ``--sources`` loads only the named sources, and the
replay serves exactly the bytes the live run recorded (spooled to disk, so a million-order run
does not hold its responses in memory), refusing any request the live run did not make."""

from __future__ import annotations

import httpx
import pytest

from benchmarks.throughput import Recording, full_load, sources


def test_sources_filter_names_only_the_chosen_sources():
    url, transport = "http://unused", httpx.MockTransport(lambda r: httpx.Response(404))
    assert list(sources(url, transport, only=("tracking", "stripe"))) == ["stripe", "tracking"]
    assert len(sources(url, transport)) == 7


def test_a_replay_serves_the_recorded_bytes_and_loads_the_same_rows(sandbox, tmp_path):
    recording = Recording()
    try:
        live = full_load(sandbox.url, recording.recorder, tmp_path / "live.duckdb", only=("wms",))
        replay = full_load(
            sandbox.url, recording.replayer, tmp_path / "replay.duckdb", only=("wms",)
        )
        assert list(live) == list(replay) == ["wms"]
        assert replay["wms"]["rows"] == live["wms"]["rows"] and live["wms"]["requests"] > 0
        assert len(recording.responses) == live["wms"]["requests"]

        (method, url, body), (status, _, offset, length) = next(iter(recording.responses.items()))
        served = httpx.Client(transport=recording.replayer()).request(method, url, content=body)
        assert served.status_code == status and len(served.content) == length > 0
        assert served.content == recording.body(offset, length)
        with pytest.raises(RuntimeError, match="no recorded response"):
            httpx.Client(transport=recording.replayer()).get(sandbox.url + "/never/asked")
    finally:
        recording.close()
