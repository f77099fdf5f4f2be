"""Generation benchmark with the default model (SmolLM2-135M-Instruct Q4_1) on real SEC passages.

1. desktop-rag's answer path (Answerer.ask: retrieval, packing, streaming, attribution) on a
   question whose packed prompt is about 1,500 tokens: time to first token, tokens/s.
2. In the same run, a bare llama-cpp-python loop (Llama.generate over the same rendered prompt
   tokens, same model file and threads): time to first token and tokens/s, same token count.
   When the model runs from its Q8_0 copy (core/model_prep.py), also the bare loop on the
   original Q4_1 file, for comparison.
3. Stop latency: time from setting the stop flag to the stream ending, while decoding and while
   the prompt is being processed.

Prints a table; asserts nothing. Usage: python benchmarks/bench_generate.py --data-dir DIR
(a library holding the SEC filings, e.g. the one bench_retrieval.py --ingest builds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import table  # noqa: E402

from desktop_rag.config import load_settings  # noqa: E402
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel  # noqa: E402
from desktop_rag.core.types import Events  # noqa: E402
from desktop_rag.errors import Cancelled  # noqa: E402
from desktop_rag.services import Services  # noqa: E402

QUESTIONS = [
    "What were Apple's total net sales for the three months ended June 25, 2022?",
    "How much did Microsoft spend on research and development in the quarter ended March 31, 2023?",
    "What were NVIDIA's data center revenues in the second quarter of fiscal 2024?",
]
MAX_TOKENS = 128


def prompt_tokens(model, messages) -> list[int]:  # noqa: ANN001
    """The exact token sequence llama-cpp-python renders for these messages (GGUF chat template)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llm = model.load()
    formatter = Jinja2ChatFormatter(template=llm.metadata["tokenizer.chat_template"],
                                    eos_token=llm.detokenize([llm.token_eos()]).decode(),
                                    bos_token=llm.detokenize([llm.token_bos()]).decode())
    text = formatter(messages=messages).prompt
    return llm.tokenize(text.encode(), add_bos=False, special=True)


def ours(services: Services, question: str) -> dict[str, float]:
    settings = services.settings.replace(max_tokens=MAX_TOKENS, temperature=0.0)
    # the same store and models, answering with these two settings changed
    with Services(settings, embedder=services.embedder, chat_model=services.chat_model(),
                  store=services.store) as greedy:
        events = Events(greedy.answerer().ask(question))
        pieces = sum(1 for event in events if event.kind == "token")
    t = events.result.timings
    return {"ttft_ms": t["first_token_ms"], "tok_s": t.get("tokens_per_s", 0.0), "tokens": pieces,
            "retrieve_ms": t["retrieve_ms"]}


def bare(model, tokens: list[int], n: int) -> dict[str, float]:  # noqa: ANN001
    llm = model.load()
    llm.reset()
    started = time.perf_counter()
    first = None
    count = 0
    for _ in llm.generate(tokens, temp=0.0, reset=True):
        count += 1
        if first is None:
            first = time.perf_counter()
        if count >= n:
            break
    end = time.perf_counter()
    return {"ttft_ms": (first - started) * 1000, "tok_s": (count - 1) / (end - first), "tokens": count}


def stop_latency(model, messages, delay_s: float) -> float:  # noqa: ANN001
    flag = threading.Event()
    stopped_at: list[float] = []
    threading.Timer(delay_s, lambda: (stopped_at.append(time.perf_counter()), flag.set())).start()
    try:
        for _ in model.stream_chat(messages, max_tokens=2000, temperature=0.0, should_stop=flag.is_set):
            pass
    except Cancelled:
        pass
    return (time.perf_counter() - stopped_at[0]) * 1000 if stopped_at else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--repeat", type=int, default=3, help="runs per question (medians are shown)")
    args = parser.parse_args()
    services = Services(load_settings(overrides={"data_dir": args.data_dir}))  # default settings
    answerer = services.answerer()
    answerer.warm_up()
    model = services.chat_model()
    rows = [("question", "prompt tok", "ours TTFT ms", "bare TTFT ms", "ours tok/s", "bare tok/s", "tokens")]
    for question in QUESTIONS:
        hits = answerer.retriever.search(question, k=answerer.k, mode=answerer.mode)
        from desktop_rag.core.answer.context import merge_hits

        messages, _ = answerer.pack(question, merge_hits(hits, services.store.page_text))
        tokens = prompt_tokens(model, messages)
        mine, theirs = [], []
        for _ in range(args.repeat):  # alternate, so drift in machine speed hits both alike
            model.load().reset()  # cold cache for both: no prefix reuse between the two runs
            mine.append(ours(services, question))
            theirs.append(bare(model, tokens, max(int(mine[-1]["tokens"]), 2)))

        def med(runs: list[dict[str, float]], key: str) -> float:
            return statistics.median(r[key] for r in runs)

        rows.append((question[:40] + "...", str(len(tokens)), f"{med(mine, 'ttft_ms'):.0f}",
                     f"{med(theirs, 'ttft_ms'):.0f}", f"{med(mine, 'tok_s'):.1f}", f"{med(theirs, 'tok_s'):.1f}",
                     str(int(med(mine, 'tokens')))))
    print(f"model: {model.name}, run from {model.loaded_path}")
    print(table(rows))
    if model.loaded_path != model.model_path:  # the Q8_0 copy is in use: show what the original file does
        original = LlamaCppChatModel(model.model_path, n_gpu_layers=model.n_gpu_layers, n_threads=model.n_threads,
                                     n_ctx=model.n_ctx)
        runs = [bare(original, tokens, 32) for _ in range(3)]
        ttft = ", ".join(f"{r['ttft_ms']:.0f}" for r in runs)
        speed = ", ".join(f"{r['tok_s']:.1f}" for r in runs)
        print(f"bare llama-cpp-python on {model.model_path.name} itself, last prompt ({len(tokens)} tokens): "
              f"TTFT {ttft} ms, {speed} tok/s")
        original.close()
    long_messages = [{"role": "user", "content": "Summarize: " + "Revenue rose in every segment. " * 300}]
    short = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    decoding = [stop_latency(model, short, 0.5) for _ in range(5)]
    prefill = [stop_latency(model, long_messages, 0.05) for _ in range(5)]
    print(f"\nstop latency while decoding: median {statistics.median(decoding):.0f} ms, max {max(decoding):.0f} ms")
    print(f"stop latency during prompt processing: median {statistics.median(prefill):.0f} ms, "
          f"max {max(prefill):.0f} ms")
    services.close()


if __name__ == "__main__":
    main()
