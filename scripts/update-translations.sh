#!/usr/bin/env bash
# Regenerates resources/translations/takestock_<lang>.ts from the UI's sources, keeping
# every existing translation, then compiles each .ts to the .qm that ships.
#
#   scripts/update-translations.sh          update the .ts files and build the .qm files
#   scripts/update-translations.sh --qm     only build the .qm files (after translating)
#   scripts/update-translations.sh --check  list user-visible literals that skip tr
#
# New strings arrive as unfinished (the app shows them in English) until someone writes
# their <translation> in the .ts (Qt Linguist: .venv/bin/pyside6-linguist FILE.ts) and
# runs this again. Strings no longer in the sources are dropped (-no-obsolete).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

languages=(zh_CN)
ts_dir=resources/translations
stubs=build/i18n-stubs

tool() {
  if [[ -x .venv/bin/$1 ]]; then echo ".venv/bin/$1"; else command -v "$1" || {
    echo "update-translations: $1 not found; run 'make' first (PySide6 ships it)" >&2
    exit 1
  }; fi
}
python=$([[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3)

mapfile -t sources < <(
  find desktop/takestock/ui -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort
  echo desktop/takestock/self_test.py
)

case "${1:-}" in
  --check)
    exec "$python" scripts/translation_sources.py check "${sources[@]}"
    ;;
  --qm) ;;
  "")
    lupdate=$(tool pyside6-lupdate)
    rm -rf "$stubs"
    # Strings lupdate cannot follow alone (module helpers such as _tr, lists of
    # column titles): stubs at the same line numbers, pointed back at the sources.
    "$python" scripts/translation_sources.py stubs "$stubs" "${sources[@]}"
    mapfile -t stub_files < <(find "$stubs" -name '*.py' 2>/dev/null | LC_ALL=C sort)
    mkdir -p "$ts_dir"
    for lang in "${languages[@]}"; do
      ts="$ts_dir/takestock_$lang.ts"
      "$lupdate" -silent -no-obsolete -locations absolute -source-language en \
        -target-language "$lang" "${sources[@]}" "${stub_files[@]}" -ts "$ts"
      "$python" scripts/translation_sources.py tidy "$ts" "$stubs"
    done
    rm -rf "$stubs"
    rmdir build 2>/dev/null || true
    ;;
  *)
    sed -n '2,11p' "$0" >&2
    exit 64
    ;;
esac

lrelease=$(tool pyside6-lrelease)
for lang in "${languages[@]}"; do
  ts="$ts_dir/takestock_$lang.ts"
  "$lrelease" -silent "$ts" -qm "$ts_dir/takestock_$lang.qm"
  unfinished=$(grep -c 'type="unfinished"' "$ts" || true)
  echo "update-translations: $ts: $(grep -c '<message' "$ts") strings, $unfinished unfinished"
done
