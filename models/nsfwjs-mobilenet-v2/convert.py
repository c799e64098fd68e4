"""Converts the nsfwjs MobileNetV2 classifier (TF.js Keras layers format) to ONNX.

Usage: convert.py MODEL_JSON WEIGHTS_BIN OUT_ONNX

MODEL_JSON is the `model.min.js` object of npm nsfwjs@4.3.0 (`dist/models/mobilenet_v2/`) as JSON, WEIGHTS_BIN
the base64-decoded `group1-shard1of1.min.js` (scripts/fetch-models.sh extracts both with Node). The weights are
stored as uint8 and dequantised the way TF.js does it (`min + q * scale`), so the float32 ONNX graph computes
what `@tensorflow/tfjs` computes (checked by parity.mjs).

The graph keeps the model's NHWC input `input_1` [N,224,224,3] (RGB / 255) and its output `dense_3` [N,5]
(softmax over Drawing, Hentai, Neutral, Porn, Sexy). Batch normalisation is folded into the preceding
convolution; Dropout is the identity at inference. The output is deterministic (no timestamps), so its
SHA-256 can be pinned.
"""

import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def load_weights(model, blob):
    """Dequantises every weight of the manifest, in order, from the concatenated shard."""
    weights = {}
    offset = 0
    for group in model["weightsManifest"]:
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            quant = spec.get("quantization")
            if quant is None:
                if spec["dtype"] != "float32":
                    raise SystemExit(f"unsupported weight dtype {spec['dtype']}")
                values = np.frombuffer(blob, dtype="<f4", count=count, offset=offset)
                offset += 4 * count
            else:
                if quant["dtype"] != "uint8" or "scale" not in quant:
                    raise SystemExit(f"unsupported quantisation {quant}")
                q = np.frombuffer(blob, dtype=np.uint8, count=count, offset=offset)
                offset += count
                # TF.js: float32(q) * scale + min, in float32.
                values = q.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
            weights[spec["name"]] = values.astype(np.float32).reshape(spec["shape"])
    if offset != len(blob):
        raise SystemExit(f"weights: {len(blob) - offset} bytes left over")
    return weights


