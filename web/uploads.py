"""A new wave's file, checked before it is kept: its size, its type and that it reads as answers. A refused file
leaves nothing behind, and the user gets one French message at once instead of a job that fails later.

Each upload gets a folder of its own, so that the file keeps its user's name: the run's file and title show it.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from fastapi import UploadFile

from pipeline import settings
from pipeline.errors import InputError, TooLargeError
from pipeline.ingest import ingest
from pipeline.input_files import SUFFIXES, unsupported_type
from pipeline.messages import say

UPLOADS = Path("outputs/uploads")
CHUNK = 1 << 20  # read by the mebibyte: memory stays flat whatever the file's size


def limit_bytes() -> int:
    return settings.current().max_upload_mb * (1 << 20)


def too_large() -> TooLargeError:
    return TooLargeError(say("upload.too_large", limit=settings.current().max_upload_mb))


async def receive_wave(upload: UploadFile, declared_size: int | None = None) -> Path:
    """The upload saved under ``UPLOADS`` once it is known to be a readable file of answers; else an error."""
    name = Path(upload.filename or "").name
    if not name:
        raise InputError(say("upload.no_file"))
    if Path(name).suffix.lower() not in SUFFIXES:
        raise InputError(unsupported_type(Path(name).suffix.lower() or name))
    if declared_size is not None and declared_size > limit_bytes():
        raise too_large()
    folder = UPLOADS / uuid.uuid4().hex[:8]
    folder.mkdir(parents=True)
    path = folder / name
    try:
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit_bytes():
                    raise too_large()
                out.write(chunk)
        ingest(path)  # what the job would read first: empty, header-only, garbage or a fake workbook fail here
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path
