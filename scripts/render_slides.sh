#!/usr/bin/env bash
# Render the first three slides of a report.pptx as PNG pages, to see the deck as PowerPoint users will:
# LibreOffice (Debian's) turns it into a PDF, poppler's pdftoppm turns its pages into images.
#   scripts/render_slides.sh outputs/run/report.pptx [docs]   ->   docs/slides-1.png, slides-2.png, slides-3.png
set -euo pipefail

deck=${1:?usage: scripts/render_slides.sh REPORT.pptx [OUT_DIR]}
out=${2:-docs}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# a profile of its own: soffice refuses to start while another instance holds the user's profile
soffice -env:UserInstallation="file://$work/profile" --headless --convert-to pdf --outdir "$work" "$deck" >/dev/null
pdf="$work/$(basename "${deck%.*}").pdf"
pdftoppm -png -r 60 -f 1 -l 3 "$pdf" "$work/slide"
mkdir -p "$out"
n=1
for page in $(ls "$work"/slide-*.png | sort); do  # pdftoppm pads page numbers to the document's page count
    cp "$page" "$out/slides-$n.png"
    echo "$out/slides-$n.png"
    n=$((n + 1))
done
