#!/usr/bin/env bash
# Installs a release build under PREFIX (default /usr/local):
#   PREFIX/bin/cnnpipe, PREFIX/lib/cnnpipe/plugins/*.so, PREFIX/include/cnnpipe/{cnnpipe_plugin.h,module.modulemap},
#   PREFIX/share/cnnpipe/presets/*.yaml, PREFIX/share/cnnpipe/models/* (when fetched),
#   PREFIX/share/cnnpipe/spark/tag_library.py (the Spark job, docs/SCALE-OUT.md),
#   PREFIX/share/man/man1/cnnpipe*.1 (one page per command; `man cnnpipe`, `man cnnpipe.faces.tag`),
#   bash, zsh and fish completions under PREFIX/share (where each shell looks for vendor completions)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
install -d "$prefix/bin" "$prefix/lib/cnnpipe/plugins" "$prefix/include/cnnpipe" "$prefix/share/cnnpipe/presets"
install -m 755 "$bin/cnnpipe" "$prefix/bin/cnnpipe"
install -m 755 "$bin"/lib*.so "$prefix/lib/cnnpipe/plugins/"
install -m 644 Sources/CNNPipeABI/include/cnnpipe_plugin.h "$prefix/include/cnnpipe/"
printf 'module CNNPipeABI {\n    header "cnnpipe_plugin.h"\n    export *\n}\n' > "$prefix/include/cnnpipe/module.modulemap"
install -m 644 presets/*.yaml "$prefix/share/cnnpipe/presets/"
install -d "$prefix/share/cnnpipe/spark" && install -m 755 scripts/spark/tag_library.py "$prefix/share/cnnpipe/spark/"
if compgen -G "${CNNPIPE_MODELS:-models}/*" >/dev/null; then      # models fetched by scripts/setup-models.sh
  install -d "$prefix/share/cnnpipe/models"
  install -m 644 "${CNNPIPE_MODELS:-models}"/* "$prefix/share/cnnpipe/models/"
fi
# Manual pages and completions, generated from the command definitions (swift-argument-parser).
swift package --allow-writing-to-package-directory generate-manual --multi-page >/dev/null
install -d "$prefix/share/man/man1"
install -m 644 .build/plugins/GenerateManual/outputs/cnnpipe/*.1 "$prefix/share/man/man1/"
install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
"$bin/cnnpipe" --generate-completion-script bash > "$prefix/share/bash-completion/completions/cnnpipe"
"$bin/cnnpipe" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_cnnpipe"
"$bin/cnnpipe" --generate-completion-script fish > "$prefix/share/fish/vendor_completions.d/cnnpipe.fish"
echo "installed cnnpipe into $prefix" >&2
