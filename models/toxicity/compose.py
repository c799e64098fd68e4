"""Builds haven-toxic-minilm's model.onnx: the PyPI all-MiniLM-L6-v2 int8 encoder, mean pooling over the attention
mask, L2 normalisation and the trained heads (head.json: a linear head on the pooled embedding plus, per label, a
token head: token_scale * log of the mean over the unmasked tokens of exp(token state . token_weight)), as one
ONNX graph.

    python compose.py ENCODER.onnx HEAD.json OUT.onnx

The package stores the encoder's weights as int8 with a scale each but computes in float32 (each weight is cast and
scaled back before its MatMul). `int8_encoder` makes the matrix products int8 as well: it folds every weight to
float32 (exactly the values the package's graph computes) and runs ONNX Runtime's dynamic quantization on the
MatMuls, which quantizes each weight back to int8 (per output channel, symmetric: the very int8 values the package
ships, which this checks) and each activation at run time (uint8, per tensor). On a CPU without VNNI that halves the encoder's time; the heads are trained on its embeddings
(train.py uses the same function).

Inputs stay the encoder's (input_ids, attention_mask, token_type_ids: int64 [batch, tokens]); the output is
`scores` float32 [batch, 2]: the calibrated abusive and hate probabilities. Deterministic: the same inputs and
onnx version give the same bytes (scripts/fetch-models.sh checks the SHA-256 in the manifest).
"""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def int8_encoder(encoder_path) -> onnx.ModelProto:
    """The package's encoder with int8 matrix products (see the module documentation). Deterministic."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(encoder_path))
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    users: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    folded, dropped, shipped = [], [], {}
    for node in graph.node:
        if node.op_type != "Cast" or node.input[0] not in initializers:
            continue
        (mul,) = users[node.output[0]]
        assert mul.op_type == "Mul" and mul.input[1] in initializers, "unexpected weight pattern"
        if any(user.op_type != "MatMul" for user in users[mul.output[0]]):
            continue  # the embedding tables stay int8 + scale: a lookup, not a product
        q = numpy_helper.to_array(initializers[node.input[0]])
        scale = numpy_helper.to_array(initializers[mul.input[1]])
        assert q.dtype == np.int8
        folded.append(numpy_helper.from_array((q.astype(np.float32) * scale.astype(np.float32)), mul.output[0]))
        shipped[mul.output[0]] = q
        dropped += [node, mul]
    for node in dropped:
        graph.node.remove(node)
    graph.initializer.extend(folded)
    used = {name for node in graph.node for name in node.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "encoder-int8.onnx"
        quantize_dynamic(model, out, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True)
        quantized = onnx.load(str(out))
    # The products use exactly the package's int8 weights.
    requantized = {i.name: i for i in quantized.graph.initializer}
    for name, q in shipped.items():
        again = requantized.get(f"{name}_quantized")
        assert again is not None and np.array_equal(numpy_helper.to_array(again), q), f"{name}: int8 weights differ"
    return quantized


def main(encoder_path: str, head_path: str, out_path: str) -> None:
    model = int8_encoder(encoder_path)
    head = json.loads(open(head_path, encoding="utf-8").read())
    weight = np.array(head["weight"], dtype=np.float32).T  # [384, heads]
    bias = np.array(head["bias"], dtype=np.float32)
    token_weight = np.array(head["token_weight"], dtype=np.float32).T  # [384, heads]
    token_scale = np.array(head["token_scale"], dtype=np.float32)
    graph = model.graph
    hidden = graph.output[0].name
    graph.initializer.extend([
        numpy_helper.from_array(weight, "haven_head_W"),
        numpy_helper.from_array(bias, "haven_head_b"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "haven_axis1"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "haven_axis2"),
        numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "haven_eps_count"),
        numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "haven_eps_norm"),
        numpy_helper.from_array(token_weight, "haven_token_W"),
        numpy_helper.from_array(token_scale, "haven_token_scale"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "haven_one"),
        numpy_helper.from_array(np.array(1e9, dtype=np.float32), "haven_big"),
    ])
    graph.node.extend([
        helper.make_node("Cast", ["attention_mask"], ["haven_mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["haven_mask_f", "haven_axis2"], ["haven_mask3"]),
        helper.make_node("Mul", [hidden, "haven_mask3"], ["haven_masked"]),
        helper.make_node("ReduceSum", ["haven_masked", "haven_axis1"], ["haven_sum"], keepdims=0),
        helper.make_node("ReduceSum", ["haven_mask3", "haven_axis1"], ["haven_count_raw"], keepdims=0),
        helper.make_node("Max", ["haven_count_raw", "haven_eps_count"], ["haven_count"]),
        helper.make_node("Div", ["haven_sum", "haven_count"], ["haven_mean"]),
        helper.make_node("ReduceL2", ["haven_mean"], ["haven_norm_raw"], axes=[1], keepdims=1),
        helper.make_node("Max", ["haven_norm_raw", "haven_eps_norm"], ["haven_norm"]),
        helper.make_node("Div", ["haven_mean", "haven_norm"], ["haven_embedding"]),
        helper.make_node("MatMul", ["haven_embedding", "haven_head_W"], ["haven_logit_raw"]),
        helper.make_node("Add", ["haven_logit_raw", "haven_head_b"], ["haven_logits_embedding"]),
        # Token head: log(mean over the unmasked tokens of exp(h_t . token_W)), masked tokens pushed to -1e9.
        helper.make_node("MatMul", [hidden, "haven_token_W"], ["haven_token_scores"]),
        helper.make_node("Sub", ["haven_mask3", "haven_one"], ["haven_mask_off"]),
        helper.make_node("Mul", ["haven_mask_off", "haven_big"], ["haven_mask_penalty"]),
        helper.make_node("Add", ["haven_token_scores", "haven_mask_penalty"], ["haven_token_masked"]),
        helper.make_node("ReduceLogSumExp", ["haven_token_masked"], ["haven_token_lse"], axes=[1], keepdims=0),
        helper.make_node("Log", ["haven_count"], ["haven_log_count"]),
        helper.make_node("Sub", ["haven_token_lse", "haven_log_count"], ["haven_token_lme"]),
        helper.make_node("Mul", ["haven_token_lme", "haven_token_scale"], ["haven_token_logits"]),
        helper.make_node("Add", ["haven_logits_embedding", "haven_token_logits"], ["haven_logits"]),
        helper.make_node("Sigmoid", ["haven_logits"], ["scores"]),
    ])
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", len(bias)])])
    model.doc_string = "Haven toxic-message model (English): all-MiniLM-L6-v2 int8 + mean pooling and token heads " + \
        ", ".join(head["labels"])
    onnx.checker.check_model(model)
    with open(out_path, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main(*sys.argv[1:4])
