#!/usr/bin/env bash
# Rebuilds the co-writing browser bundle from the npm registry:
#   static/vendor/coedit-<yjs version>/coedit.bundle.js   (one minified ES module)
#   static/vendor/coedit-<yjs version>/VERSIONS.txt       (package, exact version, licence)
#   static/vendor/coedit-<yjs version>/licenses/*.LICENSE (each package's licence file)
# The built files are committed; the app needs no build step. Run from anywhere:
#   bash static/vendor/build-coedit.sh
# Needs node and npm. To move to newer versions, edit the pins below and rerun.
set -euo pipefail

VENDOR_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENTRY="$VENDOR_DIR/coedit-entry.js"

# Exact pins. Bundled packages first; esbuild is the build tool only.
PACKAGES=(
  "yjs@13.6.33"
  "y-protocols@1.0.7"
  "lib0@0.2.120"
  "y-codemirror.next@0.3.6"
  "y-indexeddb@9.0.12"
  "@codemirror/state@6.7.6"
  "@codemirror/view@6.43.15"
  "@codemirror/commands@6.11.1"
  "@codemirror/language@6.13.1"
  "@codemirror/lang-markdown@6.5.2"
  "esbuild@0.28.2"
)

YJS_VERSION=""
for spec in "${PACKAGES[@]}"; do
  if [[ "$spec" == yjs@* ]]; then YJS_VERSION="${spec#yjs@}"; fi
done
OUT_DIR="$VENDOR_DIR/coedit-$YJS_VERSION"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# package.json with the exact pins.
{
  echo '{'
  echo '  "name": "pdz-coedit-build",'
  echo '  "private": true,'
  echo '  "version": "0.0.0",'
  echo '  "dependencies": {'
  n=${#PACKAGES[@]}
  i=0
  for spec in "${PACKAGES[@]}"; do
    i=$((i + 1))
    name="${spec%@*}"
    version="${spec##*@}"
    sep=","
    [[ $i -eq $n ]] && sep=""
    printf '    "%s": "%s"%s\n' "$name" "$version" "$sep"
  done
  echo '  }'
  echo '}'
} > "$WORK/package.json"

cp "$ENTRY" "$WORK/entry.js"

echo "Installing pinned packages in $WORK ..."
(cd "$WORK" && npm install --no-audit --no-fund --save-exact --loglevel=error)

# Exactly one yjs in node_modules, else the bundle would hold two Yjs instances
# ("Yjs was already imported. This breaks constructor checks ...").
yjs_copies="$(cd "$WORK" && find node_modules -type f -path '*/yjs/package.json' | wc -l)"
if [[ "$yjs_copies" -ne 1 ]]; then
  echo "ERROR: $yjs_copies copies of yjs in node_modules (want exactly 1)" >&2
  (cd "$WORK" && find node_modules -type f -path '*/yjs/package.json') >&2
  exit 1
fi

# Licences: every package that ends up in the bundle (plus esbuild), direct or
# transitive, must be permissive. Fail loudly on GPL/AGPL/LGPL/SSPL or unknown.
rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR/licenses"

echo "Bundling ..."
(cd "$WORK" && ./node_modules/.bin/esbuild entry.js \
  --bundle --format=esm --target=es2019 --minify \
  --legal-comments=none --charset=utf8 \
  --metafile=meta.json \
  --outfile="$OUT_DIR/coedit.bundle.js" --log-level=warning)

# Packages actually in the bundle, from esbuild's metafile, plus the pinned ones.
(cd "$WORK" && node -e '
  const meta = require("./meta.json");
  const names = new Set();
  for (const p of Object.keys(meta.inputs)) {
    const m = p.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
    if (m) names.add(m[m.length - 1].replace(/^node_modules\//, "").replace(/\/$/, ""));
  }
  console.log([...names].sort().join("\n"));
' > bundled.txt)
for spec in "${PACKAGES[@]}"; do echo "${spec%@*}"; done >> "$WORK/bundled.txt"
sort -u "$WORK/bundled.txt" -o "$WORK/bundled.txt"

{
  echo "Co-writing bundle coedit.bundle.js, built by static/vendor/build-coedit.sh"
  echo "from static/vendor/coedit-entry.js with esbuild (esm, es2019, minified)."
  echo "esbuild is the build tool only; the others are every package the entry's imports reach (direct and transitive)."
  echo
  printf '%-32s %-10s %s\n' "package" "version" "licence"
} > "$OUT_DIR/VERSIONS.txt"

while read -r pkg; do
  [[ -z "$pkg" ]] && continue
  dir="$WORK/node_modules/$pkg"
  if [[ ! -f "$dir/package.json" ]]; then
    echo "ERROR: $pkg not found in node_modules" >&2
    exit 1
  fi
  read -r version license < <(node -e '
    const p = require(process.argv[1]);
    let l = p.license || (Array.isArray(p.licenses) ? p.licenses.map(x => x.type || x).join(" OR ") : p.licenses && p.licenses.type) || "UNKNOWN";
    if (typeof l === "object") l = l.type || "UNKNOWN";
    console.log(p.version, l.replace(/\s+/g, "_"));
  ' "$dir/package.json")
  license="${license//_/ }"
  case "$license" in
    *GPL*|*SSPL*|*UNKNOWN*|*UNLICENSED*)
      echo "ERROR: $pkg@$version has licence '$license': not allowed in the bundle" >&2
      exit 1 ;;
    MIT|ISC|BSD-2-Clause|BSD-3-Clause|Apache-2.0|0BSD|"(MIT OR Apache-2.0)") ;;
    *)
      echo "ERROR: $pkg@$version has licence '$license': not on the permissive list, check it by hand" >&2
      exit 1 ;;
  esac
  lic_file="$(find "$dir" -maxdepth 1 -type f \( -iname 'LICEN[CS]E*' -o -iname 'COPYING*' \) | head -n 1)"
  if [[ -z "$lic_file" ]]; then
    echo "ERROR: $pkg@$version ships no LICENSE file" >&2
    exit 1
  fi
  if grep -qiE 'GNU (AFFERO |LESSER )?GENERAL PUBLIC LICENSE' "$lic_file"; then
    echo "ERROR: $pkg@$version LICENSE file is a GPL text" >&2
    exit 1
  fi
  cp "$lic_file" "$OUT_DIR/licenses/${pkg//\//__}.LICENSE"
  printf '%-32s %-10s %s\n' "$pkg" "$version" "$license" >> "$OUT_DIR/VERSIONS.txt"
done < "$WORK/bundled.txt"

# One Yjs instance in the bundle: yjs sets a single global guard
# ("__ $YJS$ __") and warns "Yjs was already imported" when it sees a second.
guards="$(grep -o 'Yjs was already imported' "$OUT_DIR/coedit.bundle.js" | wc -l)"
if [[ "$guards" -ne 1 ]]; then
  echo "ERROR: found $guards Yjs import guards in the bundle (want exactly 1)" >&2
  exit 1
fi

size="$(wc -c < "$OUT_DIR/coedit.bundle.js")"
gz="$(gzip -c "$OUT_DIR/coedit.bundle.js" | wc -c)"
echo "Built $OUT_DIR/coedit.bundle.js: $size bytes, $gz bytes gzipped"
