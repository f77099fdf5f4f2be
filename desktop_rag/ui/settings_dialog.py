"""The Settings dialog: edits a :class:`Settings` value; the window saves and applies it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.config import DEFAULT_API_KEY_ENV, Settings, default_data_dir, default_models_dir
from desktop_rag.core.models.hardware import physical_cores
from desktop_rag.core.models.gguf_info import available_memory, check_model_file
from desktop_rag.core.models.gpu_layers import choose_gpu_layers, gpu_memory
from desktop_rag.core.models.llama_cpp import BUNDLED_LLM_FILE, bundled_llm_path
from desktop_rag.core.types import RetrievalMode
from desktop_rag.errors import ModelError, SettingsError
from desktop_rag.ui.download_dialog import DownloadDialog
from desktop_rag.ui.model_picker import ModelPicker

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


def _scrolled(outer: QVBoxLayout) -> tuple[QScrollArea, QVBoxLayout]:
    """A scroll area added to ``outer`` (vertical scrolling only), and the layout inside it."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    content = QWidget()
    inner = QVBoxLayout(content)
    inner.setContentsMargins(0, 0, 0, 0)
    area.setWidget(content)
    outer.addWidget(area, 1)
    return area, inner


def _fit(area: QScrollArea) -> None:
    """As tall as the content where the screen has room (less its title bar and the buttons), else
    as tall as the screen allows, scrolling the rest: the OK button never falls off a small screen."""
    screen = QGuiApplication.primaryScreen()
    room = screen.availableGeometry().height() - 170 if screen is not None else 600
    area.setMinimumHeight(max(200, min(area.widget().sizeHint().height(), room)))


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, gpu_offload: bool | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(780)  # the model list shows seven facts beside each name
        self.original = settings
        self._result = settings
        layout = QVBoxLayout(self)
        area, groups = _scrolled(layout)  # the groups scroll on a small screen; the buttons stay in view
        groups.addWidget(self._model_group(gpu_offload))
        groups.addWidget(self._remote_group())
        groups.addWidget(self._retrieval_group())
        groups.addWidget(self._storage_group(settings))
        tune = getattr(parent, "tune", None)  # Embeddings: the library's model, tuned or not (ui/tune_controller.py)
        if tune is not None:
            self.embeddings = tune.embeddings_box()
            groups.addWidget(self.embeddings)
        _fit(area)
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
        self._add_model_picker(form, gpu_offload)  # the models found on this machine; the GPU layers
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

    def _add_model_picker(self, form: QFormLayout, gpu_offload: bool | None) -> None:
        """The models found on this machine (picking one sets the model file), Download…, and the
        GPU layers: automatic (from the free video memory) or a count."""
        self.gpu_offload = gpu_offload
        self.model_picker = ModelPicker(self.original, self)
        self.model_picker.model_chosen.connect(self._on_model_picker_model_chosen)
        self.model_picker.download_button.clicked.connect(self.open_download)
        self.llm_model.currentIndexChanged.connect(self._on_llm_model_current_index_changed)
        form.addRow(self.model_picker)
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-1, 1000)
        self.gpu_layers.setSpecialValueText("All layers")
        self.gpu_auto = QCheckBox("Automatic")
        self.gpu_auto.setToolTip("Choose the layers from the free video memory each time the model loads")
        self.gpu_auto.toggled.connect(self.gpu_layers.setDisabled)
        if gpu_offload is None:
            gpu_text = "GPU offload: checking…"
        else:
            gpu_text = ("GPU offload is available" if gpu_offload
                        else "This build has no GPU support: CPU only")
        self.gpu_note = QLabel(gpu_text)
        self.gpu_note.setWordWrap(True)
        form.addRow("&GPU layers:", _row(self.gpu_auto, self.gpu_layers, self.gpu_note))

    def _on_model_picker_model_chosen(self, path: str) -> None:
        if path == str(bundled_llm_path()):
            self.llm_model.setCurrentIndex(0)
        else:
            self.set_llm_model(path)
        found = self.model_picker.found_model(path)
        if found is not None and found.info is not None and self.gpu_offload:
            choice = choose_gpu_layers(found.info, self.n_ctx.value(), supported=True, gpus=gpu_memory())
            self.gpu_note.setText(f"Automatic would choose: {choice.reason}")

    def _on_llm_model_current_index_changed(self, _index: int) -> None:
        """The list shows the model file chosen (by Browse… too), or nothing when it is not listed."""
        path = str(self.llm_model.currentData() or "") or str(bundled_llm_path())
        if path != self.model_picker.current_path():
            self.model_picker.select_path(path, emit=False)

    def open_download(self) -> DownloadDialog:
        """The download dialog; a model it brings is listed and picked."""
        dialog = DownloadDialog(default_models_dir(), self)
        dialog.downloaded.connect(lambda path: self.model_picker.refresh(select=path))
        dialog.open()
        self.download_dialog = dialog
        return dialog

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
        self.ocr = QCheckBox("Read scanned pages (OCR)")
        self.ocr.setToolTip("Pages that hold only images are read by text recognition when they are indexed: "
                            "a few seconds a page. Off: such pages are left out, and a wholly scanned PDF is refused")
        form.addRow("", self.ocr)
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
        self.gpu_auto.setChecked(s.auto_gpu_layers)
        self.gpu_layers.setDisabled(s.auto_gpu_layers)
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
        self.ocr.setChecked(s.ocr)

    # ------------------------------------------------------------------ result

    def edited_settings(self) -> Settings:
        """The settings as edited; raises SettingsError when they make no sense."""
        remote = self.remote_group.isChecked()
        return self.original.replace(
            llm_model=str(self.llm_model.currentData() or ""),
            n_gpu_layers=self.gpu_layers.value(),
            auto_gpu_layers=self.gpu_auto.isChecked(),
            model_folders=tuple(self.model_picker.folders),
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
            ocr=self.ocr.isChecked(),
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
        problem = self._model_problem(self._result)
        if problem:  # before anything changes: the model in use now stays in use
            self.error.setText(f"The language model was not changed: {problem}")
            self.error.show()
            return
        super().accept()

    def _model_problem(self, s: Settings) -> str:
        """Why the model file chosen cannot be used (not a GGUF, truncated, a vision projector, too
        large for the free memory), read from its header; "" when it can, or was not changed."""
        if s.remote_base_url or not s.llm_model or s.llm_model == self.original.llm_model:
            return ""
        on_gpu = bool(self.gpu_offload) and (s.auto_gpu_layers or s.n_gpu_layers != 0)
        try:
            check_model_file(Path(s.llm_model), s.n_ctx, available_memory(), on_gpu=on_gpu)
        except ModelError as exc:
            return str(exc)
        return ""

    def result_settings(self) -> Settings:
        return self._result
