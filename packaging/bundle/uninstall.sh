#!/usr/bin/env bash
# Removes Desktop RAG installed by install.sh: the program folder, the menu entry, the icon and the
# `desktop-rag` link. Your library, settings and downloaded models stay (paths printed below).
set -euo pipefail
data=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=${DESKTOP_RAG_PREFIX:-$HOME/.local/opt/desktop-rag}
apps=$data/applications
entry=$apps/desktop-rag.desktop

if [ -f "$entry" ] && grep -q "^Exec=\"$prefix/desktop-rag\"" "$entry"; then
    rm -f "$entry" "$data/icons/hicolor/scalable/apps/desktop-rag.svg"
fi
if [ -L "$HOME/.local/bin/desktop-rag" ] && [ "$(readlink "$HOME/.local/bin/desktop-rag")" = "$prefix/desktop-rag" ]; then
    rm -f "$HOME/.local/bin/desktop-rag"
fi
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" 2>/dev/null || true
if [ -f "$prefix/VERSION" ]; then
    rm -rf "$prefix"
    echo "Removed Desktop RAG from $prefix."
else
    echo "No Desktop RAG install found in $prefix (set DESKTOP_RAG_PREFIX if you chose another folder)."
fi
echo "Kept: your library and downloaded models (${XDG_DATA_HOME:-$HOME/.local/share}/desktop-rag),"
echo "settings (${XDG_CONFIG_HOME:-$HOME/.config}/desktop-rag) and cache (${XDG_CACHE_HOME:-$HOME/.cache}/desktop-rag)."
