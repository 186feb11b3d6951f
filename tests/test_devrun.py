from __future__ import annotations

import redis

from server.devrun import free_port, start_embedded_redis


def test_embedded_redis_keeps_an_append_only_file(tmp_path):
    port = free_port()
    process = start_embedded_redis(tmp_path / "redis", port)
    try:
        client = redis.Redis(port=port)
        assert client.ping()
        client.set("kyoso:test", "kept")
        assert client.config_get("appendonly")["appendonly"] == "yes"
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert any((tmp_path / "redis").rglob("*.aof*"))
    # Started again on the same directory, the data is still there.
    process = start_embedded_redis(tmp_path / "redis", port)
    try:
        client = redis.Redis(port=port)
        assert client.get("kyoso:test") == b"kept"
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
