"""Builds haven-toxic-minilm's model.onnx: the PyPI all-MiniLM-L6-v2 int8 encoder, mean pooling over the attention
mask, L2 normalisation and the trained heads (head.json), as one ONNX graph.

    python compose.py ENCODER.onnx HEAD.json OUT.onnx

Inputs stay the encoder's (input_ids, attention_mask, token_type_ids: int64 [batch, tokens]); the output is
`scores` float32 [batch, 2]: the calibrated abusive and hate probabilities. Deterministic: the same inputs and
onnx version give the same bytes (scripts/fetch-models.sh checks the SHA-256 in the manifest).
"""

import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(encoder_path: str, head_path: str, out_path: str) -> None:
    model = onnx.load(encoder_path)
    head = json.loads(open(head_path, encoding="utf-8").read())
    weight = np.array(head["weight"], dtype=np.float32).T  # [384, heads]
    bias = np.array(head["bias"], dtype=np.float32)
    graph = model.graph
    hidden = graph.output[0].name
    graph.initializer.extend([
        numpy_helper.from_array(weight, "haven_head_W"),
        numpy_helper.from_array(bias, "haven_head_b"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "haven_axis1"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "haven_axis2"),
        numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "haven_eps_count"),
        numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "haven_eps_norm"),
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
        helper.make_node("Add", ["haven_logit_raw", "haven_head_b"], ["haven_logits"]),
        helper.make_node("Sigmoid", ["haven_logits"], ["scores"]),
    ])
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", len(bias)])])
    model.doc_string = "Haven toxic-message model (English): all-MiniLM-L6-v2 int8 + mean pooling + heads " + \
        ", ".join(head["labels"])
    onnx.checker.check_model(model)
    with open(out_path, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main(*sys.argv[1:4])
