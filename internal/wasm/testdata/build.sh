#!/bin/sh
# Rebuilds the runtime's test fixtures from their sources.
#   usage: build.sh [outdir]     (default: this directory)
# Tools: wat2wasm (apt-get install wabt), clang + wasm-ld (apt-get install
# clang lld), go. TOOLS records the versions the committed .wasm files were
# built with; TestFixturesRebuild compares a fresh build with them when the
# same versions are installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
for f in "$here"/*.wat; do
	n=$(basename "$f" .wat)
	wat2wasm "$f" -o "$out/$n.wasm"
done
mkdir -p "$out/invalid"
for f in "$here"/invalid/*.wat; do
	n=$(basename "$f" .wat)
	wat2wasm --enable-all "$f" -o "$out/invalid/$n.wasm"
done
for f in "$here"/*.c; do
	n=$(basename "$f" .c)
	clang --target=wasm32 -nostdlib -O2 -mbulk-memory -Wl,--no-entry -Wl,--strip-all \
		-o "$out/$n.wasm" "$f"
done
cd "$here/goguest"
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' -o "$out/goguest.wasm" .