class Graph:
    def __init__(self, weights):
        self.weights = weights
        self.nodes = []
        self.inits = []
        self.used = set()

    def weight(self, name):
        self.used.add(name)
        return self.weights[name]

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def same_pads(kernel, strides, dilation):
    """Keras 'same' padding for an input whose size is divisible by the stride (true throughout MobileNetV2)."""
    pads_begin, pads_end = [], []
    for k, s, d in zip(kernel, strides, dilation):
        if s != 1:
            raise SystemExit("'same' padding with a stride is not used by this model")
        total = (k - 1) * d
        pads_begin.append(total // 2)
        pads_end.append(total - total // 2)
    return pads_begin + pads_end


def conv(g, layer, x, depthwise):
    cfg = layer["config"]
    name = layer["name"]
    if cfg["data_format"] != "channels_last":
        raise SystemExit("channels_first is not supported")
    kernel = g.weight(f"{name}/depthwise_kernel" if depthwise else f"{name}/kernel")
    kh, kw, cin, cout = kernel.shape
    if depthwise:
        # Keras [kh, kw, in, multiplier] -> ONNX [in * multiplier, 1, kh, kw], grouped by input channel.
        w = kernel.transpose(2, 3, 0, 1).reshape(cin * cout, 1, kh, kw)
        group = cin
    else:
        # Keras [kh, kw, in, out] -> ONNX [out, in, kh, kw].
        w = kernel.transpose(3, 2, 0, 1)
        group = 1
    b = g.weight(f"{name}/bias") if cfg.get("use_bias") else np.zeros(w.shape[0], np.float32)
    strides = cfg["strides"]
    dilation = cfg.get("dilation_rate", [1, 1])
    pads = [0, 0, 0, 0] if cfg["padding"] == "valid" else same_pads((kh, kw), strides, dilation)
    g.pending_conv = (name, w, b, dict(strides=strides, dilations=dilation, pads=pads, group=group), x)
    return emit_conv(g, activation=cfg.get("activation", "linear"))


def emit_conv(g, activation="linear"):
    name, w, b, attrs, x = g.pending_conv
    out = g.node("Conv", [x, g.const(f"{name}/W", w), g.const(f"{name}/B", b)], name, **attrs)
    return activate(g, out, activation)


def activate(g, x, activation):
    if activation == "linear":
        return x
    if activation == "relu":
        return g.node("Relu", [x], f"{x}/relu")
    if activation == "softmax":
        return g.node("Softmax", [x], f"{x}/softmax", axis=-1)
    raise SystemExit(f"unsupported activation {activation}")


def batch_norm(g, layer, conv_layer):
    """Folds a BatchNormalization that follows a convolution into that convolution's weights and bias."""
    cfg = layer["config"]
    name = layer["name"]
    if cfg["axis"] not in (-1, 3) or not cfg["center"] or not cfg["scale"]:
        raise SystemExit(f"unsupported BatchNormalization config in {name}")
    gamma = g.weight(f"{name}/gamma")
    beta = g.weight(f"{name}/beta")
    mean = g.weight(f"{name}/moving_mean")
    var = g.weight(f"{name}/moving_variance")
    factor = gamma / np.sqrt(var + np.float32(cfg["epsilon"]))
    cname, w, b, attrs, x = conv_layer
    w = w * factor.reshape(-1, 1, 1, 1)
    b = (b - mean) * factor + beta
    # Replace the convolution node emitted for conv_layer with the folded one.
    for i, n in enumerate(g.nodes):
        if n.name == cname:
            del g.nodes[i]
            break
    g.inits = [t for t in g.inits if t.name not in (f"{cname}/W", f"{cname}/B")]
    g.nodes.append(
        helper.make_node(
            "Conv", [x, g.const(f"{cname}/W", w), g.const(f"{cname}/B", b)], [name], name=name, **attrs
        )
    )
    return name


def convert(model, blob):
    weights = load_weights(model, blob)
    topology = model["modelTopology"]["model_config"]["config"]
    g = Graph(weights)
    g.pending_conv = None
    outputs = {}
    last_conv = {}
    input_name = None
    for layer in topology["layers"]:
        kind = layer["class_name"]
        name = layer["name"]
        cfg = layer["config"]
        inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        xs = [outputs[n] for n in inbound]
        if kind == "InputLayer":
            input_name = name
            outputs[name] = g.node("Transpose", [name], f"{name}/nchw", perm=[0, 3, 1, 2])
        elif kind == "ZeroPadding2D":
            (top, bottom), (left, right) = cfg["padding"]
            pads = f"{name}/pads"
            g.inits.append(numpy_helper.from_array(np.array([0, 0, top, left, 0, 0, bottom, right], np.int64), pads))
            outputs[name] = g.node("Pad", [xs[0], pads], name, mode="constant")
        elif kind in ("Conv2D", "DepthwiseConv2D"):
            outputs[name] = conv(g, layer, xs[0], kind == "DepthwiseConv2D")
            if cfg.get("activation", "linear") == "linear":
                last_conv[name] = g.pending_conv
        elif kind == "BatchNormalization":
            if inbound[0] not in last_conv:
                raise SystemExit(f"{name} does not follow a linear convolution")
            outputs[name] = batch_norm(g, layer, last_conv.pop(inbound[0]))
        elif kind == "ReLU":
            if cfg.get("negative_slope", 0) != 0 or cfg.get("threshold", 0) != 0:
                raise SystemExit(f"unsupported ReLU config in {name}")
            if cfg.get("max_value") is None:
                outputs[name] = g.node("Relu", [xs[0]], name)
            else:
                lo = g.const(f"{name}/min", np.array(0.0))
                hi = g.const(f"{name}/max", np.array(cfg["max_value"]))
                outputs[name] = g.node("Clip", [xs[0], lo, hi], name)
        elif kind == "Add":
            outputs[name] = g.node("Add", xs, name)
        elif kind == "AveragePooling2D":
            if cfg["padding"] != "valid":
                raise SystemExit("only 'valid' average pooling is supported")
            outputs[name] = g.node(
                "AveragePool", [xs[0]], name, kernel_shape=cfg["pool_size"], strides=cfg["strides"]
            )
        elif kind == "Flatten":
            # NCHW -> NHWC before flattening, so the order matches Keras's channels_last Flatten.
            t = g.node("Transpose", [xs[0]], f"{name}/nhwc", perm=[0, 2, 3, 1])
            outputs[name] = g.node("Flatten", [t], name, axis=1)
        elif kind == "Dense":
            kernel = g.weight(f"{name}/kernel")
            bias = g.weight(f"{name}/bias") if cfg["use_bias"] else np.zeros(kernel.shape[1], np.float32)
            mm = g.node("Gemm", [xs[0], g.const(f"{name}/W", kernel), g.const(f"{name}/B", bias)], f"{name}/gemm")
            outputs[name] = activate(g, mm, cfg["activation"])
        elif kind == "Dropout":
            outputs[name] = xs[0]
        else:
            raise SystemExit(f"unsupported layer {kind} ({name})")
    unused = set(weights) - g.used
    if unused:
        raise SystemExit(f"weights not used by any layer: {sorted(unused)}")
    [[out_layer, _, _]] = topology["output_layers"]
    final = g.node("Identity", [outputs[out_layer]], out_layer)
    graph = helper.make_graph(
        g.nodes,
        "nsfwjs_mobilenet_v2",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 224, 224, 3])],
        [helper.make_tensor_value_info(final, TensorProto.FLOAT, ["N", 5])],
        g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="haven models/nsfwjs-mobilenet-v2/convert.py",
        doc_string="nsfwjs@4.3.0 MobileNetV2 (MIT), converted from its TF.js Keras weights",
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    with open(sys.argv[1]) as f:
        model = json.load(f)
    with open(sys.argv[2], "rb") as f:
        blob = f.read()
    onnx.save(convert(model, blob), sys.argv[3])


if __name__ == "__main__":
    main()
