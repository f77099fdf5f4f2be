#!/usr/bin/env bash
# Installs Desktop RAG for the current user, without root: copies this folder to
# ~/.local/opt/desktop-rag (or $DESKTOP_RAG_PREFIX), adds "Desktop RAG" with its icon to the
# applications menu and links the `desktop-rag` command into ~/.local/bin.
# Run it again from a newer unpacked bundle to update; ./uninstall.sh removes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=${DESKTOP_RAG_PREFIX:-$HOME/.local/opt/desktop-rag}
apps=$data/applications
icons=$data/icons/hicolor/scalable/apps
bin=$HOME/.local/bin

[ -x "$here/desktop-rag" ] || { echo "install.sh: run it from the unpacked bundle (no desktop-rag beside it)" >&2; exit 1; }
if [ "$here" != "$prefix" ]; then
    if [ -e "$prefix" ] && [ ! -f "$prefix/VERSION" ]; then
        echo "install.sh: $prefix exists and is not a Desktop RAG bundle; not touching it" >&2
        echo "  (choose another folder: DESKTOP_RAG_PREFIX=/some/where $0)" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$prefix")"
    rm -rf "$prefix.new"
    cp -a "$here" "$prefix.new"  # copied beside, then swapped: a failed copy leaves the old install
    rm -rf "$prefix"
    mv "$prefix.new" "$prefix"
fi
mkdir -p "$apps" "$icons" "$bin"
cp "$prefix/desktop-rag.svg" "$icons/desktop-rag.svg"
sed -e "s|^Exec=.*|Exec=\"$prefix/desktop-rag\" %F|" -e "/^Exec=/a TryExec=$prefix/desktop-rag" \
    "$prefix/desktop-rag.desktop" > "$apps/desktop-rag.desktop"
if [ ! -e "$bin/desktop-rag" ] || [ -L "$bin/desktop-rag" ]; then
    ln -sfn "$prefix/desktop-rag" "$bin/desktop-rag"
else
    echo "note: $bin/desktop-rag exists and is not a link; the command is $prefix/desktop-rag"
fi
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
echo "Installed Desktop RAG $(cat "$prefix/VERSION") in $prefix."
echo "Start it from your applications menu, or run: desktop-rag   (desktop-rag --help for the command line)"
