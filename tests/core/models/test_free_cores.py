"""Choosing thread counts from the cores other processes leave free, from injected CPU readings."""

from __future__ import annotations

import pytest

from desktop_rag.core.models.embedder import THREADS_FRESH_S, SentenceTransformerEmbedder
from desktop_rag.core.models.free_cores import (
    SHARED_FRESH_S,
    CpuReading,
    LatestReading,
    ThreadChooser,
    busy_elsewhere,
    read_cpu,
    threads_for,
)
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel


class FakeCpu:
    """A 2-CPU machine whose readings the test writes: each :meth:`run` advances the clock by
    ``seconds`` with ``others`` cores busy in other processes and ``own`` in this one."""

    load = 0.0  # cores busy elsewhere while the chooser sleeps for a fresh reading

    def __init__(self, cpus: int = 2) -> None:
        self.cpus, self.now, self.idle, self.own = cpus, 100.0, 0.0, 0.0
        self.slept: list[float] = []
        self.latest = LatestReading()  # the choosers of one fake process share their readings

    def run(self, seconds: float, *, others: float = 0.0, own: float = 0.0) -> None:
        self.now += seconds
        self.idle += max(0.0, self.cpus - others - own) * seconds
        self.own += own * seconds

    def read(self) -> CpuReading:
        return CpuReading(self.now, self.idle, self.own)

    def sleep(self, seconds: float) -> None:  # a fresh sample: the others keep their load
        self.slept.append(seconds)
        self.run(seconds, others=self.load)

    def chooser(self, most: int = 2, cores: int = 0) -> ThreadChooser:
        return ThreadChooser(most, cpus=self.cpus, cores=cores or self.cpus, read=self.read, sleep=self.sleep,
                             clock=lambda: self.now, latest=self.latest)


@pytest.mark.parametrize(("elsewhere", "threads"), [
    (0.0, 2), (0.2, 2), (0.3, 1), (0.5, 1), (1.0, 1), (1.7, 1), (2.0, 1),
])
def test_threads_for_two_cores(elsewhere: float, threads: int) -> None:
    assert threads_for(elsewhere, cpus=2, cores=2, most=2) == threads


def test_threads_for_never_exceeds_the_setting_and_shares_out_hyperthreads() -> None:
    assert threads_for(0.0, cpus=16, cores=8, most=4) == 4
    assert threads_for(4.0, cpus=16, cores=8, most=8) == 6  # a quarter of the CPUs busy: 6 of 8 cores
    assert threads_for(16.0, cpus=16, cores=8, most=8) == 1


def test_busy_elsewhere_leaves_out_this_process() -> None:
    before = CpuReading(at=10.0, idle=0.0, own=0.0)
    # 1 s, both CPUs busy, 1.5 core-seconds of them ours: the others used half a core
    after = CpuReading(at=11.0, idle=0.0, own=1.5)
    assert busy_elsewhere(before, after, 2) == pytest.approx(0.5)
    assert busy_elsewhere(before, CpuReading(at=10.01, idle=0.0, own=0.0), 2) is None  # too short to read


def test_alone_every_core_beside_a_busy_process_one() -> None:
    cpu = FakeCpu()
    chooser = cpu.chooser()
    assert chooser.measure() == 2 and cpu.slept == [0.1]
    cpu.run(1.0)
    cpu.load = 1.0  # a CPU-bound process starts
    assert chooser.measure() == 1
    assert chooser.elsewhere == pytest.approx(1.0)


def test_updates_follow_the_others_while_this_process_computes() -> None:
    cpu = FakeCpu()
    chooser = cpu.chooser()
    chooser.begin()
    cpu.run(0.5, own=2.0)  # our two threads busy, nobody else: stay at two
    assert chooser.update() == 2
    cpu.run(0.5, others=0.7, own=1.3)  # another process got 0.7 of a core from us: drop to one
    assert chooser.update() == 1
    cpu.run(0.5, others=1.0, own=1.0)  # it keeps one core: stay at one
    assert chooser.update() == 1
    cpu.run(0.5, own=1.0)  # it ended: back to two
    assert chooser.update() == 2
    assert chooser.age() == 0.0


def test_a_fresh_reading_of_another_model_is_used_without_waiting() -> None:
    cpu = FakeCpu()
    embedder_threads, llm_threads = cpu.chooser(), cpu.chooser()
    cpu.load = 1.0
    assert embedder_threads.measure() == 1 and len(cpu.slept) == 1
    cpu.run(SHARED_FRESH_S / 2)
    assert llm_threads.measure() == 1 and len(cpu.slept) == 1  # the embedder's reading: no wait
    cpu.run(SHARED_FRESH_S * 2, others=1.0)
    assert llm_threads.measure() == 1 and len(cpu.slept) == 2  # too old: read afresh
    cpu.load = 0.0
    cpu.run(0.2, own=2.0)
    assert llm_threads.update() == 2  # its own window, begun when it measured


