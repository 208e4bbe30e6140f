#!/usr/bin/env bash
# install.sh — `make install` gives a usable library: installs the build into a temporary prefix
# (cmake --install, what `make install PREFIX=...` runs) and into a DESTDIR staging tree, checks the
# files, then builds a C program outside the source tree with `pkg-config --cflags --libs silica`
# (shared, and static with --static) and runs it.
# Usage: tests/install.sh BUILD_DIR [CC]   (run from the repository root; ctest does)
set -u
BUILD=${1:?usage: tests/install.sh BUILD_DIR [CC]}
CC=${2:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0
bad() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}

if ! command -v pkg-config >/dev/null 2>&1; then
  echo "FAIL: pkg-config is not installed (scripts/install-deps installs it)" >&2
  exit 1
fi

# ---- install into a prefix ----------------------------------------------------------------------
P=$TMP/prefix
cmake --install "$BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; exit 1; }
LIBDIR=$(dirname "$(find "$P" -name silica.pc -path '*/pkgconfig/*' | head -1)")/..
LIBDIR=$(cd "$LIBDIR" && pwd)
for f in bin/silica include/silica.h share/man/man1/silica.1 share/silica/python/silica/__init__.py; do
  [[ -f $P/$f ]] || bad "not installed: $f"
done
for f in libsilica.so libsilica.a pkgconfig/silica.pc; do
  [[ -e $LIBDIR/$f ]] || bad "not installed: $LIBDIR/$f"
done
grep -q "^prefix=$P\$" "$LIBDIR/pkgconfig/silica.pc" || bad "silica.pc does not name the prefix $P"
"$P/bin/silica" --version | grep -q '^silica ' || bad "the installed silica does not run"

# ---- the Python binding, installed beside it, finds the installed library by itself -------------
[[ -f $P/share/silica/python/silica/__init__.py ]] || bad "not installed: share/silica/python/silica"
if command -v python3 >/dev/null 2>&1; then
  py=$(cd "$TMP" && env -u SILICA_LIB PYTHONPATH="$P/share/silica/python" python3 -c \
    'import silica; print(silica.library_path(), silica.chip("h100-sxm")["peak_tflops"]["bf16"])' 2>&1) ||
    bad "the installed Python binding does not work: $py"
  [[ $py == "$LIBDIR/libsilica.so "* ]] || bad "the installed Python binding did not load $LIBDIR/libsilica.so: $py"
fi

# ---- a program outside the tree ------------------------------------------------------------------
mkdir -p "$TMP/consumer"
cat >"$TMP/consumer/main.c" <<'EOF'
/* Built against the installed libsilica only (pkg-config). */
#include <silica.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  sl_error err;
  sl_scenario *sc = NULL;
  const char *set[] = {"task=decode", "infer.batch=1", "infer.prompt_len=1024"};
  if (sl_scenario_load(NULL, "{chip: h100-sxm, model: llama3.1-8b}", set, 3, &sc, &err) != SL_OK) {
    char line[1024];
    sl_error_format(&err, line, sizeof line);
    fprintf(stderr, "load: %s\n", line);
    return 1;
  }
  sl_result *res = NULL;
  if (sl_scenario_run(sc, &res, &err) != SL_OK) return 1;
  double t = sl_result_number(res, "step_time_s");
  char *json = sl_result_json(res);
  const char *kind = json ? sl_report_kind(json, strlen(json)) : NULL;
  char *chip = NULL;
  if (sl_chip_json("mtia-2i", &chip, &err) != SL_OK) return 1;
  printf("silica %s: step %.6f s, report kind %s, chip json %s\n", sl_version(), t, kind ? kind : "-",
         strstr(chip, "\"peak_tflops\"") ? "ok" : "bad");
  sl_free(chip);
  sl_free(json);
  sl_result_free(res);
  sl_scenario_free(sc);
  return t > 0 && kind && strcmp(kind, "run") == 0 ? 0 : 1;
}
EOF
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
flags=$(pkg-config --cflags --libs silica) || bad "pkg-config --cflags --libs silica failed"
(cd "$TMP/consumer" && $CC -std=c11 -Wall -Wextra -Werror main.c $flags -o shared) ||
  bad "cannot build against the installed shared library: $CC main.c $flags"
if [[ -x $TMP/consumer/shared ]]; then
  out=$(cd "$TMP" && LD_LIBRARY_PATH=$LIBDIR consumer/shared) || bad "the program (shared) failed: $out"
  LD_LIBRARY_PATH=$LIBDIR ldd "$TMP/consumer/shared" | grep -q "$LIBDIR/libsilica.so" || bad "the program does not use the installed libsilica.so"
  echo "shared: $out"
fi
sflags=$(pkg-config --cflags --static --libs silica | sed 's/-lsilica/-Wl,-Bstatic -lsilica -Wl,-Bdynamic/')
(cd "$TMP/consumer" && $CC -std=c11 main.c $sflags -o static) ||
  bad "cannot build against the installed static library: $CC main.c $sflags"
if [[ -x $TMP/consumer/static ]]; then
  ! ldd "$TMP/consumer/static" | grep -q libsilica || bad "the static program still needs libsilica.so"
  out=$(cd "$TMP" && consumer/static) || bad "the program (static) failed: $out"
  echo "static: $out"
fi

# ---- DESTDIR staging (what a package build does) ------------------------------------------------
S=$TMP/stage
DESTDIR=$S cmake --install "$BUILD" --prefix /opt/silica >"$TMP/stage.log" 2>&1 || { cat "$TMP/stage.log" >&2; exit 1; }
[[ -x $S/opt/silica/bin/silica && -f $S/opt/silica/include/silica.h ]] || bad "DESTDIR: files not under $S/opt/silica"
spc=$(find "$S" -name silica.pc | head -1)
[[ -n $spc ]] && grep -q '^prefix=/opt/silica$' "$spc" || bad "DESTDIR: silica.pc does not name the final prefix /opt/silica"
if [[ -n $spc ]]; then
  flags=$(PKG_CONFIG_SYSROOT_DIR=$S PKG_CONFIG_PATH=$(dirname "$spc") pkg-config --cflags --libs silica)
  (cd "$TMP/consumer" && $CC -std=c11 main.c $flags -o staged) || bad "cannot build against the DESTDIR tree: $flags"
  [[ -x $TMP/consumer/staged ]] &&
    { (cd "$TMP" && LD_LIBRARY_PATH=$(dirname "$(dirname "$spc")") consumer/staged >/dev/null) || bad "staged program failed"; }
fi

if [[ $failed -ne 0 ]]; then
  echo "install.sh: $failed failure(s)" >&2
  exit 1
fi
echo "install.sh: installed into a prefix and a DESTDIR; a program outside the tree builds with pkg-config (shared and static) and runs"
