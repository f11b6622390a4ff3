#!/usr/bin/env bash
# Builds .devicekit/ (git-ignored) for a GPU runner that has no Deno and no
# network: the benchmark and the profiler bundled, the Deno binary compressed,
# PyTorch's reference script, and the Vulkan/EGL loaders from Debian.
# Then, with the device tool: run `bash tools/device_run.sh` with carry
# [".devicekit"] (about 35 MB travels).
set -euo pipefail
cd "$(dirname "$0")/.."
kit=.devicekit
mkdir -p "$kit/gl"
deno bundle --quiet --platform deno -o "$kit/bench.js" bench/main.ts
deno bundle --quiet --platform deno -o "$kit/profile.js" bench/profile.ts
cp bench/torch_looped_ref.py "$kit/"
[ -f "$kit/deno.xz" ] || xz -T2 -6 -c "$(command -v deno | xargs readlink -f)" >"$kit/deno.xz"
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
# shellcheck disable=SC2086
apt-get $o update -qq
# shellcheck disable=SC2086
(cd "$kit/gl" && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh "$kit"
