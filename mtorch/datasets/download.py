"""Download a file from a list of mirrors, verify its checksum, write it atomically.

Used by every dataset that fetches its files on first use::

    download(["https://mirror-a.org/data.gz", "https://mirror-b.org/data.gz"],
             "datasets/mnist/data.gz", sha256="440fcabf73cc...")

How it works:

* The mirrors are tried in order; the first one that delivers a file with the
  expected checksum wins.
* The bytes stream into a temporary file in the destination folder (with a tqdm
  progress bar) while being hashed; only a verified file is renamed onto the
  destination with ``os.replace``, which is atomic. An interrupted or corrupt
  download therefore never leaves a file at the destination, and the temporary
  file is removed.
* If no mirror succeeds, ``DownloadError`` lists every mirror and why it failed
  (network error, HTTP status, checksum mismatch), and the folders created for
  the file are removed again: a failed download leaves nothing behind.

Files already on disk are checked with ``verify_cached``: hashed once, and the
result remembered in the folder's ``.verified.json`` (file size, modification
time, hash), so later runs only compare sizes and times.
"""
import hashlib
import http.client
import json
import os
import secrets
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ..validation import check_bool
from .paths import DatasetNotFoundError

CHUNK_SIZE = 1 << 20
TIMEOUT_SECONDS = 30
_ALGORITHMS = ("sha256", "md5")


RECORD_NAME = ".verified.json"
_verified = {}                 # resolved path -> record, for folders where no record can be written


class ChecksumError(ValueError):
    """A file's hash is not the expected one (names the file, both hashes and the algorithm)."""

    def __init__(self, name, algorithm, expected, actual, advice=""):
        self.name, self.algorithm, self.expected, self.actual = name, algorithm, expected, actual
        super().__init__(f"checksum mismatch for {name}: expected {algorithm} {expected}, got {actual}"
                         + (f". {advice}" if advice else ""))


class DownloadError(OSError):
    """No mirror delivered the file.

    Attributes:
        path: the destination that was not written.
        failures: list of ``(url, exception)``, one per mirror tried, in order.
    """

    def __init__(self, path, failures):
        self.path, self.failures = Path(path), list(failures)
        lines = [f"could not download {self.path.name} to {self.path}; tried {len(self.failures)} mirror(s):"]
        lines += [f"  {url}: {_describe(error)}" for url, error in self.failures]
        super().__init__("\n".join(lines))


def _describe(error):
    return str(error) if isinstance(error, ChecksumError) else f"{type(error).__name__}: {error}"


def _expected_hashes(sha256, md5):
    expected = {name: value.lower() for name, value in (("sha256", sha256), ("md5", md5)) if value}
    if not expected:
        raise ValueError("download: give the file's published checksum (sha256= and/or md5=)")
    return expected


def file_hash(path, algorithm="sha256"):
    """The hex digest of a file's bytes, read in chunks (``algorithm``: 'sha256' or 'md5')."""
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"file_hash: algorithm must be one of {_ALGORITHMS}, got {algorithm!r}")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path):
    """The SHA-256 hex digest of a file (what ``sha256sum`` prints)."""
    return file_hash(path, "sha256")


def verify_file(path, sha256=None, md5=None):
    """Raise ``ChecksumError`` unless the file at ``path`` has every given hash."""
    for algorithm, expected in _expected_hashes(sha256, md5).items():
        actual = file_hash(path, algorithm)
        if actual != expected:
            raise ChecksumError(Path(path).name, algorithm, expected, actual)


