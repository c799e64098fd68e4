"""The fast toxicity model's features: hashed word and character n-grams.

This file is the specification. `core/src/classify/text/features.rs` is its Rust twin and must produce the same
(bucket, value) pairs for every text; `models/toxicity/parity.py` and the Rust tests in `core/tests/text_model.rs` check that
on `fixtures/text/toxicity_parity.jsonl`.

1. Normalise: Unicode NFKC; drop the invisible characters of INVISIBLE; lower-case character by character
   (`str.lower` of each character, as Rust's `char::to_lowercase`); every character of WHITESPACE becomes one
   space, runs of spaces become one, none at the start; a character repeated more than three times in a row is
   kept three times; stop once INPUT_CHARS characters are kept (so padding with invisible characters, spaces or
   repeats cannot push words out of sight) and drop trailing spaces. Then `@` followed by ASCII letters, digits or
   `_` becomes `@user` and a word starting `http://`, `https://` or `www.` becomes `url`; the result is cut after
   MAX_CHARS characters.
2. Words: maximal runs of characters that are neither a space nor in PUNCTUATION.
3. Features, each hashed with CRC-32 (zlib) of its UTF-8 bytes behind a one-byte kind, modulo BUCKETS:
   `w` + word (unigrams), `b` + word + space + next word (bigrams), `c` + every substring of 2 to 4 characters
   of " " + text + " " (character n-grams, spaces included).
4. Values: a bucket hit k times (collisions add up) weighs 1 + ln(k); the vector is then divided by its L2 norm.
   Computed in float64, handed over as float32, buckets in increasing order.
"""

from __future__ import annotations

import math
import unicodedata
import zlib

BUCKETS = 1 << 18
MAX_CHARS = 1000
INPUT_CHARS = 4000
CHAR_NGRAMS = (2, 3, 4)

INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u3164\ufe00"
    "\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"
)
WHITESPACE = frozenset(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                       "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
PUNCTUATION = frozenset(
    "!\"$%&()*+,-./:;<=>?[\\]^`{|}~"
    "\u00a1\u00ab\u00bb\u00bf\u060c\u061b\u061f\u06d4\u2013\u2014\u2018\u2019\u201c\u201d\u2026"
    "\u3001\u3002\u300a\u300b\u300c\u300d\u300e\u300f\u3010\u3011\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f"
)
MENTION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def normalize(text: str) -> str:
    """Step 1 of the module documentation."""
    chars: list[str] = []
    last = None
    run = 0
    for c in unicodedata.normalize("NFKC", text):
        if len(chars) == INPUT_CHARS:
            break
        if c in INVISIBLE:
            continue
        if c in WHITESPACE:
            if chars and last != " ":
                chars.append(" ")
                last, run = " ", 1
            continue
        for lower in c.lower():
            run = run + 1 if last == lower else 1
            last = lower
            if run <= 3:
                chars.append(lower)
            if len(chars) == INPUT_CHARS:
                break
    while chars and chars[-1] == " ":
        chars.pop()
    words = "".join(chars).split(" ") if chars else []
    out: list[str] = []
    for word in words:
        if word.startswith(("http://", "https://", "www.")):
            out.append("url")
            continue
        out.append(_mentions(word))
    return " ".join(out)[:MAX_CHARS]


def _mentions(word: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(word):
        c = word[i]
        if c == "@" and i + 1 < len(word) and word[i + 1] in MENTION_CHARS:
            j = i + 1
            while j < len(word) and word[j] in MENTION_CHARS:
                j += 1
            out.append("@user")
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def words(norm: str) -> list[str]:
    """Step 2."""
    out: list[str] = []
    current: list[str] = []
    for c in norm:
        if c == " " or c in PUNCTUATION:
            if current:
                out.append("".join(current))
                current = []
        else:
            current.append(c)
    if current:
        out.append("".join(current))
    return out


def features(text: str) -> tuple[list[int], list[float]]:
    """Steps 1-4: the sorted buckets and their float64 values (rounded to float32 by the caller)."""
    norm = normalize(text)
    counts: dict[int, int] = {}
    ws = words(norm)
    crc = zlib.crc32
    mask = BUCKETS - 1
    for w in ws:
        b = crc(b"w" + w.encode()) & mask
        counts[b] = counts.get(b, 0) + 1
    for a, b_ in zip(ws, ws[1:]):
        b = crc(b"b" + (a + " " + b_).encode()) & mask
        counts[b] = counts.get(b, 0) + 1
    padded = " " + norm + " "
    length = len(padded)
    for n in CHAR_NGRAMS:
        for i in range(length - n + 1):
            b = crc(b"c" + padded[i : i + n].encode()) & mask
            counts[b] = counts.get(b, 0) + 1
    ids = sorted(counts)
    values = [1.0 + math.log(counts[i]) for i in ids]
    total = 0.0
    for v in values:  # in bucket order, plain float64 adds (not sum(), compensated since Python 3.12)
        total += v * v
    norm2 = math.sqrt(total)
    if norm2 > 0:
        values = [v / norm2 for v in values]
    return ids, values


TRANSFORMER_CHARS = 4000


def transformer_input(text: str) -> str:
    """What the MiniLM tokenizer is given: invisible characters dropped, whitespace runs as one space, at most
    TRANSFORMER_CHARS characters (the tokenizer then keeps 128 tokens). Dropping before counting keeps padding
    from pushing words out of sight; otherwise the tokenizer sees what it would have made of the raw text."""
    out: list[str] = []
    for c in text:
        if len(out) == TRANSFORMER_CHARS:
            break
        if c in INVISIBLE:
            continue
        if c in WHITESPACE:
            if out and out[-1] != " ":
                out.append(" ")
            continue
        out.append(c)
    return "".join(out)
