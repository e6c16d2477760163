"""Rebuild LibriSpeech's long-form sets from its utterances, and cut them into fixed-length windows.

``lmms-lab-audio/Librispeech-concat`` holds each LibriSpeech test chapter as one recording: the
chapter's utterances (``openslr/librispeech_asr``, grouped by speaker and chapter, in utterance-id
order) joined end to end. This module rebuilds that set deterministically from the utterance set
and, for the WER-by-input-length sweep, packs consecutive utterances of a chapter into windows of
at most ``W`` seconds, so every window has an exact transcript.

Everything streams chapter by chapter: only one chapter's audio is decoded at a time.

Command line (writes a hub-shaped folder usable with ``LMMS_EVAL_HUB_MIRROR``)::

    python -m lmms_eval.tasks.librispeech.build_long --config clean --split test --out MIRROR

gives ``MIRROR/lmms-lab-audio/Librispeech-concat/data/test_clean-00000-of-00001.parquet`` plus a
README whose ``configs:`` list every split written there so far.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lmms_eval.api.errors import DatasetError

SOURCE_ID = "openslr/librispeech_asr"
LONG_ID = "lmms-lab-audio/Librispeech-concat"
RATE = 16000
METADATA_COLUMNS = ("id", "speaker_id", "chapter_id", "text")
WINDOW_FORMAT = 1  # version of the window rule; part of the datasets cache key of the windows


def long_features() -> Any:
    """The features of ``lmms-lab-audio/Librispeech-concat`` (default config)."""
    import datasets

    return datasets.Features(
        {
            "audio": datasets.Audio(),
            "transcript": datasets.Value("string"),
            "audio_id": datasets.Value("string"),
            "audio_duration": datasets.Value("float64"),
        }
    )


def window_features() -> Any:
    """Features of a window document: the long-set columns plus the utterance count."""
    import datasets

    features = long_features()
    features["audio"] = datasets.Audio(sampling_rate=RATE)
    features["n_utterances"] = datasets.Value("int64")
    return features


@dataclass(frozen=True)
class Utterance:
    """One decoded LibriSpeech utterance."""

    id: str
    text: str
    wave: np.ndarray


def require_columns(dataset: Any) -> None:
    """Stop in one line when ``dataset`` is not a LibriSpeech utterance split (ids, chapters, audio)."""
    missing = [c for c in (*METADATA_COLUMNS, "audio") if c not in dataset.column_names]
    if missing:
        raise DatasetError(
            f"LibriSpeech chapters: the split lacks column(s) {missing} (it has {dataset.column_names}); "
            f"use the utterance set {SOURCE_ID} (configs clean/other), which has them"
        )


def chapters(dataset: Any) -> list[tuple[str, list[int]]]:
    """``(audio_id, row indices in utterance-id order)`` per (speaker, chapter), ordered by
    (speaker_id, chapter_id). Reads only the metadata columns, never the audio."""
    require_columns(dataset)
    table = dataset.select_columns(list(METADATA_COLUMNS)).with_format("arrow")[:]
    ids = table.column("id").to_pylist()
    speakers = table.column("speaker_id").to_pylist()
    chaps = table.column("chapter_id").to_pylist()
    groups: dict[tuple[int, int], list[int]] = {}
    for row, (speaker, chapter) in enumerate(zip(speakers, chaps, strict=True)):
        groups.setdefault((int(speaker), int(chapter)), []).append(row)
    return [
        (f"{speaker}-{chapter}", sorted(rows, key=lambda r: ids[r]))
        for (speaker, chapter), rows in sorted(groups.items())
    ]


def read_utterances(dataset: Any, rows: Sequence[int]) -> list[Utterance]:
    """The utterances at ``rows`` (one chapter), decoded to mono float32 at 16 kHz."""
    from lmms_eval.tasks.rows import decode_media_value

    feature = dataset.features["audio"]
    batch = dataset.with_format("arrow")[list(rows)].to_pylist()
    out = []
    for row in batch:
        try:
            audio = decode_media_value(feature, row["audio"])
        except Exception as exc:  # noqa: BLE001 - one bad file stops the build with its name
            raise DatasetError(
                f"LibriSpeech utterance {row['id']}: cannot decode its audio ({type(exc).__name__}: {exc}); "
                "re-download the split (datasets.load_dataset(..., download_mode='force_redownload'))"
            ) from None
        if int(audio["sampling_rate"]) != RATE:
            from lmms_eval.media import resample

            audio["array"] = resample(audio["array"], int(audio["sampling_rate"]), RATE)
        out.append(Utterance(str(row["id"]), str(row["text"]), np.asarray(audio["array"], np.float32)))
    return out


def wav_bytes(wave: np.ndarray, rate: int = RATE) -> bytes:
    """``wave`` as a 16-bit PCM WAV file (lossless for LibriSpeech's 16-bit FLAC sources)."""
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, wave, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def join(audio_id: str, utterances: Sequence[Utterance]) -> dict[str, Any]:
    """One long-set row: the utterances' audio end to end (no gap), transcripts joined by one space."""
    wave = np.concatenate([u.wave for u in utterances]) if utterances else np.zeros(0, np.float32)
    return {
        "audio": {"bytes": wav_bytes(wave), "path": f"{audio_id}.wav"},
        "transcript": " ".join(u.text.strip() for u in utterances),
        "audio_id": audio_id,
        "audio_duration": len(wave) / RATE,
    }


def iter_long_rows(dataset: Any) -> Iterator[dict[str, Any]]:
    """The long-set rows of an utterance split, one chapter at a time."""
    for audio_id, rows in chapters(dataset):
        yield join(audio_id, read_utterances(dataset, rows))


def pack(durations: Sequence[float], seconds: float) -> list[list[int]]:
    """Consecutive indices packed greedily into windows of at most ``seconds`` (sum of durations).

    An item longer than ``seconds`` on its own becomes a window by itself (the only case a window
    exceeds the limit: LibriSpeech utterances run up to ~35 s, longer than a 30 s window).
    """
    windows: list[list[int]] = []
    current: list[int] = []
    total = 0.0
    for index, duration in enumerate(durations):
        if current and total + duration > seconds:
            windows.append(current)
            current, total = [], 0.0
        current.append(index)
        total += duration
    if current:
        windows.append(current)
    return windows


def window_id(utterances: Sequence[Utterance]) -> str:
    """``<first utterance id>_<last utterance number>``, e.g. ``1089-134686-0000_0005``."""
    return f"{utterances[0].id}_{utterances[-1].id.rsplit('-', 1)[-1]}"


def iter_window_rows(dataset: Any, seconds: float) -> Iterator[dict[str, Any]]:
    """Windows of at most ``seconds`` of consecutive utterances of each chapter (chapter by chapter)."""
    for _, rows in chapters(dataset):
        utterances = read_utterances(dataset, rows)
        for window in pack([len(u.wave) / RATE for u in utterances], seconds):
            members = [utterances[i] for i in window]
            row = join(window_id(members), members)
            row["n_utterances"] = len(members)
            yield row


def window_dataset(dataset: Any, seconds: float) -> Any:
    """The windows of an utterance split as a ``datasets.Dataset`` (written to the ``datasets``
    cache as it is built, so memory holds one chapter; a second run reuses the cached copy)."""
    import datasets

    require_columns(dataset)
    return datasets.Dataset.from_generator(
        _window_generator,
        features=window_features(),
        # the cache key hashes these (and the generator by name): bump WINDOW_FORMAT when the rule changes
        gen_kwargs={"dataset": dataset, "seconds": float(seconds), "window_format": WINDOW_FORMAT},
    )


def _window_generator(dataset: Any, seconds: float, window_format: int) -> Iterator[dict[str, Any]]:
    yield from iter_window_rows(dataset, seconds)


# ---- a hub-shaped copy of Librispeech-concat -------------------------------------------------


def write_split(dataset: Any, out_root: Path, split: str) -> Path:
    """Write the long rows of ``dataset`` as ``<out_root>/data/<split>-00000-of-00001.parquet``
    (one row group per chapter, streamed) and refresh the README's ``configs:``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    features = long_features()
    schema = features.arrow_schema  # carries the `huggingface` features metadata
    data = out_root / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"{split}-00000-of-00001.parquet"
    with pq.ParquetWriter(str(path), schema) as writer:
        for row in iter_long_rows(dataset):
            writer.write_table(pa.Table.from_pylist([features.encode_example(row)], schema=schema))
    write_readme(out_root)
    return path


def write_readme(out_root: Path) -> None:
    """The README ``configs:`` block listing every split file under ``<out_root>/data``."""
    splits = sorted(p.name.split("-00000-of-", 1)[0] for p in (out_root / "data").glob("*-00000-of-*.parquet"))
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: data/{split}-*"]
    lines.append("---")
    (out_root / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_source(config: str, split: str, source: str = SOURCE_ID) -> Any:
    """The utterance split ``source`` / ``config`` / ``split`` (through ``LMMS_EVAL_HUB_MIRROR``
    when the mirror holds it, else the hub or a local folder)."""
    import datasets

    from lmms_eval.tasks.datasource import hub_mirror

    return datasets.load_dataset(hub_mirror(source) or source, config, split=split)


def build(config: str, split: str, out: Path, source: str = SOURCE_ID) -> Path:
    """Build ``<out>/lmms-lab-audio/Librispeech-concat`` split ``<split>_<config>`` (e.g.
    ``test_clean``) from ``source``; returns the parquet file written."""
    dataset = load_source(config, split, source)
    return write_split(dataset, out.joinpath(*LONG_ID.split("/")), f"{split}_{config}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmms_eval.tasks.librispeech.build_long",
        description="Rebuild LibriSpeech's chapter-long recordings (Librispeech-concat schema) from its utterances.",
    )
    parser.add_argument("--config", choices=["clean", "other"], required=True)
    parser.add_argument("--split", choices=["test", "validation"], default="test")
    parser.add_argument("--out", type=Path, required=True, help="mirror folder (LMMS_EVAL_HUB_MIRROR)")
    parser.add_argument("--source", default=SOURCE_ID, help=f"utterance dataset (default {SOURCE_ID})")
    args = parser.parse_args(argv)
    path = build(args.config, args.split, args.out, args.source)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
