"""Reading plain-text corpora: one document or paragraph a line, UTF-8.

Shared by the vocabulary builder and the line-corpus data source, so both
read a file the same way and refuse the same bad input: a byte sequence
that is not UTF-8 is an error naming the file, the line and the byte
offset; a corpus with no text at all is an error naming its files.

WikiText keeps an article's title as ``= Title =`` and its sections as
``= = Section = =`` lines; blank lines separate paragraphs. A title starts
a new document, section headings and blank lines are dropped.
"""
import re
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple, Union

# ``= Title =`` (level 1), ``= = Section = =`` (level 2), ...
_HEADING = re.compile(r'^\s*((?:=\s*)+)[^=\s].*?\s*((?:=\s*)+)$')
# end of a sentence in tokenised text: ``word . Next``
_SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=\S)')


class CorpusError(ValueError):
    """A corpus file that cannot be read as text, or holds none."""


def heading_level(line: str) -> int:
    """1 for ``= Title =``, 2 for ``= = Section = =``, 0 for a text line."""
    m = _HEADING.match(line)
    if not m:
        return 0
    return min(m.group(1).count('='), m.group(2).count('='))


def read_lines(path: str) -> Iterator[Tuple[int, str]]:
    """``(line number, text)`` for each line of ``path``, newline removed.

    Decoded line by line, so a bad byte is reported where it is: the file,
    the line and the byte offset from the start of the file.
    """
    offset = 0
    try:
        f = open(path, 'rb')
    except FileNotFoundError:
        raise FileNotFoundError(f'corpus file {path!r} not found') from None
    with f:
        for lineno, raw in enumerate(f, 1):
            try:
                text = raw.decode('utf-8')
            except UnicodeDecodeError as e:
                raise CorpusError(
                    f'{path}: not UTF-8 text at byte offset {offset + e.start}'
                    f' (line {lineno}, byte {raw[e.start]:#04x}); save the '
                    'file as UTF-8') from None
            offset += len(raw)
            yield lineno, text.rstrip('\r\n')


@dataclass
class Document:
    """Paragraphs of one article, each with where it came from."""
    paragraphs: List[str] = field(default_factory=list)
    where: List[str] = field(default_factory=list)


def read_documents(paths: Union[str, Sequence[str]],
                   skip_headings: bool = True,
                   unk_marker: Optional[str] = None,
                   unk_token: str = '[UNK]') -> List[Document]:
    """The documents of one or more line corpora, in file order.

    skip_headings: WikiText's ``= ... =`` lines are dropped and a title
        (level 1) starts a new document; False keeps them as text and the
        whole file is one document per line.
    unk_marker: a corpus's own unknown-word marker (WikiText: ``<unk>``),
        rewritten to the tokenizer's ``unk_token`` so it is one token and
        not three pieces of punctuation.
    """
    paths = [paths] if isinstance(paths, str) else list(paths)
    if not paths:
        raise CorpusError('no corpus files given')
    docs: List[Document] = []
    for path in paths:
        current = Document()
        for lineno, line in read_lines(path):
            text = ' '.join(line.split())
            if not text:
                continue
            if skip_headings:
                level = heading_level(text)
                if level == 1 and current.paragraphs:
                    docs.append(current)
                    current = Document()
                if level:
                    continue
            elif current.paragraphs:  # no headings: a line is a document
                docs.append(current)
                current = Document()
            if unk_marker:
                text = text.replace(unk_marker, unk_token)
            current.paragraphs.append(text)
            current.where.append(f'{path}:{lineno}')
        if current.paragraphs:
            docs.append(current)
    if not docs:
        raise CorpusError(f'empty corpus: no text lines in '
                          f'{", ".join(map(repr, paths))}')
    return docs


def iter_text(paths: Union[str, Sequence[str]], skip_headings: bool = True,
              unk_marker: Optional[str] = None) -> Iterator[str]:
    """Every paragraph of the corpora, for training a vocabulary."""
    for doc in read_documents(paths, skip_headings, unk_marker):
        yield from doc.paragraphs


def split_sentences(paragraph: str) -> List[str]:
    """Sentences of a tokenised paragraph (``... end . Next ...``)."""
    return [s for s in _SENTENCE_END.split(paragraph) if s]
