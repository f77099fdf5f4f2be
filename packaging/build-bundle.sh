#!/usr/bin/env bash
# Builds the desktop bundle dist/desktop-rag-<version>-linux-x86_64.tar.gz (run by `make bundle`):
# 1. the int8 ONNX copy of the bundled embedding model, made here with torch (the bundle has none);
# 2. the frozen one-folder app (PyInstaller, packaging/desktop-rag.spec);
# 3. install.sh / uninstall.sh, the icon and the .desktop entry beside it, archived.
# Usage: packaging/build-bundle.sh [PYTHON]   (default .venv/bin/python, with PyInstaller installed)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-.venv/bin/python}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
arch=$(uname -m)
name="desktop-rag-$version"
work=$(pwd)/build/bundle
archive="dist/$name-linux-$arch.tar.gz"
started=$(date +%s)

rm -rf "$work" && mkdir -p "$work" dist
"$py" packaging/prebuild_onnx.py "$work/onnx"
DESKTOP_RAG_PREBUILT_ONNX_DIR="$work/onnx" "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$work/dist" --workpath "$work/pyinstaller" packaging/desktop-rag.spec
app="$work/dist/$name"
mv "$work/dist/desktop-rag" "$app"
# PyInstaller copies llama.cpp's libX.so -> libX.so.0 links as two files; make them links again
for lib in "$app"/_internal/llama_cpp/lib/*.so; do
    if [ -f "$lib.0" ] && cmp -s "$lib" "$lib.0"; then ln -sf "$(basename "$lib").0" "$lib"; fi
done
cp packaging/bundle/install.sh packaging/bundle/uninstall.sh packaging/bundle/README.txt "$app/"
cp resources/desktop-rag.desktop resources/desktop-rag.svg "$app/"
echo "$version" > "$app/VERSION"
rm -f "$archive"
tar -C "$work/dist" -czf "$archive" "$name"
echo "built $archive in $(( $(date +%s) - started )) s:" \
     "$(du -m "$archive" | cut -f1) MB archived, $(du -sm "$app" | cut -f1) MB unpacked"
