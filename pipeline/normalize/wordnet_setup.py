"""Make WordNet 3.0 loadable by NLTK without the internet.

Debian's `wordnet-base` and `wordnet-sense-index` packages put the WordNet database in
/usr/share/wordnet. NLTK only reads files inside its data folders (symlinks pointing outside
are refused), so the files are copied into `<nltk_data>/corpora/wordnet/`, together with the
`lexnames` file that Debian does not ship. Where the Debian files are absent we fall back to
`nltk.download("wordnet")`. Run as `python -m pipeline.normalize.wordnet_setup`.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

SYSTEM_WORDNET = Path("/usr/share/wordnet")

# lexnames(5WN): file number, lexicographer file, syntactic category (1 noun, 2 verb,
# 3 adjective, 4 adverb). NLTK needs it for Synset.lexname() and to load synsets at all.
LEXNAMES: tuple[tuple[str, int], ...] = (
    ("adj.all", 3),
    ("adj.pert", 3),
    ("adv.all", 4),
    ("noun.Tops", 1),
    ("noun.act", 1),
    ("noun.animal", 1),
    ("noun.artifact", 1),
    ("noun.attribute", 1),
    ("noun.body", 1),
    ("noun.cognition", 1),
    ("noun.communication", 1),
    ("noun.event", 1),
    ("noun.feeling", 1),
    ("noun.food", 1),
    ("noun.group", 1),
    ("noun.location", 1),
    ("noun.motive", 1),
    ("noun.object", 1),
    ("noun.person", 1),
    ("noun.phenomenon", 1),
    ("noun.plant", 1),
    ("noun.possession", 1),
    ("noun.process", 1),
    ("noun.quantity", 1),
    ("noun.relation", 1),
    ("noun.shape", 1),
    ("noun.state", 1),
    ("noun.substance", 1),
    ("noun.time", 1),
    ("verb.body", 2),
    ("verb.change", 2),
    ("verb.cognition", 2),
    ("verb.communication", 2),
    ("verb.competition", 2),
    ("verb.consumption", 2),
    ("verb.contact", 2),
    ("verb.creation", 2),
    ("verb.emotion", 2),
    ("verb.motion", 2),
    ("verb.perception", 2),
    ("verb.possession", 2),
    ("verb.social", 2),
    ("verb.stative", 2),
    ("verb.weather", 2),
    ("adj.ppl", 3),
)

# Files NLTK's WordNet reader needs; the rest of the Debian folder is copied when present.
REQUIRED_FILES = tuple(
    f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))


def lexnames_text() -> str:
    return "".join(f"{i:02d}\t{name}\t{cat}\n" for i, (name, cat) in enumerate(LEXNAMES))


def target_data_dir() -> Path:
    """First folder of NLTK_DATA if set, else `<sys.prefix>/nltk_data` (searched by default)."""
    env = os.environ.get("NLTK_DATA", "").strip()
    if env:
        return Path(env.split(os.pathsep)[0])
    return Path(sys.prefix) / "nltk_data"


def copy_system_wordnet(source: Path, data_dir: Path) -> Path:
    """Copy the Debian WordNet files into `data_dir/corpora/wordnet`; idempotent."""
    missing = [name for name in REQUIRED_FILES if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{source} lacks WordNet files: {', '.join(missing)}")
    dest = data_dir / "corpora" / "wordnet"
    dest.mkdir(parents=True, exist_ok=True)
    for src in sorted(source.iterdir()):
        if not src.is_file():
            continue  # bin/, pixmaps/, wnres/ are for the Tk browser, not for NLTK
        out = dest / src.name
        if out.is_file() and out.stat().st_size == src.stat().st_size:
            continue
        tmp = out.with_suffix(out.suffix + ".tmp")
        shutil.copyfile(src, tmp)  # a real copy: NLTK refuses links leaving its folders
        tmp.replace(out)
    lexnames = dest / "lexnames"
    if not lexnames.is_file() or lexnames.read_text() != lexnames_text():
        lexnames.write_text(lexnames_text())
    return dest


def check_wordnet(root: Path) -> None:
    """Load WordNet from `root` directly and touch a synset; raises on any problem."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    with warnings.catch_warnings():  # no Open Multilingual WordNet here: expected, not news
        warnings.simplefilter("ignore")
        reader = WordNetCorpusReader(str(root), None)
    reader.synset("red.n.01").hypernym_paths()
    if reader.synset("dog.n.01").lexname() != "noun.animal":
        raise RuntimeError(f"WordNet at {root} gives wrong lexicographer names")


