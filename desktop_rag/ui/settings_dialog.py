"""The Settings dialog: edits a :class:`Settings` value; the window saves and applies it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.config import DEFAULT_API_KEY_ENV, Settings, default_data_dir
from desktop_rag.core.models.hardware import physical_cores
from desktop_rag.core.models.llama_cpp import BUNDLED_LLM_FILE
from desktop_rag.core.types import RetrievalMode
from desktop_rag.errors import SettingsError

BUNDLED_LLM_LABEL = f"Bundled: {Path(BUNDLED_LLM_FILE).stem} (default)"
MODE_LABELS = {RetrievalMode.HYBRID: "Hybrid: meaning + keywords (recommended)",
               RetrievalMode.DENSE: "Meaning only (embeddings)", RetrievalMode.KEYWORD: "Keywords only (BM25)"}


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w, 1 if isinstance(w, (QLineEdit, QComboBox)) else 0)
    return box


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, gpu_offload: bool | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.original = settings
        self._result = settings
        layout = QVBoxLayout(self)
        layout.addWidget(self._model_group(gpu_offload))
        layout.addWidget(self._remote_group())
        layout.addWidget(self._retrieval_group())
        layout.addWidget(self._storage_group(settings))
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d64541")
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self._restore_defaults)
        layout.addWidget(self.buttons)
        self._load(settings)

    # ------------------------------------------------------------------ groups

    # The groups make the widgets; _load gives them their values.

    def _model_group(self, gpu_offload: bool | None) -> QGroupBox:
        group = QGroupBox("Language model")
        form = QFormLayout(group)
        self.llm_model = QComboBox()
        self.llm_model.addItem(BUNDLED_LLM_LABEL, "")
        self.llm_model.setToolTip("Any GGUF chat model file works; smaller quantizations (Q4) load faster")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_llm)
        form.addRow("&Model file:", _row(self.llm_model, browse))
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-1, 1000)
        self.gpu_layers.setSpecialValueText("All layers")
        if gpu_offload is None:
            gpu_text = "GPU offload: checking…"
        else:
            gpu_text = ("GPU offload is available" if gpu_offload
                        else "This build has no GPU support: keep 0 (CPU only)")
        self.gpu_note = QLabel(gpu_text)
        form.addRow("&GPU layers:", _row(self.gpu_layers, self.gpu_note))
        self.threads = QSpinBox()
        self.threads.setRange(0, 512)
        self.threads.setSpecialValueText(f"Automatic (free cores, up to {physical_cores()})")
        form.addRow("&Threads:", self.threads)
        self.fast_prompt = QCheckBox("Faster prompts for small Q4_1/Q5_1 models")
        self.fast_prompt.setToolTip("Runs them from a Q8_0 copy made once in the cache folder (the bundled model: "
                                    "145 MB; its prompts are read about 1.5x faster on the CPU)")
        form.addRow("", self.fast_prompt)
        self.n_ctx = QSpinBox()
        self.n_ctx.setRange(512, 262144)
        self.n_ctx.setSingleStep(512)
        self.n_ctx.setSuffix(" tokens")
        form.addRow("&Context size:", self.n_ctx)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setDecimals(2)
        self.temperature.setToolTip("0 = always the most likely words; higher = more varied answers")
        form.addRow("T&emperature:", self.temperature)
        return group

    def _remote_group(self) -> QGroupBox:
        group = QGroupBox("Use a remote OpenAI-compatible endpoint instead of the local model")
        group.setCheckable(True)
        form = QFormLayout(group)
        self.remote_url = QLineEdit()
        self.remote_url.setPlaceholderText("http://localhost:8080/v1")
        form.addRow("&Base URL:", self.remote_url)
        self.remote_model = QLineEdit()
        form.addRow("Model &name:", self.remote_model)
        self.remote_key_env = QLineEdit()
        self.remote_key_env.setToolTip("The API key is read from this environment variable; it is never saved")
        form.addRow("API key &variable:", self.remote_key_env)
        self.remote_group = group
        return group

    def _retrieval_group(self) -> QGroupBox:
        group = QGroupBox("Retrieval and indexing")
        form = QFormLayout(group)
        self.mode = QComboBox()
        for mode in RetrievalMode:
            self.mode.addItem(MODE_LABELS[mode], mode.value)
        form.addRow("&Retrieval:", self.mode)
        self.chunk_tokens = QSpinBox()
        self.chunk_tokens.setRange(16, 4096)
        self.chunk_tokens.setSuffix(" tokens")
        form.addRow("Passage si&ze:", self.chunk_tokens)
        self.chunk_overlap = QSpinBox()
        self.chunk_overlap.setRange(0, 2048)
        self.chunk_overlap.setSuffix(" tokens")
        form.addRow("Passage o&verlap:", self.chunk_overlap)
        self.embedding_model = QLineEdit()
        self.embedding_model.setPlaceholderText("Bundled all-MiniLM-L6-v2")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_embedding_folder)
        form.addRow("Embedding &model folder:", _row(self.embedding_model, browse))
        note = QLabel("Changing the passage size, overlap or embedding model offers to re-index your documents.")
        note.setWordWrap(True)
        note.setEnabled(False)
        form.addRow(note)
        return group

    def _storage_group(self, s: Settings) -> QGroupBox:
        group = QGroupBox("Storage")
        form = QFormLayout(group)
        self.data_dir = QLineEdit(s.data_dir)
        self.data_dir.setPlaceholderText(str(default_data_dir()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_data_dir)
        form.addRow("&Data folder:", _row(self.data_dir, browse))
        return group

    # ------------------------------------------------------------------ choosers

    def _choose_llm(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", str(Path.home()), "GGUF models (*.gguf)")
        if path:
            self.set_llm_model(path)

    def set_llm_model(self, path: str) -> None:
        index = self.llm_model.findData(path)
        if index < 0:
            self.llm_model.addItem(path, path)
            index = self.llm_model.count() - 1
        self.llm_model.setCurrentIndex(index)

    def _choose_embedding_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a sentence-transformers model folder")
        if folder:
            self.embedding_model.setText(folder)

    def _choose_data_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the data folder")
        if folder:
            self.data_dir.setText(folder)

    def _restore_defaults(self) -> None:
        defaults = Settings(data_dir=self.data_dir.text().strip())  # the library location is not a preference
        self._load(defaults)

    def _load(self, s: Settings) -> None:
        self.llm_model.setCurrentIndex(0) if not s.llm_model else self.set_llm_model(s.llm_model)
        self.gpu_layers.setValue(s.n_gpu_layers)
        self.threads.setValue(s.n_threads)
        self.fast_prompt.setChecked(s.fast_prompt_copy)
        self.n_ctx.setValue(s.n_ctx)
        self.temperature.setValue(s.temperature)
        self.remote_group.setChecked(bool(s.remote_base_url))
        self.remote_url.setText(s.remote_base_url)
        self.remote_model.setText(s.remote_model)
        self.remote_key_env.setText(s.remote_api_key_env)
        self.mode.setCurrentIndex(self.mode.findData(RetrievalMode(s.retrieval_mode).value))
        self.chunk_tokens.setValue(s.chunk_tokens)
        self.chunk_overlap.setValue(s.chunk_overlap)
        self.embedding_model.setText(s.embedding_model)

    # ------------------------------------------------------------------ result

    def edited_settings(self) -> Settings:
        """The settings as edited; raises SettingsError when they make no sense."""
        remote = self.remote_group.isChecked()
        return self.original.replace(
            llm_model=str(self.llm_model.currentData() or ""),
            n_gpu_layers=self.gpu_layers.value(),
            n_threads=self.threads.value(),
            fast_prompt_copy=self.fast_prompt.isChecked(),
            n_ctx=self.n_ctx.value(),
            temperature=round(self.temperature.value(), 2),
            remote_base_url=self.remote_url.text().strip() if remote else "",
            remote_model=self.remote_model.text().strip(),
            remote_api_key_env=self.remote_key_env.text().strip() or DEFAULT_API_KEY_ENV,
            retrieval_mode=RetrievalMode(self.mode.currentData()),
            chunk_tokens=self.chunk_tokens.value(),
            chunk_overlap=self.chunk_overlap.value(),
            embedding_model=self.embedding_model.text().strip(),
            data_dir=self.data_dir.text().strip(),
        )

    def accept(self) -> None:
        try:
            self._result = self.edited_settings()
        except SettingsError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        if self._result.remote_base_url and not self._result.remote_model:
            self.error.setText("Give the model name the remote endpoint should use.")
            self.error.show()
            return
        super().accept()

    def result_settings(self) -> Settings:
        return self._result
