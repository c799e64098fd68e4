#!/usr/bin/env bash
# Installs the large innocent corpora the text engine's false-positive scan reads (core/tests/text_corpus.rs):
# the King James Bible (Debian `bible-kjv-text` with its reader `bible-kjv`, public domain) and the American English
# word list (Debian `wamerican`, SCOWL), as plain text in .haven/corpus/{kjv.txt,american-english.txt}.
# The .deb files come from Debian's archive through `apt-get download` (no root needed), pinned by version and
# SHA-256, and are unpacked with `dpkg-deb -x`; nothing is installed system-wide. Safe to repeat: verified copies
# are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=.haven/corpus
kjv="$dest/kjv.txt"
kjv_sha256=82fa5f3788c6a9a010fb128a0f0bf588984b5888a82058520620eded59b033ea
words="$dest/american-english.txt"
words_sha256=9f513f1ceadb6a01c5485b7dbdfd5118dc66cd70b59cae2851292112d4066a32

# package=version sha256-of-the-.deb
debs=(
  "bible-kjv-text=4.38 d61b6aad4c51ba9e2800b825325fa6a09e99a0d02a9bb6dc4724fcc4995a1b7a"
  "bible-kjv=4.38 75a49c032a6efa9faa2beb4a9acb70974380122906329d0e100de36cc88ff02d"
  "wamerican=2020.12.07-2 c8f8e2b2ad0d37bfdd41f0e40f1e4c8e5f907467d768a1d3698b164e9617f0b4"
)

verify() { echo "$1  $2" | sha256sum --check --status; }

if [ -f "$kjv" ] && verify "$kjv_sha256" "$kjv" && [ -f "$words" ] && verify "$words_sha256" "$words"; then
  exit 0
fi
for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "fetch-corpus: $tool is missing (a Debian system is needed)" >&2; exit 1; }
done
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for entry in "${debs[@]}"; do
  pkg=${entry%% *}
  sha=${entry##* }
  echo "fetch-corpus: downloading $pkg from Debian" >&2
  if ! (cd "$tmp" && apt-get download -q=2 "$pkg" 2>/dev/null); then
    # A fresh machine may have no package index yet: refresh it once (as root) and try again.
    if [ "$(id -u)" = 0 ] && [ -z "${updated:-}" ]; then
      echo "fetch-corpus: refreshing the package index (apt-get update)" >&2
      apt-get update -q=2 >/dev/null
      updated=1
    fi
    (cd "$tmp" && apt-get download -q=2 "$pkg" 2>/dev/null) || {
      echo "fetch-corpus: apt-get download $pkg failed (is the package index current? apt-get update)" >&2
      exit 1
    }
  fi
  file=$(ls "$tmp"/"${pkg%%=*}"_*.deb)
  verify "$sha" "$file" || { echo "fetch-corpus: $(basename "$file") does not match its pinned SHA-256" >&2; exit 1; }
  dpkg-deb -x "$file" "$tmp/root"
done

"$tmp/root/usr/bin/bible" -p "$tmp/root/usr/lib" "gen1:1-rev22:21" >"$tmp/kjv.txt"
verify "$kjv_sha256" "$tmp/kjv.txt" || { echo "fetch-corpus: the dumped Bible text does not match its pinned SHA-256" >&2; exit 1; }
cp "$tmp/root/usr/share/dict/american-english" "$tmp/words.txt"
verify "$words_sha256" "$tmp/words.txt" || { echo "fetch-corpus: american-english does not match its pinned SHA-256" >&2; exit 1; }
mv "$tmp/kjv.txt" "$kjv"
mv "$tmp/words.txt" "$words"
echo "fetch-corpus: installed $kjv and $words" >&2
