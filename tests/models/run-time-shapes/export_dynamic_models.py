#!/usr/bin/env python3
"""Exports the ONNX test models with outputs whose shapes are known only after the run (issue 11).

Usage: python3 export_dynamic_models.py OUT_DIR   (the outputs are committed in tests/models/run-time-shapes/)

Writes into OUT_DIR:
  nonzero.onnx       exported by torch.onnx (TorchScript exporter): x float [batch, n] ->
                       relu    float [batch, n]   (shape follows the input: known before the run)
                       indices int64 [count, 2]   torch.nonzero(x > 0): count depends on the data (NonZero)
  topk_dynamic.onnx  built with onnx.helper, the way exporters emit TopK with a tensor k:
                     x float [batch, n], k int64 [1] -> values float [batch, k], indices int64 [batch, k]
                       (k is a value, not a shape: the output dim is known only after the run)
  export.log         versions and what ran.
Needs torch and onnx; onnxruntime (optional) only to check that each model loads and runs.
Both models are a few hundred bytes.
"""

import os
import sys
import traceback

import onnx
import torch
from onnx import TensorProto, helper

LOG = []


def log(*a):
    line = " ".join(str(x) for x in a)
    print(line, flush=True)
    LOG.append(line)


class NonZeroNet(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x), torch.nonzero(x > 0)


def export_nonzero(path):
    model = NonZeroNet().eval()
    x = torch.tensor([[1.0, -2.0, 3.0], [0.0, 5.0, -1.0]])
    kwargs = dict(
        input_names=["x"],
        output_names=["relu", "indices"],
        dynamic_axes={"x": {0: "batch", 1: "n"}, "relu": {0: "batch", 1: "n"}},
        opset_version=17,
        do_constant_folding=True,
    )
    with torch.no_grad():
        try:
            torch.onnx.export(model, (x,), path, dynamo=False, **kwargs)
        except TypeError:
            torch.onnx.export(model, (x,), path, **kwargs)


def export_topk(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "n"])
    k = helper.make_tensor_value_info("k", TensorProto.INT64, [1])
    values = helper.make_tensor_value_info("values", TensorProto.FLOAT, ["batch", None])
    indices = helper.make_tensor_value_info("indices", TensorProto.INT64, ["batch", None])
    node = helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=1, largest=1, sorted=1)
    graph = helper.make_graph([node], "topk_dynamic", [x, k], [values, indices])
    model = helper.make_model(graph, producer_name="typedtrt-tests", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    log("torch", torch.__version__, "onnx", onnx.__version__)
    for name, fn in [("nonzero.onnx", export_nonzero), ("topk_dynamic.onnx", export_topk)]:
        path = os.path.join(out, name)
        try:
            fn(path)
            m = onnx.load(path)
            onnx.checker.check_model(m)
            for vi in list(m.graph.input) + list(m.graph.output):
                dims = [d.dim_param or (d.dim_value if d.HasField("dim_value") else "?") for d in vi.type.tensor_type.shape.dim]
                log(name, vi.name, vi.type.tensor_type.elem_type, dims)
            log(name, "ops", [n.op_type for n in m.graph.node])
        except Exception:
            log(name, "FAILED", traceback.format_exc())
    try:
        import numpy as np
        import onnxruntime as ort

        s = ort.InferenceSession(os.path.join(out, "nonzero.onnx"))
        r = s.run(None, {"x": np.array([[1, -2, 3], [0, 5, -1]], dtype=np.float32)})
        log("ort nonzero", [a.tolist() for a in r])
        s = ort.InferenceSession(os.path.join(out, "topk_dynamic.onnx"))
        r = s.run(None, {"x": np.array([[1, 4, 2, 3]], dtype=np.float32), "k": np.array([2], dtype=np.int64)})
        log("ort topk", [a.tolist() for a in r])
    except Exception as e:  # onnxruntime is optional here
        log("onnxruntime check skipped:", repr(e))
    with open(os.path.join(out, "export.log"), "w") as f:
        f.write("\n".join(LOG) + "\n")


if __name__ == "__main__":
    main()
