"""The offload report says what llama.cpp logged it did while loading, not what was asked."""

from __future__ import annotations

from desktop_rag.core.models.offload import offload_from_log

# The lines llama.cpp (src/llama-model.cpp, load_tensors) logs on a CUDA build.
CUDA_LOG = """load_tensors: offloading output layer to GPU
load_tensors: offloading 29 repeating layers to GPU
load_tensors: offloaded 31/31 layers to GPU
load_tensors:        CUDA0 model buffer size =   120.50 MiB
load_tensors:   CPU_Mapped model buffer size =    28.12 MiB
"""


def test_full_offload_names_the_device_and_its_weights() -> None:
    report = offload_from_log(CUDA_LOG, supported=True, requested=-1, blocks=30)
    assert (report.layers_offloaded, report.layers_total) == (31, 31)
    assert report.weights_mib == {"CUDA0": 120.5, "CPU_Mapped": 28.12}
    assert report.describe() == "31/31 layers on the GPU (CUDA0 120 MiB)"


def test_partial_and_zero_offload() -> None:
    partial = CUDA_LOG.replace("offloaded 31/31", "offloaded 10/31")
    assert offload_from_log(partial, supported=True, requested=10, blocks=30).describe().startswith(
        "10/31 layers on the GPU")
    none = "load_tensors: offloaded 0/31 layers to GPU\nload_tensors: CPU_Mapped model buffer size = 92.10 MiB\n"
    report = offload_from_log(none, supported=True, requested=0, blocks=30)
    assert report.layers_offloaded == 0 and report.describe() == "CPU only (GPU offload available)"


def test_cpu_only_build_logs_no_offload_line() -> None:
    report = offload_from_log("load_tensors:   CPU_Mapped model buffer size =    92.10 MiB\n",
                              supported=False, requested=0, blocks=30)
    assert (report.layers_offloaded, report.layers_total, report.weights_mib) == (0, 30, {"CPU_Mapped": 92.1})
    assert "no GPU support" in report.describe()
