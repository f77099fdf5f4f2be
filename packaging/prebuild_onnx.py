"""Makes the ONNX copies of the bundled embedding model for the desktop bundle (with this
environment's torch): the documents' int8 copy and the float32 one questions are embedded with,
under the names the app looks for inside the model folder
(:func:`desktop_rag.core.models.onnx_export.prebuilt_onnx_path`), so the frozen app needs no torch.

Usage: python packaging/prebuild_onnx.py OUT_DIR   (writes OUT_DIR/desktop_rag_onnx/embedder-*.onnx)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from desktop_rag.core.models.embedder import bundled_embedding_model_dir, model_fingerprint
from desktop_rag.core.models import onnx_export
from desktop_rag.core.models.onnx_export import PREBUILT_DIR, RECIPE, ensure_onnx_copy, prebuilt_onnx_path

# the recipes the app runs by default: the documents' (int8) and, where queries use another, that one
RECIPES = sorted({RECIPE, getattr(onnx_export, "FLOAT32", RECIPE)})


def main(out: Path) -> int:
    model = bundled_embedding_model_dir()
    fingerprint = model_fingerprint(model)
    for recipe in RECIPES:
        made = ensure_onnx_copy(model, fingerprint, out / "cache", recipe)
        target = out / PREBUILT_DIR / prebuilt_onnx_path(model, fingerprint, recipe).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, target)
        print(f"prebuilt ONNX copy: {target} ({target.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
