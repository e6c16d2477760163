"""Video files that a hub dataset ships beside its annotations: as archives (zip, tar) or as files.

:class:`HubVideos` finds one video by file name. On first use it gets the repository's video
files and archives once: from the ``$LMMS_EVAL_HUB_MIRROR`` copy of the repository when there is
one (an air-gapped machine, a test fixture), else from the hub with ``huggingface_hub`` (only the
files matching the given patterns; cached by ``huggingface_hub`` as usual). Archives are extracted
once into ``$LMMS_EVAL_CACHE/videos/<org>/<name>/<archive>/`` (default ``~/.cache/lmms_eval``):
into a temporary folder first, renamed into place when complete, so a killed extraction is redone
and never half-used. Every video file found (loose in the repository or inside an archive) is
indexed by its file name.

Errors say what is missing and the fix, in one line: no archive matching the patterns (a partial
download or the wrong folder), an archive that cannot be read (delete it and download again), a
video the index lacks (naming the video, the archives read and how many videos they held).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tarfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path

from lmms_eval.api.errors import DatasetError, SampleError

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")
ARCHIVE_EXTENSIONS = (".zip", ".tar", ".tar.gz", ".tgz")
_DONE = ".complete"


def cache_root() -> Path:
    """``$LMMS_EVAL_CACHE/videos`` (default ``~/.cache/lmms_eval/videos``)."""
    base = os.environ.get("LMMS_EVAL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "lmms_eval")
    return Path(base) / "videos"


def _is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_EXTENSIONS)


def _is_video(name: str) -> bool:
    return name.lower().endswith(VIDEO_EXTENSIONS) and not os.path.basename(name).startswith("._")


def extract(archive: Path, into: Path) -> Path:
    """Extract ``archive`` into ``into/<archive name>/`` once; returns that folder."""
    target = into / archive.name
    if (target / _DONE).exists():
        return target
    tmp = into / f".{archive.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                bad = zf.testzip()
                if bad is not None:
                    raise zipfile.BadZipFile(f"member {bad} is corrupt")
                zf.extractall(tmp)
        else:
            with tarfile.open(archive) as tf:
                if hasattr(tarfile, "data_filter"):  # refuse absolute paths and links out of the folder
                    tf.extractall(tmp, filter="data")
                else:  # pragma: no cover - Python without extraction filters
                    tf.extractall(tmp)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DatasetError(
            f"cannot extract {archive} ({exc}); it is incomplete or corrupt: delete it and download it again"
        ) from None
    (tmp / _DONE).write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


class HubVideos:
    """The videos of hub dataset ``repo_id``, from files and archives matching ``patterns``."""

    def __init__(self, repo_id: str, patterns: Sequence[str], revision: str | None = None) -> None:
        self.repo_id, self.patterns, self.revision = repo_id, list(patterns), revision
        self._index: dict[str, str] | None = None
        self._archives: list[str] = []
        self._lock = threading.Lock()

    def _repo_folder(self) -> Path:
        from lmms_eval.tasks.datasource import HUB_MIRROR_ENV, hub_mirror

        mirrored = hub_mirror(self.repo_id)
        if mirrored is not None:
            return Path(mirrored)
        try:
            from huggingface_hub import snapshot_download

            folder = snapshot_download(
                self.repo_id, repo_type="dataset", revision=self.revision, allow_patterns=self.patterns
            )
        except Exception as exc:  # noqa: BLE001 - network, auth, unknown repo: one line with the fix
            raise DatasetError(
                f"cannot download the videos of {self.repo_id} ({', '.join(self.patterns)}): {type(exc).__name__}: "
                f"{exc}. Check the network and hub access, or put a copy of the repository under "
                f"${HUB_MIRROR_ENV}/{self.repo_id}"
            ) from None
        return Path(folder)

    def _build(self) -> dict[str, str]:
        root = self._repo_folder()
        files = [p for p in sorted(root.rglob("*")) if p.is_file()]
        relative = {p: p.relative_to(root).as_posix() for p in files}
        chosen = [p for p in files if any(fnmatch.fnmatch(relative[p], pat) for pat in self.patterns)]
        if not chosen:
            raise DatasetError(
                f"no file matching {', '.join(self.patterns)} under {root} (the videos of {self.repo_id}); "
                "the download is incomplete or the folder is not a copy of the repository"
            )
        index: dict[str, str] = {}
        into = cache_root() / self.repo_id
        for path in chosen:
            if _is_archive(path.name):
                self._archives.append(path.name)
                folder = extract(path, into)
                for video in sorted(folder.rglob("*")):
                    if video.is_file() and _is_video(video.name):
                        index.setdefault(video.name, str(video))
            elif _is_video(path.name):
                index.setdefault(path.name, str(path))
        return index

    def path(self, name: str, *alternatives: str) -> str:
        """The local path of video file ``name`` (fetched and extracted on first use), else of the
        first of ``alternatives`` held (other extensions: ``"x.MP4"``, ``"x.webm"``)."""
        with self._lock:
            if self._index is None:
                self._index = self._build()
            index = self._index
        for candidate in (name, *alternatives):
            found = index.get(candidate)
            if found is not None:
                return found
        where = f"archives {', '.join(self._archives)}" if self._archives else "the repository's files"
        nor = f", nor is {' or '.join(alternatives)}" if alternatives else ""
        raise SampleError(
            f"video {name} of {self.repo_id} is not in {where}{nor} ({len(index)} videos found); "
            f"the download is partial: fetch the missing archives again (extracted copies live in {cache_root()})"
        )


class HubFiles:
    """Single files of hub dataset ``repo_id``, listed without downloading and fetched one by one
    (for a week of clips where only a few are needed): from the ``$LMMS_EVAL_HUB_MIRROR`` copy of
    the repository, else ``huggingface_hub`` (listing, then ``hf_hub_download`` per file)."""

    def __init__(self, repo_id: str, revision: str | None = None) -> None:
        self.repo_id, self.revision = repo_id, revision
        self._names: list[str] | None = None
        self._fetched: dict[str, str] = {}
        """Paths already resolved: a prompt is built more than once (planning, the variant check,
        generation), and ``hf_hub_download`` would ask the hub again each time."""
        self._lock = threading.Lock()

    def _mirror(self) -> Path | None:
        from lmms_eval.tasks.datasource import hub_mirror

        found = hub_mirror(self.repo_id)
        return Path(found) if found else None

    def names(self, pattern: str = "*") -> list[str]:
        """Repository-relative paths matching ``pattern`` (``fnmatch``), sorted."""
        with self._lock:
            if self._names is None:
                mirror = self._mirror()
                if mirror is not None:
                    self._names = sorted(p.relative_to(mirror).as_posix() for p in mirror.rglob("*") if p.is_file())
                else:
                    try:
                        from huggingface_hub import HfApi

                        self._names = sorted(
                            HfApi().list_repo_files(self.repo_id, repo_type="dataset", revision=self.revision)
                        )
                    except Exception as exc:  # noqa: BLE001 - one line with the fix
                        raise DatasetError(
                            f"cannot list the files of {self.repo_id}: {type(exc).__name__}: {exc}; check the "
                            "network and hub access, or put a copy of the repository under $LMMS_EVAL_HUB_MIRROR"
                        ) from None
            names = self._names
        return [n for n in names if fnmatch.fnmatch(n, pattern)]

    def fetch(self, name: str) -> str:
        """The local path of one repository file (downloaded once by ``huggingface_hub``)."""
        found = self._fetched.get(name)
        if found is None:
            found = self._fetched[name] = self._fetch(name)
        return found

    def _fetch(self, name: str) -> str:
        mirror = self._mirror()
        if mirror is not None:
            path = mirror / name
            if not path.is_file():
                raise SampleError(f"{name} is not in the copy of {self.repo_id} at {mirror}")
            return str(path)
        try:
            from huggingface_hub import hf_hub_download

            return str(hf_hub_download(self.repo_id, name, repo_type="dataset", revision=self.revision))
        except Exception as exc:  # noqa: BLE001 - this sample's error, one line
            raise SampleError(f"cannot download {name} of {self.repo_id}: {type(exc).__name__}: {exc}") from None
