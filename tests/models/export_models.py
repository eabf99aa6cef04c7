#!/usr/bin/env python3
"""Exports the tiny ONNX test models used by tests/TypedTrt.Inspection.Tests.

Usage: python3 export_models.py OUT_DIR [THIRD_PARTY_DIR]

Writes OUT_DIR/models.tar.gz holding the .onnx files (and the external-data file), expected.json (the IO
signature of every model as computed by the `onnx` python package, an independent reader) and export.log.
With THIRD_PARTY_DIR, also writes OUT_DIR/expected_third_party.json: the signatures of the .onnx files found
there (the models tests/fetch-test-models.sh fetches from public packages), so their tests compare against the
same independent reader.
Needs torch, onnx and onnxruntime (onnxruntime only to check that each model loads and runs).
Every model is < 1 MB: the layers are deliberately small.
"""

import io
import json
import os
import sys
import tarfile
import tempfile
import traceback

import onnx
import torch
from onnx import TensorProto, helper

torch.manual_seed(0)
LOG = []


def log(*a):
    line = " ".join(str(x) for x in a)
    print(line, flush=True)
    LOG.append(line)


def export(model, args, path, input_names, output_names, dynamic_axes=None, opset=17, keep_init=False):
    model.eval()
    with torch.no_grad():
        kwargs = dict(
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            do_constant_folding=True,
            keep_initializers_as_inputs=keep_init,
        )
        try:
            torch.onnx.export(model, args, path, dynamo=False, **kwargs)
        except TypeError:
            torch.onnx.export(model, args, path, **kwargs)


# --- the models -----------------------------------------------------------------------------------------------


class Fp16Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 4)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Int64Net(torch.nn.Module):
    """int64 token ids in; float logits and int64 argmax out."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(32, 8)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, ids):
        logits = self.fc(self.emb(ids))
        return logits, torch.argmax(logits, dim=-1)


class Uint8BoolNet(torch.nn.Module):
    """uint8 image in; bool mask and float score out."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, image):
        y = self.conv(image.to(torch.float32) / 255.0)
        return y > 0.0, y.mean(dim=(2, 3))


