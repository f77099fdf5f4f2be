"""Fine-tuning a sentence-transformers model on the pairs, as a generator of progress with cancel points.

The loop is sentence-transformers' own CachedMultipleNegativesRankingLoss (MultipleNegativesRankingLoss:
every other passage in the batch, and each question's hard negative, is a negative for it, computed
a mini-batch at a time so memory stays small) driven by a plain AdamW loop
rather than the Trainer, so every step is a ``yield``: progress, loss, time left, a cancel point.
It is deterministic for a seed (batch order, dropout, initial state) on the CPU.

Checkpoints: every ``checkpoint_s`` seconds, and when cancelled or past the time limit, the model,
optimizer and scheduler state and the step are written to ``work_dir/checkpoint.pt`` (a temporary
file renamed into place), stamped with a key of the pairs and options; a later run with the same
key resumes from that step, any other key starts afresh. torch is imported on first use only.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Sequence

from desktop_rag.core.models.chat import never
from desktop_rag.core.models.hardware import physical_cores
from desktop_rag.core.tune.pairs import TrainingPair, TuneProgress
from desktop_rag.errors import Cancelled

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True, slots=True)
class TrainOptions:
    epochs: int = 1
    batch_size: int = 32  # questions per step: each one's negatives are the other 31 passages and all hard negatives
    mini_batch_size: int = 8  # texts per forward pass (GradCache): plain MNRL at 32 x 3 x 256 tokens peaked at 6.6 GB
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    max_seq_length: int = 256  # the passages are chunks of about 250 tokens
    seed: int = 0
    threads: int = 0  # 0: the physical cores
    checkpoint_s: float = 120.0


@dataclass(frozen=True, slots=True)
class TrainReport:
    steps: int
    total_steps: int
    seconds: float
    final_loss: float
    stopped_early: bool  # the time limit came first
    resumed_from: int


def plan_batches(count: int, options: TrainOptions) -> list[list[int]]:
    """The pair indices of every step: each epoch a seeded shuffle, cut into full batches (MNRL's
    in-batch negatives make a tiny last batch a poor one, so it joins the next epoch's order)."""
    rng = random.Random(options.seed)
    size = max(2, min(options.batch_size, count))
    batches: list[list[int]] = []
    for _ in range(options.epochs):
        order = list(range(count))
        rng.shuffle(order)
        batches.extend(order[start:start + size] for start in range(0, count - size + 1, size))
    return batches


def run_key(pairs: Sequence[TrainingPair], options: TrainOptions, base: Path) -> str:
    digest = hashlib.sha256(str(base.resolve()).encode())
    digest.update(repr(sorted(asdict(options).items())).encode())
    for p in pairs:
        digest.update(f"{p.chunk_id}|{p.question}|{len(p.negative)}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


class _Loop:
    """The model, loss, optimizer and scheduler of one run (torch imported here)."""

    def __init__(self, base: Path, steps: int, options: TrainOptions) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

        torch.manual_seed(options.seed)
        torch.set_num_threads(options.threads or physical_cores())
        self.torch = torch
        self.model = SentenceTransformer(str(base), device="cpu")
        self.model.max_seq_length = min(self.model.max_seq_length, options.max_seq_length)
        self.model.train()
        # The cached variant computes the same loss over the whole batch, embedding it a mini-batch at a
        # time (twice: once without gradients, once with): memory for 8 texts, negatives from all of them.
        self.loss = CachedMultipleNegativesRankingLoss(self.model, mini_batch_size=options.mini_batch_size)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=options.learning_rate)
        warmup = max(1, int(steps * options.warmup_share))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))

    def features(self, texts: list[str]) -> dict[str, Any]:
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        return prepare(texts)

    def step(self, batch: Sequence[TrainingPair]) -> float:
        columns = [[p.question for p in batch], [p.positive for p in batch]]
        if all(p.negative for p in batch):
            columns.append([p.negative for p in batch])
        value = self.loss([self.features(c) for c in columns], None)
        value.backward()
        self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()
        return float(value.detach())

    def save_checkpoint(self, path: Path, key: str, step: int) -> None:
        partial = path.with_name(f"{path.name}.partial")
        state = {"key": key, "step": step, "model": self.model.state_dict(), "rng": self.torch.get_rng_state(),
                 "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}
        try:
            self.torch.save(state, partial)
            os.replace(partial, path)
        except OSError as exc:  # a full disk: the run goes on, only resuming it is lost
            log.warning("could not save the training checkpoint %s: %s", path, exc)
            with contextlib.suppress(OSError):
                partial.unlink()

    def resume(self, path: Path, key: str) -> int:
        """The step to start from: the checkpoint's when its key matches, else 0."""
        if not path.is_file():
            return 0
        try:
            state = self.torch.load(path, weights_only=False)
        except Exception as exc:  # noqa: BLE001 - a damaged checkpoint: start afresh
            log.warning("ignoring the unreadable checkpoint %s: %s", path, exc)
            return 0
        if state.get("key") != key:
            return 0
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.torch.set_rng_state(state["rng"])
        return int(state["step"])


def train(base: Path, pairs: Sequence[TrainingPair], out_dir: Path, work_dir: Path, options: TrainOptions, *,
          deadline: float = float("inf"), should_cancel: Callable[[], bool] = never,
          ) -> Generator[TuneProgress, None, TrainReport]:
    """Fine-tune the model in ``base`` on ``pairs`` and save it to ``out_dir`` (written whole under a
    temporary name, then renamed). ``deadline`` (time.monotonic) ends training early, kept as trained."""
    batches = plan_batches(len(pairs), options)
    if not batches:
        raise ValueError("no training pairs")
    started = time.monotonic()
    yield TuneProgress("training", 0, len(batches), "loading the model")
    loop = _Loop(base, len(batches), options)
    key, checkpoint = run_key(pairs, options, base), work_dir / CHECKPOINT
    first = loop.resume(checkpoint, key)
    last_saved, loss, step = time.monotonic(), float("nan"), first
    for step in range(first, len(batches)):
        if should_cancel():
            loop.save_checkpoint(checkpoint, key, step)
            raise Cancelled("tuning cancelled during training (run it again to resume)")
        if time.monotonic() >= deadline:
            break
        loss = loop.step([pairs[i] for i in batches[step]])
        per_step = (time.monotonic() - started) / (step + 1 - first)
        if time.monotonic() - last_saved > options.checkpoint_s:
            loop.save_checkpoint(checkpoint, key, step + 1)
            last_saved = time.monotonic()
        yield TuneProgress("training", step + 1, len(batches), f"loss {loss:.3f}", loss,
                           per_step * (len(batches) - step - 1))
    else:
        step = len(batches)
    save_model(loop.model, out_dir)
    return TrainReport(step, len(batches), time.monotonic() - started, loss, step < len(batches), first)


def save_model(model: Any, out_dir: Path) -> None:
    """The whole folder under a temporary name, renamed into place: a full disk or a kill leaves no
    folder that looks finished (the partial one is removed)."""
    import shutil

    partial = out_dir.with_name(f"{out_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.eval()
    try:
        model.save(str(partial))
        os.replace(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
