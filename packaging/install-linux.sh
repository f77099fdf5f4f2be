#!/usr/bin/env bash
# Install desktop_rag for the current user on Linux: builds .venv with `make setup` (portable
# llama.cpp build, CPU torch, bundled models), then adds a launcher to the desktop menu.
# Usage: packaging/install-linux.sh [--uninstall]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$apps/desktop-rag.desktop" "$icons/desktop-rag.svg"
    echo "Removed the launcher. Your library and settings are kept (see README: Settings)."
    exit 0
fi

make setup
mkdir -p "$apps" "$icons"
cp resources/desktop-rag.svg "$icons/desktop-rag.svg"
sed "s|^Exec=.*|Exec=\"$root/.venv/bin/desktop-rag-gui\" %F|" resources/desktop-rag.desktop > "$apps/desktop-rag.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "Installed. Start 'Desktop RAG' from your applications menu, or run: $root/.venv/bin/desktop-rag-gui"
