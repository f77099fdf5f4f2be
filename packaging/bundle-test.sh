#!/usr/bin/env bash
# `make bundle-test`: the built desktop bundle, end to end, as a user's machine runs it. Unpacks the
# archive into a fresh folder and runs everything in a clean environment (env -i, a new HOME,
# PATH=/usr/bin:/bin) so nothing of the build's virtualenv can leak in: install.sh into that HOME,
# `--help`, the GUI offscreen (and on X11 under Xvfb, where installed) until both models are loaded
# (then it closes itself), `ingest` of two SEC filings and a scanned page (OCR, in the frozen
# extraction child), the child's memory limit, `list`, `search`, `ask --json` with its citations, the
# other formats, `eval` with answers, `models`, `collections`, `watch`, `remove`, clear refusals of
# what needs torch (not bundled: the torch backend, `tune`), and uninstall.sh.
# The JSON the app prints is checked by packaging/bundle_checks.py, in the build environment.
# Usage: packaging/bundle-test.sh [ARCHIVE]   (default: the newest dist/desktop-rag-*-linux-*.tar.gz)
set -euo pipefail
given=${1:+$(realpath -m -- "$1")}  # a path given from another folder, before the cd
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
archive=${given:-$(ls -t dist/desktop-rag-*-linux-*.tar.gz 2>/dev/null | head -n 1 || true)}
if [ -z "$archive" ] || [ ! -f "$archive" ]; then
    echo "bundle-test: no bundle archive (${archive:-none in dist/}): build one first with 'make bundle'" >&2
    exit 2
