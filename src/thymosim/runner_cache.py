"""Compiled models kept on disk, so a new process skips the first LLVM compile.

A RoadRunner's saved state (``saveStateS``) holds the compiled code; loading it into an empty
``RoadRunner()`` takes about 0.06 s where compiling thymosim takes 4 to 6 s
(``benchmarks/startup.py``). An entry is keyed by the SBML content, the solver settings, the
libroadrunner version and the machine (compiled code is specific to the CPU), so a changed model,
solver or library never reuses an old entry.

- Where: ``$THYMOSIM_CACHE_DIR``, else the user cache directory (``$XDG_CACHE_HOME/thymosim``,
  ``~/.cache/thymosim``; ``~/Library/Caches/thymosim`` on macOS, ``%LOCALAPPDATA%\\thymosim\\Cache``
  on Windows). ``THYMOSIM_NO_CACHE=1`` turns the cache off.
- Safe under concurrent writers: an entry is written to a temporary file in the same directory and
  moved into place with :func:`os.replace`, so readers see a whole entry or none.
- Checked on reading: each entry carries the SHA-256 of its payload (roadrunner silently loads a
  corrupted state); a corrupt or unreadable entry is ignored and rewritten after the compile.
- What the driver parsed from an SBML (parameter defaults, species, rules) is kept beside it as
  JSON, so a warm process does not import libsbml.
- Bounded: at most :data:`MAX_ENTRIES` entries (about 0.6 MB each), the least recently used go first.

Only values set with ``setValue`` reach a loaded runner (an attribute assignment ``rr.k = v`` on
a loaded RoadRunner is ignored); :class:`thymosim.model.Model` sets values only that way.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

MAGIC = b"thymosim-runner-1\n"
MAX_ENTRIES = 32
STALE_TEMP_S = 3600.0  # temporary files older than this are leftovers of a killed writer


def cache_dir() -> Path | None:
    """The directory of compiled models, or None when ``THYMOSIM_NO_CACHE`` is set (not "0" or empty)."""
    if os.environ.get("THYMOSIM_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("THYMOSIM_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "thymosim" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "thymosim"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "thymosim"


def _machine() -> str:
    """The CPU the compiled code is for: architecture and, where readable, the CPU model and flags."""
    detail = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            lines = [line for line in cpuinfo if line.startswith(("model name", "flags", "Features"))]
        detail = "".join(dict.fromkeys(lines))  # the first of each, in order
    except OSError:
        pass
    return f"{sys.platform}-{platform.machine()}-{hashlib.sha256(detail.encode()).hexdigest()[:16]}"


def entry_key(sbml_sha256: str, solver: tuple) -> str:
    """Name of the entry for an SBML content (its SHA-256) and solver settings, on this libroadrunner and CPU."""
    import roadrunner

    identity = json.dumps([sbml_sha256, repr(solver), roadrunner.__version__, _machine()])
    return hashlib.sha256(identity.encode()).hexdigest()


def _path(directory: Path, key: str) -> Path:
    return directory / f"{key}.rrstate"


def load(key: str):
    """The RoadRunner stored under ``key``, or None (no cache, no entry, or a corrupt entry)."""
    directory = cache_dir()
    if directory is None:
        return None
    path = _path(directory, key)
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    header_end = len(MAGIC) + 64
    if not blob.startswith(MAGIC) or len(blob) <= header_end + 1:
        return None
    digest, payload = blob[len(MAGIC):header_end].decode("ascii", "replace"), blob[header_end + 1:]
    if hashlib.sha256(payload).hexdigest() != digest:
        return None
    import roadrunner

    try:
        rr = roadrunner.RoadRunner()
        rr.loadStateS(payload)
    except (RuntimeError, ValueError, MemoryError):
        return None
    try:
        os.utime(path)  # recently used: kept when the cache is pruned
    except OSError:
        pass
    return rr


def store(key: str, rr) -> Path | None:
    """Save a compiled RoadRunner under ``key`` (atomically); the path, or None if the cache is off
    or not writable (a cache that cannot be written never stops a simulation)."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        payload = rr.saveStateS()
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{key[:16]}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, _path(directory, key))
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _prune(directory)
    except (OSError, RuntimeError):
        return None
    return _path(directory, key)


def _prune(directory: Path) -> None:
    """Drop the least recently used entries beyond :data:`MAX_ENTRIES` and stale temporary files."""
    now = time.time()
    for temp in directory.glob(".*.tmp"):
        try:
            if now - temp.stat().st_mtime > STALE_TEMP_S:
                temp.unlink()
        except OSError:
            pass
    for pattern in ("*.rrstate", "*.json"):
        entries = []
        for entry in directory.glob(pattern):
            try:
                entries.append((entry.stat().st_mtime, entry))
            except OSError:
                pass
        for _, entry in sorted(entries, reverse=True)[MAX_ENTRIES:]:
            entry.unlink(missing_ok=True)


def load_json(name: str):
    """A JSON document stored with :func:`store_json` (what was parsed from an SBML), or None."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        return json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_json(name: str, document) -> None:
    """Store a JSON document atomically (write a temporary file, then :func:`os.replace`)."""
    directory = cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{name[:16]}-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out)
        os.replace(temp, directory / f"{name}.json")
        _prune(directory)
    except OSError:
        Path(locals().get("temp", directory / ".none")).unlink(missing_ok=True)


def clear() -> int:
    """Delete every entry of the cache directory; the number deleted."""
    directory = cache_dir()
    if directory is None or not directory.is_dir():
        return 0
    entries = [*directory.glob("*.rrstate"), *directory.glob("*.json")]
    for entry in entries:
        entry.unlink(missing_ok=True)
    return len(entries)
