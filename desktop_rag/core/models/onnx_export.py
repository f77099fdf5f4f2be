"""The ONNX copies of a sentence-transformers model, made once and cached, for fast CPU embedding.

Two copies are made from the model folder the first time the ONNX backend needs them, in the
process that needs them (the first ``ingest``, ``search`` or GUI launch after installing; about
6 s, the only time this backend imports torch and transformers), unless a copy made ahead of
time sits in the model folder (:func:`prebuilt_onnx_path`):

- FLOAT32: the transformer traced to ONNX (``torch.onnx``, the TorchScript exporter) as it is.
  Its vectors are PyTorch's (cosine > 0.9999); questions are embedded with it.
- RECIPE (int8): its weight matrices quantised to int8, one scale per output channel
  (``quantize_dynamic``; activations are quantised per run), the feed-forward output products
  left in float32. Passages to store are embedded with it: 1.4x less CPU per passage than
  PyTorch in bfloat16, 2x with texts run one at a time (no padding), vectors within cosine 0.988
  (mean 0.997) of PyTorch's float32 ones.

Pooling and normalisation stay in numpy (:mod:`.onnx_embedder`). Each file is written under a
temporary name and renamed into place, so an export killed halfway never leaves a file that
looks finished; copies for an older version of the model (or of onnxruntime) are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import warnings
from pathlib import Path

from desktop_rag.core.models.cache_files import mark_used, remove_unused
from desktop_rag.errors import ModelLoadError

log = logging.getLogger(__name__)

# Recipes, by name; the name is part of the embedder's model_id (give a changed recipe a new one).
# FLOAT32 is the traced model as it is; the int8 copies are quantised from it. "keep_ffn_output"
# keeps the feed-forward output products (whose inputs, after GELU, have the widest range) in
# float32; "reduce_range" keeps int8 products from saturating on CPUs without VNNI instructions.
FLOAT32 = "onnx-fp32-v1"
RECIPES: dict[str, dict[str, bool]] = {
    FLOAT32: {},
    "onnx-int8-v1": {"keep_ffn_output": True, "reduce_range": True},
    "onnx-int8-all-v1": {"keep_ffn_output": False, "reduce_range": True},
}
RECIPE = "onnx-int8-v1"  # the documents' default
PREBUILT_DIR = "desktop_rag_onnx"  # the folder inside a model folder that may hold a copy made ahead of time
OPSET = 17
OUTPUT = "last_hidden_state"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Only the matrix products with weights are quantised: the embeddings and layer norms stay float32.
QUANTIZED_OPS = ("MatMul",)


def _version(fingerprint: str) -> str:
    """The model version and the onnxruntime version (a new onnxruntime may fuse differently)."""
    import onnxruntime

    return hashlib.sha256(f"{fingerprint}|{onnxruntime.__version__}".encode()).hexdigest()[:8]


def onnx_copy_path(model_dir: Path, fingerprint: str, cache_dir: Path, recipe: str = RECIPE) -> Path:
    """Where the copy of ``model_dir`` lives: one file per model folder, model version, recipe and
    onnxruntime version (a new onnxruntime may fuse differently, so it makes its own copy)."""
    where = hashlib.sha256(str(model_dir.resolve()).encode()).hexdigest()[:8]
    return cache_dir / f"embedder-{where}-{_version(fingerprint)}-{recipe}.onnx"


def prebuilt_onnx_path(model_dir: Path, fingerprint: str, recipe: str = RECIPE) -> Path:
    """Where a copy made ahead of time sits, inside the model folder under a name without the folder's
    path, so it is found wherever the folder is unpacked. The desktop bundle ships one (made when the
    bundle is built, see packaging/), so the frozen app never needs torch to make it."""
    return model_dir / PREBUILT_DIR / f"embedder-{_version(fingerprint)}-{recipe}.onnx"


def ensure_onnx_copy(model_dir: Path, fingerprint: str, cache_dir: Path, recipe: str = RECIPE) -> Path:
    """The cached ONNX copy of ``model_dir`` made by ``recipe``, made now if missing (an int8 copy
    from the float32 one, made first if missing too); ModelLoadError when it cannot be made."""
    if recipe not in RECIPES:
        raise ModelLoadError(f"unknown ONNX recipe {recipe!r}: one of {', '.join(RECIPES)}")
    prebuilt = prebuilt_onnx_path(model_dir, fingerprint, recipe)
    if prebuilt.is_file():
        return prebuilt
    target = onnx_copy_path(model_dir, fingerprint, cache_dir, recipe)
    if target.is_file():
        mark_used(target)
        return target
    source = None if recipe == FLOAT32 else ensure_onnx_copy(model_dir, fingerprint, cache_dir, FLOAT32)
    log.info("preparing the ONNX copy of the embedding model, once: %s", target)
    partial = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            _trace(model_dir, partial)
        else:
            _quantize(source, partial, **RECIPES[recipe])
        os.replace(partial, target)
    except ImportError as exc:  # a build without torch (the desktop bundle): only its own copy ships
        raise ModelLoadError(
            f"cannot make the ONNX copy of the embedding model {model_dir}: that needs PyTorch and transformers, "
            f"which this build does not include ({exc}). Use the bundled embedding model, or install "
            "desktop_rag from source (make setup) to use other models."
        ) from exc
    except Exception as exc:  # noqa: BLE001 - an export failure of any kind is the user's to read
        raise ModelLoadError(
            f"cannot make the ONNX copy of the embedding model {model_dir} in {cache_dir}: {exc}. "
            "Set embedding_backend = \"torch\" to embed with PyTorch instead."
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    where = target.stem.split("-", 2)[1]  # copies of the same folder and recipe for an older version of either
    remove_unused(cache_dir, f"embedder-{where}-*-{recipe}.onnx", target, days=0)
    remove_unused(cache_dir, f"embedder-*-{recipe}.onnx", target)  # copies of model folders gone from this machine
    return target


def _trace(model_dir: Path, out: Path) -> None:
    """The bare transformer (no pooling) as ONNX, batch and sequence length left free."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
            return self.base(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0  # a padded row, so no "mask is all ones" shortcut is traced in
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, OUTPUT)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings: the result is checked by tests
        torch.onnx.export(_Hidden(), (ids, mask, torch.zeros_like(ids)), str(out), input_names=list(INPUTS),
                          output_names=[OUTPUT], dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def _quantize(source: Path, out: Path, *, keep_ffn_output: bool, reduce_range: bool) -> None:
    """int8 weights, one scale per output channel; activations are quantised per run."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    keep = [n.name for n in graph.node if n.op_type == "MatMul" and keep_ffn_output
            and n.name.endswith("/output/dense/MatMul") and "/attention/" not in n.name]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its "consider pre-processing" warning is for image models
    try:
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=reduce_range, op_types_to_quantize=list(QUANTIZED_OPS), nodes_to_exclude=keep,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)