def verify_cached(path, sha256=None, md5=None):
    """Raise ``ChecksumError`` unless the file at ``path`` has the given hashes, hashing it only once.

    After a successful check the file's size, modification time and hashes
    are recorded in ``.verified.json`` in its folder (or, where the folder is
    read-only, in memory for this process). A later call finds the record and
    skips the hashing while size and time are unchanged; any edit of the file
    changes its time, so it is hashed again and a changed byte is found.
    """
    path = Path(path)
    expected = _expected_hashes(sha256, md5)
    stat = path.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **expected}
    records = _read_records(path.parent / RECORD_NAME)
    if records.get(path.name) == record or _verified.get(str(path.resolve())) == record:
        return
    for algorithm, value in expected.items():
        actual = file_hash(path, algorithm)
        if actual != value:
            raise ChecksumError(str(path), algorithm, value, actual,
                                "The file is damaged or was changed; delete it to download it again")
    _verified[str(path.resolve())] = record
    records[path.name] = record
    _write_records(path.parent / RECORD_NAME, records)


def _read_records(path):
    try:
        with open(path, encoding="utf-8") as f:
            records = json.load(f)
    except (OSError, ValueError):
        return {}
    return records if isinstance(records, dict) else {}


def _write_records(path, records):
    """Write the record atomically; a folder that cannot be written keeps no record (not an error)."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            json.dump(records, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)


def download(urls, path, sha256=None, desc=None, md5=None, progress=True):
    """Fetch ``path`` from the first mirror in ``urls`` that serves the right bytes.

    Args:
        urls: one URL or a list of mirror URLs for the same file (``https://``,
            ``http://`` or ``file://``), tried in order.
        path: destination file; its folder is created if needed.
        sha256: the expected SHA-256 hex digest.
        desc: label of the progress bar (default: the file name).
        md5: the expected MD5 hex digest (many datasets publish only MD5).
            At least one of ``sha256`` and ``md5`` is required; all given are checked.
        progress: show a tqdm progress bar.

    Returns:
        The destination as a ``Path``.

    Raises:
        DownloadError: no mirror worked (or the folder cannot be created); the
            message lists each mirror's failure. Nothing is left at ``path``,
            and folders created for it are removed again.
    """
    expected = _expected_hashes(sha256, md5)
    urls = [urls] if isinstance(urls, str) else list(urls)
    if not urls:
        raise ValueError("download: no URL given")
    path = Path(path)
    created = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DownloadError(path, [(f"(creating the folder {path.parent})", error)]) from None
        failures = []
        for url in urls:
            try:
                _fetch_verified(url, path, expected, desc or path.name, progress)
                return path
            except (OSError, ValueError, http.client.HTTPException) as error:
                failures.append((url, error))
        raise DownloadError(path, failures)
    except BaseException:
        for folder in created:                   # innermost first; only while empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _fetch_verified(url, path, expected, desc, progress):
    """Stream ``url`` into a temporary file next to ``path``, hash it, then rename it into place."""
    digests = {algorithm: hashlib.new(algorithm) for algorithm in expected}
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "mtorch"})
        with open(tmp, "xb") as out, urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            size = response.headers.get("Content-Length")
            with tqdm(total=int(size) if size else None, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=desc, disable=not progress, leave=False) as bar:
                for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
                    out.write(chunk)
                    for digest in digests.values():
                        digest.update(chunk)
                    bar.update(len(chunk))
        for algorithm, value in expected.items():
            actual = digests[algorithm].hexdigest()
            if actual != value:
                raise ChecksumError(path.name, algorithm, value, actual)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_files(owner, directory, names, download, fetch, advice):
    """Make sure ``directory`` holds the files ``names``.

    Missing files are fetched with ``fetch(directory, missing)`` when
    ``download`` is true; otherwise, or when that raises ``DownloadError``,
    ``DatasetNotFoundError`` names ``owner`` (the public class), the missing
    files and the folder, followed by ``advice`` (where to get them by hand).
    """
    directory = Path(directory)
    download = check_bool(owner, "download", download)
    missing = [name for name in names if not (directory / name).is_file()]
    if not missing:
        return
    failure = "(download=False, so nothing was downloaded)"
    if download:
        try:
            fetch(directory, missing)
            return
        except DownloadError as error:
            failure = f"The download failed (no network?): {error}"
    raise DatasetNotFoundError(f"{owner}: missing {', '.join(missing)} in {directory}.\n{advice}\n{failure}")
