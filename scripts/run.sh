#!/usr/bin/env bash
# Haven's main job. Until the havend daemon lands, this builds the `haven` CLI and checks sample URLs against the
# sample profiles in fixtures/profiles; with arguments it runs `haven` with them instead
# (e.g. `scripts/run.sh check url --age 10 https://example.com/`). Needs only the Rust toolchain. Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p haven-daemon --bin haven
haven=target/release/haven

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
