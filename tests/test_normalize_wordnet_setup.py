"""WordNet setup: copy Debian's WordNet into an NLTK data folder and load it from there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.normalize import wordnet_setup

pytestmark = pytest.mark.skipif(
    not (wordnet_setup.SYSTEM_WORDNET / "data.noun").is_file(),
    reason="Debian WordNet (wordnet-base) not installed at /usr/share/wordnet",
)


def test_lexnames_table() -> None:
    lines = wordnet_setup.lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[3] == "03\tnoun.Tops\t1"
    assert lines[28] == "28\tnoun.time\t1"
    assert lines[29] == "29\tverb.body\t2"
    assert lines[44] == "44\tadj.ppl\t3"


def test_setup_into_nltk_data_folder(tmp_path: Path) -> None:
    env = {**os.environ, "NLTK_DATA": str(tmp_path)}
    run = [sys.executable, "-m", "pipeline.normalize.wordnet_setup"]
    first = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "corpora" / "wordnet"
    assert (folder / "lexnames").is_file() and not (folder / "data.noun").is_symlink()
    again = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr  # idempotent
    probe = (
        "import nltk.data, sys\n"
        f"assert nltk.data.path[0] == {str(tmp_path)!r}, nltk.data.path\n"
        "from nltk.corpus import wordnet as wn\n"
        "assert wn.synset('red.n.01').hypernym_paths()\n"
        "print(wn.synset('dog.n.01').lexname(), wn.root)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    lexname, root = out.stdout.split()
    assert lexname == "noun.animal"
    assert Path(root).resolve() == folder.resolve()


def test_missing_everything_fails_with_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    def no_download(data_dir: Path) -> Path:
        raise RuntimeError("offline")

    monkeypatch.setattr(wordnet_setup, "SYSTEM_WORDNET", tmp_path / "absent")
    monkeypatch.setattr(wordnet_setup, "_download", no_download)
    with pytest.raises(RuntimeError, match="WordNet unavailable"):
        wordnet_setup.install_wordnet(tmp_path / "data")
    monkeypatch.setenv("NLTK_DATA", str(tmp_path / "data"))
    assert wordnet_setup.main() == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("wordnet_setup: error:")


def test_ensure_wordnet_copies_lazily(tmp_path: Path) -> None:
    probe = (
        "import nltk.data\n"
        f"nltk.data.path[:] = [{str(tmp_path)!r}]  # hide any WordNet installed elsewhere\n"
        "from pipeline.normalize import ensure_wordnet\n"
        "ensure_wordnet()\n"
        "from nltk.corpus import wordnet as wn\n"
        "print(wn.synset('dog.n.01').lexname())\n"
    )
    env = {**os.environ, "NLTK_DATA": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "noun.animal"
    assert (tmp_path / "corpora" / "wordnet" / "lexnames").is_file()


def test_english_reader_matches_nltk_index() -> None:
    """The English reader parses each lemma's index lines on first use; every entry, the
    satellite offsets, the key order and the look-ups equal NLTK's own eager reader."""
    import warnings

    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    root = wordnet_setup._wordnet_root()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = wordnet_setup.english_reader_class()(root, None)
        stock = WordNetCorpusReader(root, None)
    assert fast.satellite_offsets == stock.satellite_offsets
    for word in ("dog", "shelves", "red", "running", "tennis_racket", "no_such_word"):
        for pos in ("n", "v", "a", "s", "r"):
            assert fast.synsets(word, pos) == stock.synsets(word, pos), (word, pos)
        assert fast._morphy(word, "n") == stock._morphy(word, "n")
    lazy, eager = fast._lemma_pos_offset_map, stock._lemma_pos_offset_map
    assert list(lazy) == list(eager)  # the same look-ups added the same empty entries
    assert all(list(lazy[k].items()) == list(v.items()) for k, v in eager.items())
    assert lazy["good"]["s"] and set(lazy["good"]["s"]) < set(lazy["good"]["a"])


def test_lazy_lemma_index_acts_as_defaultdict() -> None:
    parsed: list[str] = []

    def parse(lines: str) -> dict[str, list[int]]:
        parsed.append(lines)
        return {"n": [int(lines)]}

    index = wordnet_setup.LazyLemmaIndex({"a": "1", "b": "2"}, parse)
    assert "a" in index and "zz" not in index and parsed == []
    assert index["b"] == {"n": [2]} and parsed == ["2"]
    assert index.get("zz") is None and "zz" not in index
    assert index["zz"] == {} and "zz" in index  # a miss is remembered, as defaultdict(dict)
    assert list(index) == ["a", "b", "zz"] and len(index) == 3
    assert index["a"] == {"n": [1]} and parsed == ["2", "1"]  # each lemma parsed once


def test_lazy_lemma_index_compares_as_the_whole_map() -> None:
    def parse(lines: str) -> dict[str, list[int]]:
        return {"n": [int(lines)]}

    fresh = wordnet_setup.LazyLemmaIndex({"a": "1", "b": "2"}, parse)
    # Nothing parsed yet: dict's own comparison would see an empty map.
    assert fresh == {"a": {"n": [1]}, "b": {"n": [2]}}
    assert wordnet_setup.LazyLemmaIndex({"a": "1"}, parse) != {}
    assert wordnet_setup.LazyLemmaIndex({"a": "1"}, parse) == wordnet_setup.LazyLemmaIndex(
        {"a": "1"}, parse
    )
    assert wordnet_setup.LazyLemmaIndex({"a": "1"}, parse) != {"a": {"n": [2]}}
