"""Where attachment bytes live: a content-addressed store behind the ``FileStore`` port."""

from switchboard.adapters.files.local import LocalFileStore

__all__ = ["LocalFileStore"]
