#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints (warnings are errors), then every test.
# Needs only the Rust toolchain (cargo, rustfmt, clippy); crates come from crates.io. Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { echo "scripts/test.sh: $tool is missing (install the Rust toolchain with rustfmt and clippy)" >&2; exit 1; }
done

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