def _download(data_dir: Path) -> Path:
    import nltk

    data_dir.mkdir(parents=True, exist_ok=True)
    if not nltk.download("wordnet", download_dir=str(data_dir), quiet=True, raise_on_error=True):
        raise RuntimeError("nltk.download('wordnet') failed")
    dest = data_dir / "corpora" / "wordnet"
    if not dest.is_dir():  # the download is a zip; unpack it so the reader gets a folder
        shutil.unpack_archive(str(data_dir / "corpora" / "wordnet.zip"), str(dest.parent))
    return dest


def install_wordnet(data_dir: Path | None = None, source: Path | None = None) -> Path:
    """Put WordNet under `data_dir` (default: `target_data_dir()`) and check it loads."""
    data_dir = data_dir or target_data_dir()
    source = source or SYSTEM_WORDNET
    errors: list[str] = []
    if (source / "data.noun").is_file():
        try:
            dest = copy_system_wordnet(source, data_dir)
            check_wordnet(dest)
            return dest
        except Exception as exc:  # fall through to the download, remember why
            errors.append(f"copy from {source}: {exc}")
    else:
        errors.append(f"{source} not found (install Debian packages wordnet-base)")
    try:
        dest = _download(data_dir)
        check_wordnet(dest)
        return dest
    except Exception as exc:
        errors.append(f"nltk.download: {exc}")
    raise RuntimeError("WordNet unavailable: " + "; ".join(errors))


def _wordnet_loads() -> bool:
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
        return True
    except LookupError:
        return False


class WordNetMissing(InputError):
    """WordNet's data are nowhere NLTK looks and could not be put there: one line that says
    what to install and what to run (from an installed package as from a checkout)."""

    def __init__(self, data_dir: object, reasons: str) -> None:
        super().__init__(
            data_dir,
            f"WordNet data missing ({reasons}); install the Debian packages wordnet-base "
            "and wordnet-sense-index (or allow nltk.download), then run "
            "`python -m pipeline.normalize.wordnet_setup`, or set NLTK_DATA to a folder "
            "holding corpora/wordnet",
        )
        self.reasons = reasons

    def __reduce__(self):  # raised in a Dask worker, rebuilt on the driver
        return (type(self), (self.path, self.reasons))


def ensure_wordnet() -> None:
    """Make `nltk.corpus.wordnet` loadable in this process, copying it in if needed."""
    if _wordnet_loads():
        return
    import nltk.data

    dest_root = target_data_dir()
    try:
        install_wordnet(dest_root)
    except RuntimeError as exc:  # every reason, turned into the one line a user sees
        raise WordNetMissing(dest_root, str(exc).removeprefix("WordNet unavailable: ")) from None
    if str(dest_root) not in nltk.data.path:
        nltk.data.path.insert(0, str(dest_root))
    if not _wordnet_loads():
        raise RuntimeError(f"WordNet installed under {dest_root} but NLTK still cannot load it")


# Files the reader reads once, line by line, while it starts.
_POS_FILES = ("noun", "verb", "adj", "adv")
_STARTUP_FILES = frozenset(
    ["lexnames", *(f"index.{pos}" for pos in _POS_FILES), *(f"{pos}.exc" for pos in _POS_FILES)]
)


class LazyLemmaIndex(dict):
    """NLTK's `_lemma_pos_offset_map` (lemma -> pos -> synset offsets, a
    `defaultdict(dict)`), parsed one lemma at a time on first use: a build looks up a few
    thousand of WordNet's ~150k lemmas, and parsing every index line up front was most of
    the reader's start-up time and about 40 MB per process.

    `raw` maps each lemma to its index lines (one per part of speech, in NLTK's file
    order); `parse` turns those lines into the lemma's {pos: offsets} entry exactly as
    NLTK's loader does. Whole-map operations (iteration, length, views) parse everything
    first and keep NLTK's key order."""

    def __init__(self, raw: dict[str, str], parse: Callable[[str], dict[str, list[int]]]):
        super().__init__()
        self._raw = raw
        self._parse = parse
        self._complete = False

    def __missing__(self, lemma: str) -> dict[str, list[int]]:
        lines = self._raw.get(lemma)
        entry = self._parse(lines) if lines is not None else {}  # defaultdict(dict)
        self[lemma] = entry
        return entry

    def __contains__(self, lemma: object) -> bool:
        return dict.__contains__(self, lemma) or lemma in self._raw

    def get(self, lemma: str, default: Any = None) -> Any:
        return self[lemma] if lemma in self else default

    def _parse_all(self) -> None:
        if self._complete:
            return
        # NLTK's order: every index lemma in file order, then names added by look-ups.
        added = {k: v for k, v in dict.items(self) if k not in self._raw}
        parsed = {lemma: self[lemma] for lemma in self._raw}
        self.clear()
        self.update(parsed)
        self.update(added)
        self._complete = True

    def __iter__(self) -> Iterator[str]:
        self._parse_all()
        return super().__iter__()

    def __len__(self) -> int:
        self._parse_all()
        return super().__len__()

    def keys(self) -> Any:
        self._parse_all()
        return super().keys()

    def values(self) -> Any:
        self._parse_all()
        return super().values()

    def items(self) -> Any:
        self._parse_all()
        return super().items()

    def __eq__(self, other: object) -> bool:
        # dict's own comparison reads only the entries parsed so far.
        self._parse_all()
        if isinstance(other, LazyLemmaIndex):
            other._parse_all()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other