def test_a_window_too_short_to_read_keeps_the_choice_and_goes_on() -> None:
    cpu = FakeCpu()
    chooser = cpu.chooser()
    chooser.begin()
    cpu.run(0.01, others=2.0)
    assert chooser.update() == 2  # 10 ms: not read; the window goes on
    cpu.run(0.5, others=1.0)
    assert chooser.update() == 1


def test_without_cpu_readings_every_core_and_no_wait() -> None:
    slept: list[float] = []
    chooser = ThreadChooser(3, cpus=4, cores=4, read=lambda: None, sleep=slept.append)
    assert chooser.measure() == 3 and chooser.update() == 3 and slept == []


def test_this_machine_can_be_read() -> None:
    reading = read_cpu()
    if reading is None:
        pytest.skip("no /proc/stat here")
    assert reading.idle > 0 and reading.own > 0
    first_cpu = read_cpu(frozenset({0}))  # pinned to CPU 0 (taskset): its row alone
    assert first_cpu is not None and 0 < first_cpu.idle <= read_cpu().idle


def test_embedder_reads_afresh_only_when_its_last_choice_is_old() -> None:
    cpu = FakeCpu()
    embedder = SentenceTransformerEmbedder(batch_size=8)  # threads 0: chosen per batch (not loaded here)
    embedder.thread_chooser = cpu.chooser()
    cpu.load = 1.0
    assert embedder._batch_threads() == 1 and len(cpu.slept) == 1  # the first batch: a fresh reading
    cpu.run(1.0, others=0.0, own=2.0)  # the batch ran; the other process had ended
    embedder.thread_chooser.update()
    assert embedder._batch_threads() == 2 and len(cpu.slept) == 1  # measured during the batch: no wait
    cpu.run(THREADS_FRESH_S + 1)  # long after (another file was extracted meanwhile)
    assert embedder._batch_threads() == 1 and len(cpu.slept) == 2


def test_a_thread_count_set_by_the_user_is_kept() -> None:
    assert SentenceTransformerEmbedder(batch_size=8, threads=3)._batch_threads() == 3
    assert SentenceTransformerEmbedder(batch_size=8, threads=3).thread_chooser is None
    assert LlamaCppChatModel(n_gpu_layers=0, n_ctx=512, n_threads=3).thread_chooser is None
    assert LlamaCppChatModel(n_gpu_layers=0, n_ctx=512).thread_chooser is not None
    assert LlamaCppChatModel(n_gpu_layers=-1, n_ctx=512).thread_chooser is None  # on a GPU: not worth 0.1 s


def test_llama_cpp_runs_with_the_count_chosen_per_question_and_between_tokens() -> None:
    import llama_cpp

    model = LlamaCppChatModel(n_gpu_layers=0, n_ctx=512)
    cpu = FakeCpu()
    model.thread_chooser = cpu.chooser(most=2)
    messages = [{"role": "user", "content": "Say hello."}]
    try:
        cpu.load = 1.0
        assert list(model.stream_chat(messages, max_tokens=4, temperature=0.0))
        assert model.threads_now == 1 and llama_cpp.llama_n_threads(model.load()._ctx.ctx) == 1
        assert llama_cpp.llama_n_threads_batch(model.load()._ctx.ctx) == 1
        cpu.run(1.0, own=1.0)  # the other process ended while the answer was written
        model._recheck_threads()
        assert model.threads_now == 2 and llama_cpp.llama_n_threads(model.load()._ctx.ctx) == 2
    finally:
        model.close()


def test_llama_cpp_follows_the_free_cores_between_decodes() -> None:
    model = LlamaCppChatModel(n_gpu_layers=0, n_ctx=512)
    cpu = FakeCpu()
    chooser = cpu.chooser(most=2)
    choices: list[int] = []
    update = chooser.update

    def clock() -> float:  # once the question's reading is taken, time passes with the others idle
        if cpu.slept:
            cpu.run(0.3, own=1.0)
        return cpu.now

    def recorded_update() -> int:
        choices.append(update())
        return choices[-1]

    chooser._clock, chooser.update = clock, recorded_update
    model.thread_chooser = chooser
    cpu.load = 1.0  # busy while the question starts ...
    try:
        list(model.stream_chat([{"role": "user", "content": "Say hello."}], max_tokens=4, temperature=0.0))
        assert choices[0] == 1 and choices[-1] == 2 and model.threads_now == 2  # ... idle by the next decodes
    finally:
        model.close()
