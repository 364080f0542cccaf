#!/usr/bin/env bash
# Installs a release build under PREFIX (default /usr/local):
#   PREFIX/bin/cnnpipe, PREFIX/lib/cnnpipe/plugins/*.so, PREFIX/include/cnnpipe/{cnnpipe_plugin.h,module.modulemap},
#   PREFIX/lib/cnnpipe/swift/*.so (the Swift runtime libraries: the prefix runs without the toolchain; it
#   still needs the Debian libraries of scripts/setup.sh --deps: OpenBLAS, libjpeg, libpng, libwebp, FreeType),
#   PREFIX/share/cnnpipe/presets/*.yaml (and share/cnnpipe/styles: the paintings they name), PREFIX/share/cnnpipe/models/* (when fetched),
#   PREFIX/share/cnnpipe/spark/tag_library.py (the Spark job, docs/SCALE-OUT.md),
#   PREFIX/share/man/man1/cnnpipe*.1 (one page per command; `man cnnpipe`, `man cnnpipe.faces.tag`),
#   bash, zsh and fish completions under PREFIX/share (where each shell looks for vendor completions)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
# CNNPIPE_BIN=DIR: install that folder's build as it is (no build, no manual pages: the tests do this,
# as SwiftPM cannot run inside `swift test`).
if [ -n "${CNNPIPE_BIN:-}" ]; then
  bin=$CNNPIPE_BIN
else
  swift build -c release >/dev/null
  bin=$(swift build -c release --show-bin-path)
fi
install -d "$prefix/bin" "$prefix/lib/cnnpipe/plugins" "$prefix/include/cnnpipe" "$prefix/share/cnnpipe/presets"
install -m 755 "$bin/cnnpipe" "$prefix/bin/cnnpipe"
install -m 755 "$bin"/lib*.so "$prefix/lib/cnnpipe/plugins/"
# The Swift runtime libraries the binary and plugins load, so the prefix runs without the toolchain
# (they look in lib/cnnpipe/swift after the toolchain's folder: see Package.swift).
toolchain=$(realpath "$(dirname "$(realpath "$(command -v swiftc)")")/../lib/swift/linux")
install -d "$prefix/lib/cnnpipe/swift"
ldd "$prefix/bin/cnnpipe" "$prefix"/lib/cnnpipe/plugins/*.so \
    | awk -v dir="$toolchain/" 'index($3, dir) == 1 { print $3 }' | sort -u \
    | xargs -r install -m 644 -t "$prefix/lib/cnnpipe/swift"
install -m 644 Sources/CNNPipeABI/include/cnnpipe_plugin.h "$prefix/include/cnnpipe/"
printf 'module CNNPipeABI {\n    header "cnnpipe_plugin.h"\n    export *\n}\n' > "$prefix/include/cnnpipe/module.modulemap"
install -m 644 presets/*.yaml "$prefix/share/cnnpipe/presets/"
# Files a preset names by a path relative to presets/ that leaves it (the classic presets' public-domain
# paintings from ../shared/corpus) go into share/cnnpipe/styles, and the installed preset points there.
install -d "$prefix/share/cnnpipe/styles"
for preset in presets/*.yaml; do
  for ref in $(grep -oE '(\.\./)+[^,: ]+' "$preset" | sort -u); do
    if [ -f "presets/$ref" ]; then
      install -m 644 "presets/$ref" "$prefix/share/cnnpipe/styles/"
      sed -i "s|$ref|../styles/$(basename "$ref")|g" "$prefix/share/cnnpipe/presets/$(basename "$preset")"
    else
      echo "install: $preset names $ref, which is missing here: that preset will need --set" >&2
    fi
  done
done
install -d "$prefix/share/cnnpipe/spark" && install -m 755 scripts/spark/tag_library.py "$prefix/share/cnnpipe/spark/"
if compgen -G "${CNNPIPE_MODELS:-models}/*" >/dev/null; then      # models fetched by scripts/setup-models.sh
  install -d "$prefix/share/cnnpipe/models"
  install -m 644 "${CNNPIPE_MODELS:-models}"/* "$prefix/share/cnnpipe/models/"
fi
# Manual pages and completions, generated from the command definitions (swift-argument-parser).
if [ -z "${CNNPIPE_BIN:-}" ]; then
  swift package --allow-writing-to-package-directory generate-manual --multi-page >/dev/null
  install -d "$prefix/share/man/man1"
  install -m 644 .build/plugins/GenerateManual/outputs/cnnpipe/*.1 "$prefix/share/man/man1/"
fi
install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
"$bin/cnnpipe" --generate-completion-script bash > "$prefix/share/bash-completion/completions/cnnpipe"
"$bin/cnnpipe" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_cnnpipe"
"$bin/cnnpipe" --generate-completion-script fish > "$prefix/share/fish/vendor_completions.d/cnnpipe.fish"
echo "installed cnnpipe into $prefix" >&2
