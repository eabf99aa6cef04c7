#!/usr/bin/env bash
# Prints the SHA-256 that identifies the shim's sources: the sha256 of the `sha256sum` listing
# ("<hex>  <path>\n" per file, paths relative to native/, sorted bytewise) of
# include/typedtrt_shim.h and every file in src/. The shim embeds it (TTRT_SOURCE_SHA256, reported by
# ttrt_source_hash), the prebuilt shims' manifest records it, and
# tests/TypedTrt.TensorRT.Tests/PrebuiltShimTests.cs recomputes it from the tree (same rule), so a
# committed binary can never silently be older than the sources. Usage: native/source-hash.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export LC_ALL=C
files=$( (echo include/typedtrt_shim.h; find src -type f) | sort)
# shellcheck disable=SC2086
sha256sum $files | sha256sum | cut -d' ' -f1
