"""The labelled sets in ../shared/datasets/text: which file plays which role, its licence, and the fixed split.

Training files are split by a hash of each text (CRC-32 mod 20), so the split is the same on every machine and
needs no random state: 0-1 held out for evaluation, 2-3 for calibration, the rest for training. The files the
dataset README marks as dev/test are only ever evaluated on. Nothing here copies the data anywhere.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

# file stem -> (role, licence, permissive, negatives_may_be_rude)
FILES: dict[str, tuple[str, str, bool, bool]] = {
    "en_davidson2017": ("train", "MIT", True, False),
    "en_hatexplain": ("train", "MIT", True, False),
    "en_olid_train": ("train", "unclear", False, False),
    "en_hateval2019": ("train", "CC BY-NC 4.0", False, True),
    "en_kennedy2020": ("train", "CC BY 4.0", True, True),
    "en_founta2018": ("train", "unclear", False, True),
    "en_cyberbullying_tweets": ("train", "unclear", False, False),
    "en_mlma2019": ("train", "MIT", True, False),
    "en_wizard_of_wikipedia_benign": ("train", "unclear", False, False),
    "fr_mlma2019": ("train", "MIT", True, False),
    "fr_hate_superset": ("train", "mixed; not for generative models", False, True),
    "ar_mlma2019": ("train", "MIT", True, False),
    "ar_osact2022": ("train", "unclear", False, False),
    "zh_cold_train": ("train", "Apache-2.0", True, False),
    "ru_russe_detox": ("train", "unclear", False, False),
    "ru_mixed_rltc_okcup": ("train", "unclear", False, False),
    "es_hateval2019": ("train", "CC BY-NC 4.0", False, True),
    "en_olid_test": ("dev", "unclear", False, False),
    "en_jigsaw_sample": ("dev", "CC0 labels", True, False),
    "ar_osact2022_dev": ("dev", "unclear", False, False),
    "zh_cold_test": ("dev", "Apache-2.0", True, False),
    "es_hateval2019_test": ("dev", "CC BY-NC 4.0", False, True),
}

# Sets whose positive rows say whether the abuse is hate (the others only say "abusive").
ANNOTATES_HATE = {
    "en_davidson2017", "en_hatexplain", "en_hateval2019", "en_kennedy2020", "en_founta2018", "en_mlma2019",
    "fr_mlma2019", "fr_hate_superset", "ar_mlma2019", "ar_osact2022", "ar_osact2022_dev", "es_hateval2019",
    "es_hateval2019_test", "zh_cold_test",
}

BENIGN_CHAT = "en_wizard_of_wikipedia_benign"
LANGUAGES = ("en", "fr", "ar", "zh", "ru", "es")


@dataclass(frozen=True)
class Row:
    text: str
    lang: str
    label: int
    hate: int
    file: str
    split: str  # train | calib | heldout | dev


def split_of(file: str, text: str) -> str:
    if FILES[file][0] == "dev":
        return "dev"
    bucket = zlib.crc32(text.encode()) % 20
    return "heldout" if bucket < 2 else "calib" if bucket < 4 else "train"


def load(data_dir: Path) -> list[Row]:
    rows: list[Row] = []
    for stem in FILES:
        path = data_dir / f"{stem}.jsonl"
        with path.open(encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                rows.append(Row(r["text"], r["lang"], int(r["label"]), int("hate" in r["fine"]), stem,
                                split_of(stem, r["text"])))
    return rows
