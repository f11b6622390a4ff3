#!/usr/bin/env bash
# Runs on a GPU runner (see tools/device_kit.sh): installs the Vulkan loader,
# unpacks Deno, and runs `deno task bench`'s bundle on WebGPU next to PyTorch
# on CUDA (JSON lines to stdout and $OUT/bench.jsonl), then the kernel profile
# of the paper's configuration's training step ($OUT/profile.txt).
set -uo pipefail
kit="$(cd "$(dirname "$0")/.." && pwd)/.devicekit"
for f in "$kit"/gl/*.deb; do dpkg -x "$f" /; done
ldconfig
nvidia=/usr/local/nvidia/share
[ -f $nvidia/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=$nvidia/vulkan/icd.d/nvidia_icd.json
[ -f $nvidia/glvnd/egl_vendor.d/10_nvidia.json ] &&
  export __EGL_VENDOR_LIBRARY_FILENAMES=$nvidia/glvnd/egl_vendor.d/10_nvidia.json
xz -dc "$kit/deno.xz" >/tmp/deno && chmod +x /tmp/deno
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
out="${OUT:-/tmp}"
cd "$kit"
STARS_BACKEND=webgpu STARS_PYTHON=python3 STARS_TORCH_REF="$kit/torch_looped_ref.py" NO_COLOR=1 \
  /tmp/deno run -A --no-config bench.js 2>&1 | tee "$out/bench.jsonl"
STARS_BACKEND=webgpu STARS_PROFILE_CONFIG=paper NO_COLOR=1 \
  timeout 150 /tmp/deno run -A --no-config profile.js 2>&1 | tee "$out/profile.txt"
