#!/usr/bin/env python3
"""Checks the lexicon files in core/data/text/lexicon/ and reports on them.

Checks: the line format (`<category> <severity> <mode> <term>`), known categories, modes and severities,
lower-case terms, `any` mode for every Chinese entry, duplicate entries, and the per-family minimums.
With --seed DIR (the `naughty-words@1.2.0` package directory, e.g. /tmp/node_modules/naughty-words) it also
checks that every seed word is either in a `# source: naughty-words...` block, or named in a `# dropped: <word> -- <reason>`
or `# respelled: <word> -> <term>` comment there, and with --dropped-md prints the dropped table for the README.

Usage: python3 core/data/text/check_lexicons.py [--seed DIR] [--dropped-md]
Exit status 1 when a check fails. Standard library only.
"""
import json
import os
import sys
from collections import Counter, defaultdict

LANGS = ["ar", "en", "es", "fr", "ru", "zh"]
CATEGORIES = {
    "sexual", "profanity", "bullying", "hate", "violence", "self_harm", "drugs",
    "grooming.secrecy", "grooming.isolation", "grooming.age", "grooming.photos",
    "grooming.platform", "grooming.meet", "grooming.gifts", "pii.phrase", "allow",
}
MODES = {"word", "prefix", "any"}
SEED_SOURCE = "# source: naughty-words@1.2.0 (LDNOOBW), CC-BY-4.0"
CURATED_SOURCE = "# source: haven (curated)"
HERE = os.path.dirname(os.path.abspath(__file__))


def parse(lang):
    path = os.path.join(HERE, "lexicon", f"{lang}.txt")
    errors, entries, seed_terms, dropped, respelled = [], [], set(), {}, {}
    block = None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("# source:"):
                if line not in (SEED_SOURCE, CURATED_SOURCE):
                    errors.append(f"{lang}:{n}: unknown source line")
                block = "seed" if line == SEED_SOURCE else "curated"
                continue
            if line.startswith("#"):
                body = line[1:].strip()
                if block == "seed" and body.startswith("dropped:"):
                    word, _, reason = body[len("dropped:"):].partition(" -- ")
                    dropped[word.strip()] = reason.strip()
                elif block == "seed" and body.startswith("respelled:"):
                    word, _, term = body[len("respelled:"):].partition(" -> ")
                    respelled[word.strip()] = term.strip()
                continue
            if not line.strip():
                continue
            parts = line.split(" ", 3)
            if len(parts) != 4 or not parts[3].strip():
                errors.append(f"{lang}:{n}: expected '<category> <severity> <mode> <term>'")
                continue
            cat, sev, mode, term = parts
            if block is None:
                errors.append(f"{lang}:{n}: entry before any '# source:' line")
            if cat not in CATEGORIES:
                errors.append(f"{lang}:{n}: unknown category {cat!r}")
            if mode not in MODES:
                errors.append(f"{lang}:{n}: unknown mode {mode!r}")
            if sev not in ("0", "1", "2", "3") or (cat == "allow") != (sev == "0"):
                errors.append(f"{lang}:{n}: bad severity {sev!r} for {cat}")
            if term != term.strip() or "  " in term:
                errors.append(f"{lang}:{n}: stray spaces in term")
            if term != term.lower():
                errors.append(f"{lang}:{n}: term not lower-case")
            if lang == "zh" and mode != "any":
                errors.append(f"{lang}:{n}: Chinese entries must use mode any")
            entries.append((n, cat, int(sev), mode, term, block))
            if block == "seed":
                seed_terms.add(term)
    seen = {}
    for n, cat, sev, mode, term, _ in entries:
        key = (cat == "allow", mode, term)
        if key in seen:
            errors.append(f"{lang}:{n}: duplicate of line {seen[key]} ({mode} {term})")
        seen[key] = n
    return entries, seed_terms, dropped, respelled, errors


def main():
    args = sys.argv[1:]
    seed_dir = args[args.index("--seed") + 1] if "--seed" in args else None
    all_errors, dropped_rows = [], []
    for lang in LANGS:
        if not os.path.exists(os.path.join(HERE, "lexicon", f"{lang}.txt")):
            all_errors.append(f"{lang}: lexicon file missing")
            continue
        entries, seed_terms, dropped, respelled, errors = parse(lang)
        all_errors += errors
        counts = Counter(e[1] for e in entries)
        for fam in [c for c in CATEGORIES if c.startswith("grooming.")]:
            if counts[fam] < 5:
                all_errors.append(f"{lang}: {fam} has {counts[fam]} entries (< 5)")
        if counts["pii.phrase"] < 6:
            all_errors.append(f"{lang}: pii.phrase has {counts['pii.phrase']} entries (< 6)")
        if seed_dir:
            with open(os.path.join(seed_dir, f"{lang}.json"), encoding="utf-8") as f:
                seed = json.load(f)
            for word in seed:
                w = word.strip()
                if w.lower() in seed_terms or w in dropped or w.lower() in dropped:
                    continue
                if w in respelled or w.lower() in respelled:
                    t = respelled.get(w, respelled.get(w.lower()))
                    if t not in seed_terms:
                        all_errors.append(f"{lang}: respelled seed word {w!r} -> {t!r} not in seed block")
                    continue
                all_errors.append(f"{lang}: seed word {w!r} neither listed nor dropped")
            dropped_rows += [(lang, w, r) for w, r in dropped.items()]
        total = sum(1 for e in entries if e[1] != "allow")
        by_cat = defaultdict(int)
        for e in entries:
            by_cat[e[1]] += 1
        summary = ", ".join(f"{c} {by_cat[c]}" for c in sorted(by_cat))
        print(f"{lang}: {total} entries + {by_cat['allow']} allow ({summary})", file=sys.stderr)
    if "--dropped-md" in args:
        print("| lang | seed word | why dropped |\n|---|---|---|")
        for lang, w, r in dropped_rows:
            print(f"| {lang} | {w} | {r} |")
    for e in all_errors:
        print("error:", e, file=sys.stderr)
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main())
