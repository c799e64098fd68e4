"""The Python side of the text models' parity: features (features.py), tokenizer ids (the `tokenizers` package)
and both models' scores (onnxruntime) for every text of fixtures/text/toxicity_parity.jsonl.

    python parity.py write MODELS_DIR   writes models/toxicity/golden.json (after retraining)
    python parity.py check MODELS_DIR   recomputes everything and fails if golden.json differs (scripts/test.sh)

MODELS_DIR is the installed models directory (.haven/models), which holds haven-toxic-minilm/. Both modes first
check the composed MiniLM model against the heads' formula computed here from head.json (head_reference). The
Rust test core/tests/text_model.rs compares its own features, ids and scores with golden.json, so the two sides are
checked against each other through this file.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import features  # noqa: E402

FIXTURES = ROOT / "fixtures/text/toxicity_parity.jsonl"
GOLDEN = HERE / "golden.json"


def tokenizer(minilm_dir: Path) -> Tokenizer:
    """The MiniLM tokenizer as the Rust side uses it: no padding, 128 tokens at most."""
    tok = Tokenizer.from_file(str(minilm_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(128)
    return tok


def compute(models_dir: Path) -> list[dict]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    fast = ort.InferenceSession(str(ROOT / "models/haven-toxic-fast/model.onnx"), options)
    minilm_dir = models_dir / "haven-toxic-minilm"
    minilm = ort.InferenceSession(str(minilm_dir / "model.onnx"), options)
    tok = tokenizer(minilm_dir)
    out = []
    for line in FIXTURES.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        ids, values = features.features(text)
        values32 = np.array(values, dtype=np.float32)
        fast_scores = fast.run(None, {"ids": np.array(ids, dtype=np.int64), "values": values32})[0]
        tokens = tok.encode(features.transformer_input(text)).ids
        t = np.array([tokens], dtype=np.int64)
        minilm_scores = minilm.run(None, {"input_ids": t, "attention_mask": np.ones_like(t),
                                          "token_type_ids": np.zeros_like(t)})[0][0]
        out.append({
            "normalized": features.normalize(text),
            "ids": ids,
            "values": [float(v) for v in values32],
            "tokens": tokens,
            "fast": [float(v) for v in fast_scores],
            "minilm": [float(v) for v in minilm_scores],
        })
    return out


def head_reference(models_dir: Path) -> float:
    """The composed model against the heads computed here from head.json on the int8 encoder's token states
    (compose.int8_encoder, as training sees them): the largest difference in score over the fixtures. This
    checks compose.py's graph (pooling, token head, calibration) against train.py's formula."""
    import compose

    minilm_dir = models_dir / "haven-toxic-minilm"
    head = json.loads((ROOT / "models/haven-toxic-minilm/head.json").read_text(encoding="utf-8"))
    weight, bias = np.array(head["weight"], dtype=np.float64), np.array(head["bias"], dtype=np.float64)
    token_weight = np.array(head["token_weight"], dtype=np.float64)
    token_scale = np.array(head["token_scale"], dtype=np.float64)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    encoder = ort.InferenceSession(compose.int8_encoder(minilm_dir / "encoder.onnx").SerializeToString(), options)
    composed = ort.InferenceSession(str(minilm_dir / "model.onnx"), options)
    tok = tokenizer(minilm_dir)
    worst = 0.0
    for line in FIXTURES.read_text(encoding="utf-8").splitlines():
        t = np.array([tok.encode(features.transformer_input(json.loads(line)["text"])).ids], dtype=np.int64)
        inputs = {"input_ids": t, "attention_mask": np.ones_like(t), "token_type_ids": np.zeros_like(t)}
        hidden = encoder.run(None, inputs)[0][0].astype(np.float64)  # [tokens, 384]
        pooled = hidden.mean(axis=0)
        pooled /= max(float(np.linalg.norm(pooled)), 1e-12)
        token_scores = hidden @ token_weight.T  # [tokens, heads]
        peak = token_scores.max(axis=0)
        lme = peak + np.log(np.exp(token_scores - peak).mean(axis=0))
        expected = 1.0 / (1.0 + np.exp(-(weight @ pooled + bias + token_scale * lme)))
        got = composed.run(None, inputs)[0][0]
        worst = max(worst, float(np.max(np.abs(expected - got))))
    return worst


def main() -> None:
    mode, models_dir = sys.argv[1], Path(sys.argv[2])
    gap = head_reference(models_dir)
    if gap > 1e-5:
        sys.exit(f"parity: the composed MiniLM model differs from head.json's formula by {gap:.2e}")
    print(f"parity: the composed MiniLM model follows head.json (largest difference {gap:.1e})")
    rows = compute(models_dir)
    if mode == "write":
        GOLDEN.write_text(json.dumps(rows, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"parity: wrote {len(rows)} texts to {GOLDEN}")
        return
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    if len(golden) != len(rows):
        sys.exit("parity: golden.json has another number of texts than the fixtures")
    worst = 0.0
    for i, (g, r) in enumerate(zip(golden, rows)):
        if g["normalized"] != r["normalized"] or g["ids"] != r["ids"] or g["tokens"] != r["tokens"]:
            sys.exit(f"parity: text {i}: normalised text, buckets or tokens differ from golden.json")
        for key in ("values", "fast", "minilm"):
            worst = max(worst, float(np.max(np.abs(np.array(g[key]) - np.array(r[key])), initial=0.0)))
    if worst > 1e-6:
        sys.exit(f"parity: values or scores differ from golden.json by {worst:.2e}")
    print(f"parity: {len(rows)} texts match golden.json (largest difference {worst:.1e})")


if __name__ == "__main__":
    main()
