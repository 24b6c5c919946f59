"""The content-addressed local file store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from switchboard.adapters.files import LocalFileStore
from switchboard.application.ports.files import FileTooLarge, StoredFileNotFound


def test_put_stores_by_sha256_and_open_reads_it_back(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    data = b"%PDF-1.4 invoice"
    digest = hashlib.sha256(data).hexdigest()
    stored = store.put(data, "application/pdf", "invoice.pdf")
    assert (stored.sha256, stored.size, stored.content_type, stored.name) == (
        digest, len(data), "application/pdf", "invoice.pdf"
    )  # fmt: skip
    assert stored.url == (tmp_path / digest[:2] / digest[2:4] / digest).resolve().as_uri()
    with store.open(digest) as handle:
        assert handle.read() == data
    assert store.exists(digest) is True


def test_the_same_bytes_are_stored_once(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    first = store.put(b"same", "text/plain", "a.txt")
    second = store.put(b"same", "application/octet-stream", "b.bin")
    assert first.sha256 == second.sha256
    assert (second.name, second.content_type) == ("b.bin", "application/octet-stream")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [first.sha256]


def test_oversize_files_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, max_bytes=4)
    with pytest.raises(FileTooLarge, match="5 bytes exceeds the limit of 4 bytes"):
        store.put(b"12345", "text/plain", "x.txt")
    assert list(tmp_path.iterdir()) == []


def test_unknown_and_malicious_digests_are_not_found(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(StoredFileNotFound):
        store.open("0" * 64)
    with pytest.raises(StoredFileNotFound):
        store.open("../../etc/passwd")
    assert store.exists("../../etc/passwd") is False


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFileStore(tmp_path)

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("switchboard.adapters.files.local.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"data", "text/plain", "x.txt")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
