"""Opening a cited page in the system's PDF viewer: the page is passed where the viewer takes one."""

from __future__ import annotations

import sys

import pytest

from desktop_rag.ui.page_view import PAGE_VIEWERS, viewer_command

pytestmark = pytest.mark.skipif(sys.platform.startswith(("win", "darwin")), reason="X11/Wayland viewers")


def test_the_first_installed_viewer_gets_the_page() -> None:
    installed = {"okular": "/usr/bin/okular", "evince": "/usr/bin/evince"}
    command = viewer_command("/docs/report.pdf", 7, which=installed.get)
    assert command == ["/usr/bin/evince", "--page-index=7", "/docs/report.pdf"]  # evince is tried first
    assert viewer_command("/docs/report.pdf", 7, which={"okular": "/o"}.get) == ["/o", "-p", "7", "/docs/report.pdf"]


def test_no_known_viewer_falls_back_to_the_desktop_default() -> None:
    assert viewer_command("/docs/report.pdf", 3, which=lambda _name: None) is None
    assert all("{page}" in " ".join(args) for _, args in PAGE_VIEWERS)
