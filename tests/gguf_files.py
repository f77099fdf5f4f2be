"""Small GGUF files for tests, written with llama.cpp's own ``gguf`` package."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np


def write_gguf(path: Path, *, arch: str = "llama", blocks: int = 2, context: int = 2048, width: int = 64,
               vocab: int = 300, name: str = "Tiny Test", template: str = "", model_type: str = "") -> Path:
    """A GGUF with the usual hyperparameters, a vocabulary and ``blocks`` small f32 tensors."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name(name)
    if model_type:
        writer.add_type(model_type)
    writer.add_block_count(blocks)
    writer.add_context_length(context)
    writer.add_embedding_length(width)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_token_list([f"tok{i}" for i in range(vocab)])
    if template:
        writer.add_chat_template(template)
    for i in range(blocks):
        writer.add_tensor(f"blk.{i}.attn_q.weight", np.full((width, width), i, dtype=np.float32))
    writer.add_tensor("token_embd.weight", np.zeros((vocab, width), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
