#!/bin/sh
# Render the digest preview of a database to PNG with headless Chromium, to look at the layout.
# Usage: [WIDTH=390] benchmarks/digest_screenshot.sh DATABASE [SINCE] [OUT.png]
#   listenpost --db /tmp/demo.db demo && benchmarks/digest_screenshot.sh /tmp/demo.db 3d
# Needs Debian's chromium package (apt-get install chromium).
set -eu
db=${1:?usage: $0 DATABASE [SINCE] [OUT.png]}
since=${2:-24h}
out=${3:-digest.png}
html=$(mktemp --suffix=.html)
trap 'rm -f "$html"' EXIT
listenpost --db "$db" digest --since "$since" --preview "$html" >/dev/null
# A 700px wide window is what a mail client's reading pane gives the 640px email; WIDTH=390 is a phone.
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars \
  --screenshot="$(realpath -m "$out")" --window-size=${WIDTH:-700},${HEIGHT:-3400} "file://$html" 2>/dev/null
echo "$out"
