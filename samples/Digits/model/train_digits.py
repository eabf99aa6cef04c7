"""Train the TypedTrt sample model: a small CNN on scikit-learn's bundled 8x8 handwritten digits.

The data set ships inside scikit-learn (no download). Run on any machine with torch, onnx, onnxruntime and
scikit-learn:  python3 train_digits.py OUT_DIR
Writes OUT_DIR/digits.onnx, OUT_DIR/samples.json (held-out test digits with true labels) and
OUT_DIR/expected.json (ONNX Runtime's outputs for those samples, for cross-checking the C# backends).
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
np.random.seed(0)

digits = load_digits()
x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]  # [N,1,8,8], 0..1
y = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 4x4
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 2x2
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, pixels):
        logits = self.head(self.features(pixels))
        return logits, torch.softmax(logits, dim=1)


dev = "cuda" if torch.cuda.is_available() else "cpu"
model = DigitNet().to(dev)
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
xt, yt = torch.from_numpy(x_train).to(dev), torch.from_numpy(y_train).to(dev)
for epoch in range(60):
    model.train()
    perm = torch.randperm(len(xt), device=dev)
    for i in range(0, len(xt), 64):
        idx = perm[i:i + 64]
        logits, _ = model(xt[idx])
        loss = nn.functional.cross_entropy(logits, yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()

model.eval().cpu()
with torch.no_grad():
    logits, _ = model(torch.from_numpy(x_test))
    acc = float((logits.argmax(1).numpy() == y_test).mean())
print(f"test accuracy {acc:.4f} on {len(y_test)} held-out digits")

path = os.path.join(out, "digits.onnx")
torch.onnx.export(
    model, (torch.from_numpy(x_test[:2]),), path,
    input_names=["pixels"], output_names=["logits", "probabilities"],
    dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}, "probabilities": {0: "batch"}},
    opset_version=17, dynamo=False)
m = onnx.load(path)
m.doc_string = f"TypedTrt sample: 8x8 digit classifier, test accuracy {acc:.4f}"
onnx.save(m, path)
onnx.checker.check_model(path)

# 24 held-out digits (not used in training), stored as 0..16 integers like the original data set.
pick = list(range(24))
samples = [{"label": int(y_test[i]), "pixels": [int(round(v * 16)) for v in x_test[i].reshape(-1)]} for i in pick]
with open(os.path.join(out, "samples.json"), "w") as f:
    json.dump({"source": "scikit-learn load_digits, held-out split (random_state=0)", "accuracy": acc, "samples": samples}, f, indent=1)

sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
batch = np.array([s["pixels"] for s in samples], dtype=np.float32).reshape(-1, 1, 8, 8) / 16.0
lo, pr = sess.run(None, {"pixels": batch})
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"logits": lo.round(6).tolist(), "probabilities": pr.round(6).tolist(),
               "predicted": lo.argmax(1).tolist(), "labels": [s["label"] for s in samples]}, f)
print("ort predictions", lo.argmax(1).tolist())
print("true labels    ", [s["label"] for s in samples])
print("bytes", os.path.getsize(path))
