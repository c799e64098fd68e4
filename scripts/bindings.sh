#!/usr/bin/env bash
# Builds the haven-ffi shared library, generates its Kotlin, Swift and Python bindings with the workspace's
# uniffi-bindgen (same UniFFI version), and with `test` runs the binding tests:
#   - Python: the `haven` package (bindings/python) with pytest, in .haven/bindings-venv (pinned, hashed);
#   - Kotlin: bindings/kotlin/src compiled with the npm `kotlin-compiler` (pinned in bindings/kotlin/package-lock.json)
#     against JNA from Debian (libjna-java), run on the JVM;
#   - Swift: generated only (no Swift toolchain here); checked for completeness against the exported API.
# Usage: scripts/bindings.sh [generate|test|size]. Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-generate}
out=target/bindings
lib=target/debug/libhaven_ffi.so
say() { echo "bindings: $*" >&2; }

generate() {
  say "building haven-ffi and uniffi-bindgen"
  # Built on their own, so that uniffi-bindgen's `cli` feature never reaches the shared library.
  cargo build --quiet --locked -p haven-ffi
  cargo build --quiet --locked -p uniffi-bindgen -p haven-daemon --bin uniffi-bindgen --bin haven
  rm -rf "$out"
  for language in python kotlin swift; do
    target/debug/uniffi-bindgen generate "$lib" --language "$language" --out-dir "$out/$language" --no-format >/dev/null
  done
  cp "$out/python/haven_ffi.py" "$lib" bindings/python/haven/
  say "generated $out/{python,kotlin,swift}"
}

check_swift() {
  # Every function and method the library exports has its Swift counterpart.
  local swift="$out/swift/Haven.swift" missing=0
  [ -f "$swift" ] || { say "no Swift module generated"; exit 1; }
  for name in checkUrl checkText checkConversation maskText checkImage checkImageAsync pdqHash matchImage \
    matchImageAsync setProfile profile reload HavenConfig Profile Verdict Evidence Message HelpPointer HashMatch \
    PdqHash ChatMessage CategoryScore HavenError; do
    grep -q "\b$name\b" "$swift" || { say "Swift binding lacks $name"; missing=1; }
  done
  [ "$missing" = 0 ] || exit 1
  grep -q "async throws" "$swift" || { say "Swift binding has no async functions"; exit 1; }
  say "Swift: $(grep -c 'public func' "$swift") public functions, complete"
}

test_python() {
  local venv=.haven/bindings-venv req=bindings/python/requirements.txt
  local sha; sha=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$sha" ]; then
    say "installing $req into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$req" >&2
    echo "$sha" > "$venv/.requirements"
  fi
  say "Python: pytest"
  (cd bindings/python && HAVEN_BIN="$PWD/../../target/debug/haven" PYTHONPATH=. "../../$venv/bin/python" -m pytest -q -p no:cacheprovider)
}

jna_jar() {
  if [ ! -f /usr/share/java/jna.jar ]; then
    say "installing JNA from Debian (libjna-java)"
    if [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q=2 libjna-java >/dev/null 2>&1 || {
        apt-get update -q=2 >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q=2 libjna-java >/dev/null
      }
    else
      say "JNA is missing: apt-get install libjna-java (as root)"; exit 1
    fi
  fi
  echo /usr/share/java/jna.jar
}

test_kotlin() {
  command -v java >/dev/null || { say "java is missing (apt-get install openjdk-17-jdk-headless)"; exit 1; }
  local kdir=bindings/kotlin
  if [ ! -x "$kdir/node_modules/kotlin-compiler/bin/kotlinc" ]; then
    say "installing kotlin-compiler from npm (package-lock.json, integrity-checked)"
    (cd "$kdir" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
  local kc="$kdir/node_modules/kotlin-compiler"
  local jna; jna=$(jna_jar)
  local coroutines; coroutines=$(ls "$kc"/lib/kotlinx-coroutines-core-jvm*.jar | head -n 1)
  local classpath="$jna:$coroutines"
  local jar=$out/kotlin-tests.jar
  say "Kotlin: compiling the binding and its tests"
  "$kc/bin/kotlinc" -nowarn -cp "$classpath" "$out/kotlin" "$kdir/src" -d "$jar" 2>&1 | grep -v '^warning' >&2 || true
  [ -f "$jar" ] || { say "Kotlin compilation failed"; exit 1; }
  say "Kotlin: running the tests"
  HAVEN_BIN="$PWD/target/debug/haven" java -Djna.library.path="$PWD/target/debug" \
    -cp "$jar:$classpath:$kc/lib/kotlin-stdlib.jar" org.haven.tests.BindingTestsKt
}

size() {
  cargo build --quiet --locked --release -p haven-ffi
  local stripped=$out/libhaven_ffi.stripped.so
  mkdir -p "$out"
  strip -o "$stripped" target/release/libhaven_ffi.so
  echo "release libhaven_ffi.so: $(stat -c %s target/release/libhaven_ffi.so) bytes, stripped: $(stat -c %s "$stripped") bytes"
}

case "$mode" in
  generate) generate; check_swift ;;
  test) generate; check_swift; test_python; test_kotlin ;;
  size) size ;;
  *) echo "usage: scripts/bindings.sh [generate|test|size]" >&2; exit 2 ;;
esac