fi
docs=${DESKTOP_RAG_TEST_DOCS:-/work/shared/corpus/sec-10-q/docs}
first="2022 Q3 AAPL.pdf"
second="2022 Q3 NVDA.pdf"
for f in "$first" "$second"; do
    [ -f "$docs/$f" ] || { echo "bundle-test: $docs/$f is missing (set DESKTOP_RAG_TEST_DOCS)" >&2; exit 2; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/desktop-rag-bundle-test.XXXXXX")
xvfb=""
trap 'code=$?; [ -z "$xvfb" ] || kill "$xvfb" 2>/dev/null || true; if [ $code -eq 0 ]; then rm -rf "$tmp"; else echo "bundle-test FAILED; files kept in $tmp"; fi' EXIT
home="$tmp/home"
data="$tmp/data"
mkdir -p "$home" "$tmp/unpacked" "$tmp/docs" "$data"
clean() { env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen "$@"; }
check() { "$py" packaging/bundle_checks.py "$@"; }
step() { echo "== $*"; }

step "unpack $archive"
tar -C "$tmp/unpacked" -xzf "$archive"
bundle=$(echo "$tmp"/unpacked/desktop-rag-*)
cp "$docs/$first" "$docs/$second" "$tmp/docs/"
# a scanned (image-only) page, made with the test suite's helper, for OCR in the frozen child
mkdir -p "$tmp/made"
"$py" - "$tmp/made/scan.pdf" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from scans import write_scan
write_scan(Path(sys.argv[1]), ["Lighthouse keepers record the harbour tides every morning."])
PY
cp "$tmp/made/scan.pdf" "$tmp/docs/scan.pdf"

step "install.sh (per user, no root)"
clean "$bundle/install.sh"
app="$home/.local/opt/desktop-rag/desktop-rag"
entry="$home/.local/share/applications/desktop-rag.desktop"
grep -q "^Exec=\"$app\" %F" "$entry" || { echo "FAIL: the menu entry does not start $app"; cat "$entry"; exit 1; }
[ -f "$home/.local/share/icons/hicolor/scalable/apps/desktop-rag.svg" ] || { echo "FAIL: no icon installed"; exit 1; }
[ "$(readlink "$home/.local/bin/desktop-rag")" = "$app" ] || { echo "FAIL: no desktop-rag link in ~/.local/bin"; exit 1; }
echo "ok: menu entry, icon and ~/.local/bin/desktop-rag"

step "--help"
clean "$app" --help > "$tmp/help.txt"
grep -qw "ingest" "$tmp/help.txt" || { echo "FAIL: --help lists no subcommands"; cat "$tmp/help.txt"; exit 1; }
echo "ok: --help lists the subcommands"

step "GUI offscreen until both models are loaded"
clean timeout 300 "$app" --data-dir "$tmp/gui-data" --report-startup "$tmp/startup.json" --quit-when-ready \
    > "$tmp/gui.log" 2>&1 || { echo "FAIL: the GUI exited with $?"; cat "$tmp/gui.log"; exit 1; }
check gui "$tmp/startup.json"

if command -v Xvfb >/dev/null; then  # the platform plugin a real desktop uses (X11), where Xvfb is installed
    step "GUI on X11 (xcb, under Xvfb) until both models are loaded"
    Xvfb :93 -screen 0 1280x800x24 -nolisten tcp > "$tmp/xvfb.log" 2>&1 &
    xvfb=$!
    sleep 1
    env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY=:93 timeout 300 "$app" --data-dir "$tmp/gui-data" \
        --report-startup "$tmp/startup-x11.json" --quit-when-ready > "$tmp/gui-x11.log" 2>&1 \
        || { echo "FAIL: the GUI on X11 exited with an error"; tail -n 20 "$tmp/gui-x11.log"; exit 1; }
    kill "$xvfb" && xvfb=""
    check gui "$tmp/startup-x11.json"
fi

step "ingest two filings and a scan through the frozen CLI (extraction child, OCR)"
clean "$app" --data-dir "$data" ingest "$tmp/docs/$first" "$tmp/docs/$second" "$tmp/docs/scan.pdf" \
    2> "$tmp/ingest.err" || { echo "FAIL: ingest exited with $?"; cat "$tmp/ingest.err"; exit 1; }
tail -n 1 "$tmp/ingest.err"
clean "$app" --data-dir "$data" list --json > "$tmp/list.json"
check list "$tmp/list.json" "$first" "$second" ocr:scan.pdf

step "the extraction child's memory limit: a decompression bomb is stopped, the next file still read"
"$py" - "$tmp/limits/bomb.pdf" "$tmp/limits/good.pdf" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from pdfs import flate_bomb_pdf, write_pdf
Path(sys.argv[1]).parent.mkdir(parents=True, exist_ok=True)
flate_bomb_pdf(Path(sys.argv[1]), inflated_mb=512)
write_pdf(Path(sys.argv[2]), ["Zebras have black and white stripes."])
PY
printf 'extract_memory_mb = 256\n' > "$tmp/limits.toml"
if clean "$app" --config "$tmp/limits.toml" --data-dir "$tmp/limits-data" ingest "$tmp/limits/bomb.pdf" \
    "$tmp/limits/good.pdf" 2> "$tmp/limits.err"; then
    echo "FAIL: ingest of a decompression bomb reported no failure"; exit 1
fi
clean "$app" --data-dir "$tmp/limits-data" list --json > "$tmp/limits.json"
check limit "$tmp/limits.json" bomb.pdf good.pdf 256

step "search"
clean "$app" --data-dir "$data" search --json "Apple total net sales iPhone Mac services" > "$tmp/search1.json"
check search "$tmp/search1.json" "$first"
clean "$app" --data-dir "$data" search --json "NVIDIA data center gaming revenue" > "$tmp/search2.json"
check search "$tmp/search2.json" "$second"
clean "$app" --data-dir "$data" search --json "harbour tides lighthouse keepers" > "$tmp/search3.json"
check search "$tmp/search3.json" scan.pdf

step "ask --json (the bundled SmolLM2 with llama.cpp)"
clean "$app" --data-dir "$data" ask --json "What was Apple's total net sales for the quarter ended June 25, 2022?" \
    > "$tmp/ask.json" 2> "$tmp/ask.err" || { echo "FAIL: ask exited with $?"; cat "$tmp/ask.err"; exit 1; }
check ask "$tmp/ask.json" "82,959" "$first" "$second"  # the quarter's net sales, $ millions, on its page

step "the other formats (.docx, .pptx, .epub, .md, .html, .txt) through the frozen child"
"$py" - "$tmp/formats" <<'PY'
import sys
from pathlib import Path
sys.path[:0] = ["tests", "tests/core/ingest"]
import docx
from pptx import Presentation
from test_slides_and_ebooks import write_epub
out = Path(sys.argv[1])
out.mkdir()
d = docx.Document(); d.add_heading("Orchard", 1); d.add_paragraph("Apple trees gave 40 tonnes this autumn."); d.save(out / "orchard.docx")
deck = Presentation(); slide = deck.slides.add_slide(deck.slide_layouts[1])
slide.shapes.title.text = "Harbour"; slide.placeholders[1].text = "The harbour master logs every ship."; deck.save(out / "harbour.pptx")
write_epub(out / "book.epub")
(out / "notes.md").write_text("# Notes\n\nBees visit the lavender field in July.\n")
(out / "page.html").write_text("<html><body><h1>Kites</h1><p>Red kites nest in the beech wood.</p></body></html>")
(out / "plain.txt").write_text("Otters fish in the river below the mill.\n")
PY
clean "$app" --data-dir "$tmp/formats-data" ingest "$tmp/formats" 2> "$tmp/formats.err" \
    || { echo "FAIL: ingest of the other formats exited with $?"; cat "$tmp/formats.err"; exit 1; }
clean "$app" --data-dir "$tmp/formats-data" list --json > "$tmp/formats.json"
check list "$tmp/formats.json" plain.txt orchard.docx harbour.pptx book.epub notes.md page.html

step "eval with answers (ROUGE-L, BLEU, the Agg chart) and the remaining subcommands"
printf '%s\n' '{"question": "What was Apple'"'"'s total net sales for the quarter ended June 25, 2022?", "answer": "$82,959 million", "docs": ["2022 Q3 AAPL.pdf"], "pages": [{"file": "2022 Q3 AAPL.pdf", "page": 19}]}' \
    > "$tmp/questions.jsonl"
clean "$app" --data-dir "$data" eval --questions "$tmp/questions.jsonl" --answers 1 --out "$tmp/eval" > "$tmp/eval.txt" \
    2> "$tmp/eval.err" || { echo "FAIL: eval exited with $?"; tail -n 5 "$tmp/eval.err"; exit 1; }
grep -q "rouge_l" "$tmp/eval.txt" && [ -s "$tmp/eval/chart.png" ] && [ -s "$tmp/eval/results.json" ] \
    || { echo "FAIL: eval wrote no answer metrics or chart"; cat "$tmp/eval.txt"; exit 1; }
echo "ok: eval wrote results.json, chart.png and ROUGE-L/BLEU"
for args in "models" "collections list" "watch list" "remove scan.pdf"; do
    # shellcheck disable=SC2086 # word splitting of the subcommand is meant
    clean "$app" --data-dir "$data" $args > "$tmp/sub.txt" 2>&1 || { echo "FAIL: $args exited with $?"; cat "$tmp/sub.txt"; exit 1; }
done
clean "$app" --data-dir "$data" models | grep -q "SmolLM2" || { echo "FAIL: models does not list the bundled model"; exit 1; }
echo "ok: models (lists the bundled GGUF), collections list, watch list, remove"

step "the torch embedding backend (not in the bundle) is refused with a message"
printf 'embedding_backend = "torch"\n' > "$tmp/torch.toml"
if clean "$app" --config "$tmp/torch.toml" --data-dir "$tmp/torch-data" ingest "$tmp/docs/scan.pdf" 2> "$tmp/torch.err"; then
    echo "FAIL: ingest with the torch backend succeeded in a bundle without torch"; exit 1
fi
check refused "$tmp/torch.err" "does not include"

if grep -qw "tune" "$tmp/help.txt"; then
    step "fine-tuning (needs torch, not in the bundle) is refused with a message"
    if clean "$app" --data-dir "$data" tune --pairs 20 --time-limit 1 --generator template 2> "$tmp/tune.err"; then
        echo "FAIL: tune succeeded in a bundle without torch"; exit 1
    fi
    check refused "$tmp/tune.err" "does not include"
fi

step "uninstall.sh (the library stays)"
clean "$home/.local/opt/desktop-rag/uninstall.sh"
[ ! -e "$app" ] && [ ! -e "$entry" ] && [ ! -e "$home/.local/bin/desktop-rag" ] || { echo "FAIL: left behind"; exit 1; }
[ -f "$data/library.sqlite3" ] || { echo "FAIL: the library is gone"; exit 1; }
echo "ok: program, menu entry and link removed; the library is kept"
echo "bundle-test passed: $archive"