def parse_index_lines(lines: str, satellites: frozenset[int]) -> dict[str, list[int]]:
    """One lemma's index lines -> {pos: synset offsets}, as NLTK's
    `_load_lemma_pos_offset_map` builds them (an adjective also gets its satellites as
    "s")."""
    entry: dict[str, list[int]] = {}
    for line in lines.splitlines():
        fields = line.split()
        # lemma pos n_synsets n_pointers pointer... n_senses n_tagged offset...
        pos, n_synsets, n_pointers = fields[1], int(fields[2]), int(fields[3])
        first = 6 + n_pointers
        offsets = [int(f) for f in fields[first : first + n_synsets]]
        if n_synsets <= 0 or int(fields[4 + n_pointers]) != n_synsets:
            raise ValueError(f"malformed WordNet index line: {line!r}")
        entry[pos] = offsets
        if pos == "a":
            entry["s"] = [offset for offset in offsets if offset in satellites]
    return entry


@cache
def english_reader_class() -> type:
    """NLTK's WordNet reader minus start-up work English look-ups never use (imported
    lazily, like NLTK itself)."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    from nltk.data import FileSystemPathPointer

    class EnglishWordNet(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> None:
            # The map to WordNet 3.0 serves only the multilingual (OMW) look-ups, and
            # building it reads index.sense twice: more than half of the reader's start-up.
            return None

        def open(self, file: str) -> Any:
            # NLTK's seekable stream reads ~150k index lines several times slower than a
            # plain text file; data files (read at byte offsets) keep NLTK's stream.
            if file in _STARTUP_FILES and isinstance(self._root, FileSystemPathPointer):
                return open(self._root.join(file).path, encoding=self.encoding(file))
            return super().open(file)

        def _scan_satellites(self) -> None:
            # NLTK's scan, on a plain text file instead of its (slow) seekable stream.
            satellites = set()
            for line in self._text_lines("data.adj"):
                if not line.strip() or line.startswith(" "):
                    continue
                fields = line.strip().split()
                if len(fields) >= 3 and fields[2] == "s":
                    satellites.add(int(fields[0]))
            self.satellite_offsets = satellites

        def _load_lemma_pos_offset_map(self) -> None:
            # Only each line's lemma is read now; the lemma's entry is parsed on first use.
            raw: dict[str, str] = {}
            for suffix in self._FILEMAP.values():
                for line in self._text_lines(f"index.{suffix}"):
                    if line.startswith(" "):  # the licence header
                        continue
                    lemma = line.split(" ", 1)[0]
                    raw[lemma] = raw[lemma] + line if lemma in raw else line
            satellites = frozenset(self.satellite_offsets)
            self._lemma_pos_offset_map = LazyLemmaIndex(
                raw, lambda lines: parse_index_lines(lines, satellites)
            )

        def _text_lines(self, file: str) -> list[str]:
            if isinstance(self._root, FileSystemPathPointer):
                path = self._root.join(file).path
                with open(path, encoding=self.encoding(file)) as f:
                    return f.readlines()
            with super().open(file) as stream:
                return stream.readlines()

    return EnglishWordNet


def _wordnet_root() -> Any:
    """Where `nltk.corpus.wordnet` finds WordNet (the folder first, as NLTK tries it)."""
    import nltk.data

    try:
        return nltk.data.find("corpora/wordnet")
    except LookupError:
        return nltk.data.find("corpora/wordnet.zip/wordnet/")


def english_wordnet() -> Any:
    """A WordNet reader for English look-ups over the data `nltk.corpus.wordnet` would
    load (copied into place first if needed), about three times quicker to start."""
    try:
        root = _wordnet_root()
    except LookupError:
        ensure_wordnet()
        root = _wordnet_root()
    with warnings.catch_warnings():  # no Open Multilingual WordNet: expected, not news
        warnings.simplefilter("ignore")
        return english_reader_class()(root, None)


def main() -> int:
    try:
        dest = install_wordnet()
    except RuntimeError as exc:
        print(f"wordnet_setup: error: {exc}", file=sys.stderr)
        return 1
    print(f"wordnet_setup: WordNet ready at {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
