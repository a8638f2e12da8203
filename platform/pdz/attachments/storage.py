"""The bytes of attachments: one file per content under `PDZ_UPLOAD_DIR`, named by its SHA-256.

`ab/cd/abcd…` keeps folders small. A file is written through a temporary name and renamed, so a reader never
sees half of one; writing content that is already there changes nothing (the same file uploaded twice, to
any object, is stored once). Files are never deleted by PdZ: a removed attachment stays in the history.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


def root() -> Path:
    """`PDZ_UPLOAD_DIR`, else `uploads/` in the instance folder (the same rule as `ops.uploads_dir`)."""
    return Path(current_app.config.get("PDZ_UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_of(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")
    return root() / sha256[:2] / sha256[2:4] / sha256


def store(data: bytes) -> str:
    """Keep `data` (once) and return its SHA-256."""
    sha256 = digest(data)
    target = path_of(sha256)
    if target.is_file() and target.stat().st_size == len(data):
        return sha256
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256
