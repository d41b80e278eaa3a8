"""Build transcription/voice_encoder/voice_encoder.onnx from Resemblyzer's PyPI wheel.

Run once by a developer, never at run time (it needs ``pip install onnx``; torch is not
needed):

    pip download --no-deps Resemblyzer==0.1.4 && unzip Resemblyzer-0.1.4-py3-none-any.whl
    python scripts/build_voice_encoder.py resemblyzer/pretrained.pt

The checkpoint is torch's legacy pickle format; it is read here with a restricted
unpickler that only rebuilds float tensors. The network (three 256-unit LSTM layers over
40 mel bands, a 256-unit projection, ReLU, unit length) becomes one ONNX graph, which
onnxruntime (already installed with faster-whisper) runs four times faster than numpy.
"""

from __future__ import annotations

import collections
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "transcription" / "voice_encoder" / "voice_encoder.onnx"
DTYPES = {"FloatStorage": np.float32}
HIDDEN = 256


class _Storage:
    def __init__(self, dtype: type, numel: int) -> None:
        self.dtype, self.numel, self.data = dtype, numel, np.zeros(0)


class _Checkpoint(pickle.Unpickler):
    def __init__(self, fh, storages: dict) -> None:  # noqa: ANN001
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str):  # noqa: ANN201
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_: (storage, offset, size, stride)
        if module == "torch" and name in DTYPES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the checkpoint")

    def persistent_load(self, pid):  # noqa: ANN001, ANN201
        _, kind, key, _, numel = pid[:5]
        return self.storages.setdefault(key, _Storage(DTYPES[kind], numel))


def read_state(path: Path) -> dict[str, np.ndarray]:
    storages: dict[str, _Storage] = {}
    with path.open("rb") as fh:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(fh)  # noqa: S301 - a file the developer chose, read once
        checkpoint = _Checkpoint(fh, storages).load()
        for key in pickle.load(fh):  # noqa: S301
            storage = storages[key]
            (count,) = struct.unpack("<q", fh.read(8))
            size = count * np.dtype(storage.dtype).itemsize
            storage.data = np.frombuffer(fh.read(size), dtype=storage.dtype)
    state = {}
    for name, (storage, offset, size, stride) in checkpoint["model_state"].items():
        item = storage.data.itemsize
        state[name] = np.lib.stride_tricks.as_strided(
            storage.data[offset:], shape=size, strides=[s * item for s in stride]
        ).copy()
    return state


def _gates(m: np.ndarray) -> np.ndarray:
    i, f, g, o = np.split(m, 4, axis=0)  # torch's order; ONNX wants i, o, f, c
    return np.concatenate([i, o, f, g], axis=0)


def build(state: dict[str, np.ndarray]) -> onnx.ModelProto:
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
    ]
    nodes = [helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2])]
    x = "x0"
    for layer in range(3):
        w = _gates(state[f"lstm.weight_ih_l{layer}"])[None]
        r = _gates(state[f"lstm.weight_hh_l{layer}"])[None]
        b = np.concatenate(
            [_gates(state[f"lstm.bias_ih_l{layer}"]), _gates(state[f"lstm.bias_hh_l{layer}"])]
        )[None]
        for name, array in (("W", w), ("R", r), ("B", b)):
            inits.append(numpy_helper.from_array(array.astype(np.float32), f"{name}{layer}"))
        nodes.append(
            helper.make_node(
                "LSTM",
                [x, f"W{layer}", f"R{layer}", f"B{layer}"],
                [f"y{layer}", f"h{layer}"],
                hidden_size=HIDDEN,
            )
        )
        if layer < 2:
            nodes.append(helper.make_node("Squeeze", [f"y{layer}", "axis1"], [f"x{layer + 1}"]))
            x = f"x{layer + 1}"
    inits.append(numpy_helper.from_array(state["linear.weight"].T.copy(), "LW"))
    inits.append(numpy_helper.from_array(state["linear.bias"], "LB"))
    nodes += [
        helper.make_node("Squeeze", ["h2", "axis0"], ["last"]),
        helper.make_node("MatMul", ["last", "LW"], ["projected"]),
        helper.make_node("Add", ["projected", "LB"], ["biased"]),
        helper.make_node("Relu", ["biased"], ["raw"]),
        helper.make_node("LpNormalization", ["raw"], ["prints"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "voice_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "steps", 40])],
        [helper.make_tensor_value_info("prints", TensorProto.FLOAT, ["batch", 256])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(build(read_state(Path(sys.argv[1]))), OUT)
    sys.stdout.write(f"wrote {OUT}\n")
