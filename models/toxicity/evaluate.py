"""Haven's text models and their peers on the same held-out data, per language: one script, one table.

    .haven/train-venv/bin/python models/toxicity/evaluate.py [--scores-bin PATH]

Data (data.py): the files the dataset README marks dev/test ("dev"), and the 10 % of every training file that
training never sees ("held-out"; the only data French and Russian have). Benign conversation: the held-out part
of Wizard of Wikipedia (English chat between people, label 0 throughout).

Scorers. Haven's and the Rust peers' scores come from the Rust binary `toxicity_scores` (benches/), so what is
measured is what ships:
- haven: the routed score with the language detected per message (fast model; English: mean with MiniLM);
- haven-lang: the same with the row's language given, as an app that knows it gets;
- haven+lex: Haven's whole check_text (model and lexicon findings, language given), the product's verdict;
- fast, minilm: each model alone;
- lexicon: Haven's text engine alone (binary);
- rustrict: `is_inappropriate` (binary); rustrict-graded: its severity 0-3 over profane/offensive/sexual/mean;
- profanity-check: PyPI alt-profanity-check 1.9.1 `predict_prob` (English-only TF-IDF + linear SVM; trained on
  Davidson et al. and Jigsaw data, so its English figures on those sets are on data it has seen).

Metrics: ROC-AUC; for every set, the paired bootstrap of haven+lex's ROC-AUC minus the best peer's (2,000
resamples of the set's rows, seed 1: mean difference, 95 % interval, share of resamples where Haven is ahead);
F1 at the operating threshold (Haven: the bullying block threshold of the 9-12 tier in the
model's manifest; binary scorers: flagged; profanity-check: 0.5); false-positive rate at that threshold on
benign conversation. Writes models/toxicity/eval_report.json and prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import data  # noqa: E402

PEERS = ["lexicon", "rustrict", "rustrict-graded", "profanity-check"]
SCORERS = ["haven", "haven-lang", "haven+lex", "fast", "minilm", "lexicon", "rustrict", "rustrict-graded", "profanity-check"]
BINARY = {"lexicon", "rustrict"}


def threshold(scorer: str) -> float:
    if scorer in BINARY:
        return 0.5
    if scorer == "rustrict-graded":
        return 2.0  # moderate, what is_inappropriate flags
    if scorer == "profanity-check":
        return 0.5
    manifest = "haven-toxic-minilm" if scorer == "minilm" else "haven-toxic-fast"
    with open(ROOT / "models" / manifest / "manifest.toml", "rb") as f:
        cats = tomllib.load(f)["categories"]
    return next(c["threshold"]["9-12"] for c in cats if c["category"] == "bullying")


def paired_bootstrap(y: np.ndarray, ours: np.ndarray, peer: np.ndarray, rounds: int = 2000) -> dict:
    """ROC-AUC of `ours` minus `peer` over resamples of the rows (with replacement, the same rows for both)."""
    rng = np.random.default_rng(1)
    diffs = []
    for _ in range(rounds):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        diffs.append(roc_auc_score(y[i], ours[i]) - roc_auc_score(y[i], peer[i]))
    d = np.array(diffs)
    low, high = np.percentile(d, [2.5, 97.5])
    return {"mean": round(float(d.mean()), 4), "ci95": [round(float(low), 4), round(float(high), 4)],
            "ahead": round(float((d > 0).mean()), 3)}


def rust_scores(rows: list[data.Row], binary: str | None) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as f:
        for r in rows:
            f.write(json.dumps({"text": r.text, "lang": r.lang}, ensure_ascii=False) + "\n")
        path = f.name
    cmd = [binary] if binary else ["cargo", "run", "--quiet", "--release", "-p", "haven-benches", "--bin",
                                   "toxicity_scores"]
    with open(path, encoding="utf-8") as stdin:
        out = subprocess.run(cmd, stdin=stdin, capture_output=True, check=True, cwd=ROOT, text=True).stdout
    Path(path).unlink()
    scores = [json.loads(line) for line in out.splitlines()]
    if len(scores) != len(rows):
        sys.exit("evaluate: the scorer returned another number of rows")
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/datasets/text")
    parser.add_argument("--scores-bin", help="a built toxicity_scores binary (default: cargo run --release)")
    parser.add_argument("--save-scores", type=Path, help="also write every row's scores here (JSON lines)")
    parser.add_argument("--from-scores", type=Path, help="recompute the metrics from a --save-scores file")
    args = parser.parse_args()

    rows = [r for r in data.load(args.data) if r.split in ("dev", "heldout")]
    if args.from_scores:
        rust = [json.loads(line) for line in args.from_scores.read_text(encoding="utf-8").splitlines()]
        if [(s["file"], s["label"]) for s in rust] != [(r.file, r.label) for r in rows]:
            sys.exit("evaluate: the scores file does not match the data")
        pc = np.array([s["profanity_check"] for s in rust])
    else:
        print(f"evaluate: scoring {len(rows)} messages", file=sys.stderr)
        rust = rust_scores(rows, args.scores_bin)
        from profanity_check import predict_prob

        pc = predict_prob([r.text for r in rows])
    if args.save_scores and not args.from_scores:
        with args.save_scores.open("w", encoding="utf-8") as f:
            for r, s, p in zip(rows, rust, pc):
                f.write(json.dumps({"file": r.file, "split": r.split, "label": r.label, **s,
                                    "profanity_check": float(p)}) + "\n")
    table = {
        "haven": [s["haven"] for s in rust],
        "haven-lang": [s["haven_lang"] for s in rust],
        "haven+lex": [s["haven_full"] for s in rust],
        "fast": [s["fast"] for s in rust],
        "minilm": [np.nan if s["minilm"] is None else s["minilm"] for s in rust],
        "lexicon": [s["lexicon"] for s in rust],
        "rustrict": [s["rustrict"] for s in rust],
        "rustrict-graded": [s["rustrict_graded"] for s in rust],
        "profanity-check": list(pc),
    }
    table = {k: np.array(v, dtype=np.float64) for k, v in table.items()}
    thresholds = {k: threshold(k) for k in SCORERS}
    labels = np.array([r.label for r in rows])
    benign = np.array([r.file == data.BENIGN_CHAT for r in rows])

    report: dict = {"thresholds": thresholds, "groups": {}}
    for lang in data.LANGUAGES:
        for split in ("dev", "heldout"):
            idx = np.array([r.lang == lang and r.split == split and r.file != data.BENIGN_CHAT for r in rows])
            if idx.sum() == 0:
                continue
            y = labels[idx]
            group = {"n": int(idx.sum()), "abusive": int(y.sum()), "files": sorted({r.file for r, i in
                                                                                   zip(rows, idx) if i})}
            for name in SCORERS:
                s = table[name][idx]
                if np.isnan(s).any():
                    continue
                flagged = s >= thresholds[name]
                group[name] = {
                    "auc": None if len(set(s)) < 2 else round(float(roc_auc_score(y, s)), 4),
                    "f1": round(float(f1_score(y, flagged)), 4),
                    "fpr": round(float(flagged[y == 0].mean()), 4),
                }
            peers = [p for p in PEERS if p in group and group[p]["auc"] is not None]
            if peers:
                best = max(peers, key=lambda p: group[p]["auc"])
                group["vs_best_peer"] = {"peer": best, **paired_bootstrap(y, table["haven+lex"][idx], table[best][idx])}
            report["groups"][f"{lang}/{split}"] = group
            files = group["files"]
            if split == "dev" and len(files) > 1:
                for file in files:
                    sub = np.array([r.file == file for r in rows])
                    y = labels[sub]
                    one = {"n": int(sub.sum()), "abusive": int(y.sum()), "files": [file]}
                    for name in SCORERS:
                        s = table[name][sub]
                        if np.isnan(s).any():
                            continue
                        flagged = s >= thresholds[name]
                        one[name] = {
                            "auc": None if len(set(s)) < 2 else round(float(roc_auc_score(y, s)), 4),
                            "f1": round(float(f1_score(y, flagged)), 4),
                            "fpr": round(float(flagged[y == 0].mean()), 4),
                        }
                    report["groups"][f"{lang}/dev: {file}"] = one
    chat = {"n": int(benign.sum())}
    for name in SCORERS:
        s = table[name][benign]
        if not np.isnan(s).any():
            chat[name] = {"fpr": round(float((s >= thresholds[name]).mean()), 4)}
    report["groups"]["en/benign-chat"] = chat
    (HERE / "eval_report.json").write_text(json.dumps(report, indent=2) + "\n")

    print("| set | n (abusive) | " + " | ".join(SCORERS) + " |")
    print("|---|---|" + "---|" * len(SCORERS))
    for name, g in report["groups"].items():
        if name == "en/benign-chat":
            continue
        cells = []
        for s in SCORERS:
            m = g.get(s)
            cells.append("–" if m is None or m["auc"] is None else f"{m['auc']:.3f}")
        print(f"| {name} ROC-AUC | {g['n']} ({g['abusive']}) | " + " | ".join(cells) + " |")
    for name, g in report["groups"].items():
        if name == "en/benign-chat":
            continue
        cells = [f"{g[s]['f1']:.3f}" if s in g else "–" for s in SCORERS]
        print(f"| {name} F1 | {g['n']} | " + " | ".join(cells) + " |")
    cells = [f"{100 * chat[s]['fpr']:.2f} %" if s in chat else "–" for s in SCORERS]
    print(f"| benign chat FPR | {chat['n']} | " + " | ".join(cells) + " |")
    print()
    print("| set | best peer | haven+lex − peer ROC-AUC (paired bootstrap mean) | 95 % interval | Haven ahead in |")
    print("|---|---|---|---|---|")
    for name, g in report["groups"].items():
        b = g.get("vs_best_peer")
        if b:
            print(f"| {name} | {b['peer']} | {b['mean']:+.3f} | {b['ci95'][0]:+.3f} to {b['ci95'][1]:+.3f} | "
                  f"{100 * b['ahead']:.1f} % |")


if __name__ == "__main__":
    main()
