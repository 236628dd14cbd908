"""Sessions as the candidate's property: delete them, keep them for a limited time, move them.

- :func:`delete_session`: the folder and its index rows, nothing left behind.
- :func:`expired` / ``prune``: sessions older than ``[privacy] keep_days`` (by the session's own
  creation time, not the folder's mtime, which a copy or a backup restore would reset).
- :func:`export_session` / :func:`import_session`: a zip with a manifest of SHA-256 checksums of
  every file; importing checks each one before anything reaches the recordings folder, refuses
  absolute paths, ``..``, links, duplicates and oversized archives (a zip is hostile data), and
  lands as a private (0700/0600) folder under a name that does not clash with an existing one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from mockinterview.errors import SessionError, StorageError
from mockinterview.store import (
    INDEX_FILE,
    PRIVATE_DIR,
    SESSION_FILE,
    load_session,
    open_index,
    private_dir,
    private_open,
    save_session,
    session_dirs,
    update_index,
)

MANIFEST = "manifest.json"
FORMAT = "mockinterview-session/1"
MAX_IMPORT_BYTES = 4 * 1024**3  # 4 GiB uncompressed: a 3-hour session's WAVs are ~350 MB
MAX_IMPORT_FILES = 10_000


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def delete_session(recordings: Path, folder: Path) -> None:
    """Remove a session folder and its index rows (refuses anything outside ``recordings``)."""
    folder = Path(folder)
    if folder.is_symlink() or folder.resolve().parent != Path(recordings).resolve():
        raise SessionError(f"{folder}: not a session folder of {recordings}")
    if not (folder / SESSION_FILE).is_file():
        raise SessionError(f"{folder}: not a session folder (no {SESSION_FILE})")
    sid = folder.name
    try:
        sid = load_session(folder).id
    except SessionError:
        pass  # a damaged session is deleted by its folder name
    shutil.rmtree(folder)
    if (Path(recordings) / INDEX_FILE).exists():
        with open_index(Path(recordings)) as db:
            db.execute("DELETE FROM sessions WHERE id=? OR folder=?", (sid, str(folder)))


@dataclass(frozen=True)
class Expired:
    folder: Path
    created: datetime
    age_days: float


def expired(recordings: Path, keep_days: int, now: datetime | None = None) -> list[Expired]:
    """Sessions created more than ``keep_days`` ago, oldest first."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=keep_days)
    out = []
    for folder in session_dirs(Path(recordings)):
        try:
            created = load_session(folder).created
        except SessionError:
            continue  # unreadable sessions are never removed by a policy: a person decides
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        if created < cutoff:
            out.append(Expired(folder, created, (now - created).total_seconds() / 86400))
    return sorted(out, key=lambda e: e.created)


def export_session(folder: Path, dest: Path) -> Path:
    """Write ``dest`` (a .zip) holding the session folder and a checksum manifest."""
    folder = Path(folder)
    if not (folder / SESSION_FILE).is_file():
        raise SessionError(f"{folder}: not a session folder (no {SESSION_FILE})")
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and not p.is_symlink() and not p.name.startswith("."))
    manifest = {"format": FORMAT, "session": folder.name,
                "files": {p.relative_to(folder).as_posix(): _sha256(p) for p in files}}
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(private_open(tmp), "wb") as raw, \
                zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=2))
            for p in files:
                z.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}")
        os.replace(tmp, dest)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"{dest}: cannot write ({e.strerror or e})") from None
    return dest


def _safe_member(name: str) -> PurePosixPath:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts or "\\" in name:
        raise SessionError(f"archive member {name!r}: unsafe path")
    return p


def import_session(archive: Path, recordings: Path) -> Path:
    """Check and unpack an exported session into ``recordings``; returns the new folder."""
    archive = Path(archive)
    try:
        z = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as e:
        raise SessionError(f"{archive}: not a session archive ({e})") from None
    with z:
        try:
            manifest = json.loads(z.read(MANIFEST))
        except (KeyError, ValueError, zipfile.BadZipFile):
            raise SessionError(f"{archive}: no valid {MANIFEST}; not exported by mockinterview"
                               ) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
                not isinstance(manifest.get("files"), dict):
            raise SessionError(f"{archive}: {MANIFEST}: unknown format")
        name = str(manifest.get("session", ""))
        if not name or _safe_member(name).parts != (name,) or name.startswith("."):
            raise SessionError(f"{archive}: {MANIFEST}: bad session name {name!r}")
        infos = [i for i in z.infolist() if i.filename != MANIFEST]
        if len(infos) > MAX_IMPORT_FILES:
            raise SessionError(f"{archive}: too many files ({len(infos)})")
        if sum(i.file_size for i in infos) > MAX_IMPORT_BYTES:
            raise SessionError(f"{archive}: larger than {MAX_IMPORT_BYTES // 1024**3} GiB unpacked")
        wanted = {f"{name}/{rel}": digest for rel, digest in manifest["files"].items()}
        seen = set()
        for i in infos:
            _safe_member(i.filename)
            if stat.S_ISLNK(i.external_attr >> 16):
                raise SessionError(f"{archive}: {i.filename}: links are not imported")
            if i.is_dir():
                continue
            if i.filename not in wanted or i.filename in seen:
                raise SessionError(f"{archive}: {i.filename}: not in the manifest")
            seen.add(i.filename)
        missing = sorted(set(wanted) - seen)
        if missing:
            raise SessionError(f"{archive}: {missing[0]}: listed in the manifest but missing")
        if f"{name}/{SESSION_FILE}" not in wanted:
            raise SessionError(f"{archive}: holds no {SESSION_FILE}")
        private_dir(Path(recordings))
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=recordings))
        try:
            for i in infos:
                if i.is_dir():
                    continue
                rel = PurePosixPath(i.filename).relative_to(name)
                out = staging / rel
                out.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
                h = hashlib.sha256()
                with z.open(i) as src, os.fdopen(private_open(out), "wb") as dst:
                    for block in iter(functools.partial(src.read, 1 << 20), b""):
                        h.update(block)
                        dst.write(block)
                if h.hexdigest() != wanted[i.filename]:
                    raise SessionError(f"{archive}: {i.filename}: checksum mismatch (damaged or "
                                       "altered); nothing was imported")
            session = load_session(staging)  # validates session.json like any other session
            dest = Path(recordings) / name
            n = 1
            while dest.exists():
                dest = Path(recordings) / f"{name}-imported-{n}"
                n += 1
            os.rename(staging, dest)
            if dest.name != session.id:  # ids are folder names: an import never shadows one
                session = session.model_copy(update={"id": dest.name})
                save_session(session, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    update_index(Path(recordings), session, dest)
    return dest
