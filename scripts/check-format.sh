#!/usr/bin/env bash
# Fails when any tracked C++ file differs from what clang-format-14 makes of it with the
# checked-in .clang-format. Fix with: git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 -i
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find . -path ./build -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print)
# shellcheck disable=SC2086
clang-format-14 --dry-run -Werror $files
echo "clang-format: $(echo "$files" | wc -w) files formatted"
