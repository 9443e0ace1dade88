#!/usr/bin/env bash
# Validates the fixture's speedscope files with speedscope's schema (npm
# speedscope + ajv, installed by scripts/npm-tools from scripts/setup).
# Fails when node or the packages are missing.
set -euo pipefail
writer=$1
work=$2
modules=$3
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "check_speedscope: node is missing: run scripts/setup" >&2; exit 1; }
[[ -f $modules/speedscope/dist/release/file-format-schema.json && -d $modules/ajv ]] ||
  { echo "check_speedscope: speedscope/ajv missing under $modules: run scripts/setup" >&2; exit 1; }
rm -rf "$work/out"
mkdir -p "$work/out"
"$writer" "$work/out"
node "$here/validate_speedscope.js" "$modules" "$work/out"/*.speedscope.json