class MultiIoNet(torch.nn.Module):
    """Three inputs (one scalar), three outputs (one scalar); names with '/', ':' and '.'."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(6, 4)

    def forward(self, images, scale, extra):
        feats = self.conv(images).mean(dim=(2, 3)) * scale   # [batch, 4]
        ex = self.fc(extra).mean(dim=1)                       # [batch, 4]
        boxes = feats + ex
        total = boxes.sum()                                   # scalar output
        return boxes, torch.sigmoid(boxes), total


class DoubleNet(torch.nn.Module):
    """double (unsupported by TensorRT) and int32 IO."""

    def forward(self, x, n):
        return x * 2.0, n + 1


class TinyMlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(32, 64)
        self.fc2 = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def build_all(d):
    made = []

    def attempt(name, fn):
        try:
            fn()
            made.append(name)
            log("exported", name)
        except Exception:  # noqa: BLE001 - keep exporting the others; the log says what failed
            log("FAILED", name)
            log(traceback.format_exc())

    p = lambda n: os.path.join(d, n)  # noqa: E731

    # fp16 IO, named dynamic batch. Exported on the GPU (half Linear).
    def fp16():
        dev = "cuda" if torch.cuda.is_available() else "cpu"
        m = Fp16Net().half().to(dev)
        export(m, (torch.randn(2, 16, dtype=torch.float16, device=dev),), p("fp16_io.onnx"),
               ["input"], ["output"], {"input": {0: "batch"}, "output": {0: "batch"}})
        mdl = onnx.load(p("fp16_io.onnx"))
        helper.set_model_props(mdl, {"author": "typedtrt-tests", "task": "fp16 linear"})
        onnx.save(mdl, p("fp16_io.onnx"))

    attempt("fp16_io.onnx", fp16)

    # int64 IO, two named dynamic dims.
    attempt("int64_io.onnx", lambda: export(
        Int64Net(), (torch.randint(0, 32, (2, 7), dtype=torch.int64),), p("int64_io.onnx"),
        ["input_ids"], ["logits", "argmax"],
        {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"},
         "argmax": {0: "batch", 1: "sequence"}}))

    # uint8 in, bool out, static shapes.
    attempt("uint8_bool.onnx", lambda: export(
        Uint8BoolNet(), (torch.randint(0, 255, (1, 3, 16, 16), dtype=torch.uint8),), p("uint8_bool.onnx"),
        ["image"], ["mask", "score"]))

    # Several IO, awkward names, a scalar input and a scalar output, named + unnamed dynamic dims.
    def multi():
        path = p("multi_io.onnx")
        export(MultiIoNet(),
               (torch.randn(2, 3, 8, 8), torch.tensor(0.5), torch.randn(2, 5, 6)), path,
               ["images/rgb:0", "scale.factor", "extra/feat.v1:0"], ["out/boxes:0", "out.scores", "total:sum"],
               {"images/rgb:0": {0: "batch", 2: "height", 3: "width"},
                "extra/feat.v1:0": {0: "batch", 1: "tokens"},
                "out/boxes:0": {0: "batch"}, "out.scores": {0: "batch"}})
        mdl = onnx.load(path)
        # Make 'tokens' a truly unknown dim (neither dim_value nor dim_param), as some exporters write them.
        for vi in mdl.graph.input:
            if vi.name == "extra/feat.v1:0":
                vi.type.tensor_type.shape.dim[1].Clear()
        onnx.save(mdl, path)

    attempt("multi_io.onnx", multi)

    # Unsupported dtypes (double) next to int32.
    attempt("double_int32.onnx", lambda: export(
        DoubleNet(), (torch.randn(3, dtype=torch.float64), torch.tensor([1, 2], dtype=torch.int32)),
        p("double_int32.onnx"), ["x"], ["y", "n_plus_1"], {"n": {0: "count"}, "n_plus_1": {0: "count"}}))

    # Initializers also listed as graph inputs (IR < 4 style): the inspector must drop them.
    attempt("init_as_inputs.onnx", lambda: export(
        TinyMlp(), (torch.randn(1, 32),), p("init_as_inputs.onnx"), ["x"], ["y"],
        {"x": {0: "n"}, "y": {0: "n"}}, opset=11, keep_init=True))

    # External data: every initializer in one side file.
    def external():
        tmp = p("tmp_mlp.onnx")
        export(TinyMlp(), (torch.randn(4, 32),), tmp, ["x"], ["y"], {"x": {0: "batch"}, "y": {0: "batch"}})
        mdl = onnx.load(tmp)
        os.remove(tmp)
        onnx.save(mdl, p("external_data.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                  location="external_data.onnx.data", size_threshold=0)

    attempt("external_data.onnx", external)

    # Hand-built graph: bf16 / fp8 / int8 IO and a symbolic + fixed dim mix, no torch involved.
    def handmade():
        inputs = [
            helper.make_tensor_value_info("a.bf16", TensorProto.BFLOAT16, ["n", 4]),
            helper.make_tensor_value_info("b_int8", TensorProto.INT8, [2, 2]),
        ]
        outputs = [
            helper.make_tensor_value_info("a_out", TensorProto.BFLOAT16, ["n", 4]),
            helper.make_tensor_value_info("b_out", TensorProto.INT8, [2, 2]),
        ]
        nodes = [helper.make_node("Identity", ["a.bf16"], ["a_out"]),
                 helper.make_node("Identity", ["b_int8"], ["b_out"])]
        g = helper.make_graph(nodes, "handmade", inputs, outputs)
        mdl = helper.make_model(g, producer_name="typedtrt-handmade", producer_version="1.0",
                                opset_imports=[helper.make_opsetid("", 21)])
        onnx.save(mdl, p("bf16_int8.onnx"))

    attempt("bf16_int8.onnx", handmade)
    return made


# --- expectations computed with the onnx package --------------------------------------------------------------


def dims_of(t):
    if not t.HasField("shape"):
        return None
    out = []
    for dim in t.shape.dim:
        which = dim.WhichOneof("value")
        if which == "dim_value":
            out.append({"value": dim.dim_value})
        elif which == "dim_param":
            out.append({"param": dim.dim_param})
        else:
            out.append({})
    return out


def describe(vi):
    which = vi.type.WhichOneof("value")
    entry = {"name": vi.name, "kind": which}
    if which == "tensor_type":
        tt = vi.type.tensor_type
        entry["elemType"] = tt.elem_type
        entry["elemTypeName"] = TensorProto.DataType.Name(tt.elem_type)
        entry["dims"] = dims_of(tt)
    return entry


def expectations(d, names):
    result = {}
    for name in names:
        path = os.path.join(d, name)
        mdl = onnx.load(path, load_external_data=False)
        inits = {t.name for t in mdl.graph.initializer} | {s.values.name for s in mdl.graph.sparse_initializer}
        result[name] = {
            "irVersion": mdl.ir_version,
            "producerName": mdl.producer_name,
            "producerVersion": mdl.producer_version,
            "opsets": {o.domain: o.version for o in mdl.opset_import},
            "metadata": {p.key: p.value for p in mdl.metadata_props},
            "initializerCount": len(inits),
            "graphInputCount": len(mdl.graph.input),
            "inputs": [describe(vi) for vi in mdl.graph.input if vi.name not in inits],
            "outputs": [describe(vi) for vi in mdl.graph.output],
            "bytes": os.path.getsize(path),
        }
        try:
            import onnxruntime as ort  # only a sanity check that the file is a loadable model
            ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            result[name]["onnxruntimeLoads"] = True
        except Exception as e:  # noqa: BLE001
            log("onnxruntime could not load", name, repr(e)[:300])
            result[name]["onnxruntimeLoads"] = False
    return result


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    log("torch", torch.__version__, "onnx", onnx.__version__, "cuda", torch.cuda.is_available())
    with tempfile.TemporaryDirectory() as d:
        made = build_all(d)
        exp = expectations(d, made)
        with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(exp, f, indent=2, sort_keys=True)
            f.write("\n")
        with tarfile.open(os.path.join(out, "models.tar.gz"), "w:gz") as tar:
            for n in sorted(os.listdir(d)):
                tar.add(os.path.join(d, n), arcname=n)
                log("packed", n, os.path.getsize(os.path.join(d, n)), "bytes")
    if len(sys.argv) > 2:
        third = sys.argv[2]
        names = sorted(n for n in os.listdir(third) if n.endswith(".onnx"))
        with open(os.path.join(out, "expected_third_party.json"), "w", encoding="utf-8") as f:
            json.dump(expectations(third, names), f, indent=2, sort_keys=True)
            f.write("\n")
        log("described third-party models", names)
    with open(os.path.join(out, "export.log"), "w", encoding="utf-8") as f:
        f.write("\n".join(LOG) + "\n")


if __name__ == "__main__":
    main()
