#!/usr/bin/env bash
# The installed package as its users meet it (tests/CMakeLists.txt registers
# one ctest test per step, Package.*; docs/api.md describes the package):
#   install             cmake --install into a scratch prefix; the files, the
#                       SONAME, no build-machine paths in the CMake export
#   find-package        examples/ configured with find_package(deepnet), built
#                       and run (train, then predict on the saved model)
#   find-package-static the same, linked with deepnet::deepnet_static
#   pkg-config          examples/train.cpp and predict.cpp built with plain
#                       g++ $(pkg-config --cflags --libs deepnet) and run
#   pkg-config-static   the same with pkg-config --static against a copy of the
#                       prefix that has only libdeepnet.a; and libdeepnet.a
#                       linked into a shared object (it must be PIC)
#   add-subdirectory    a project that takes the source tree in with
#                       add_subdirectory, built and run
# Usage: consumer_test.sh STEP BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR VERSION
# (LIBDIR: CMAKE_INSTALL_LIBDIR, relative to the prefix). Environment: CMAKE,
# CXX, PKG_CONFIG (default: cmake, c++, pkg-config).
set -euo pipefail

step=$1 build=$2 source=$3 work=$4 libdir=$5 version=$6
cmake=${CMAKE:-cmake}
cxx=${CXX:-c++}
pkg_config=${PKG_CONFIG:-pkg-config}
prefix=$work/prefix
unset DESTDIR  # the install goes to $prefix itself

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# Runs `train MODEL`, then `predict MODEL`, and checks what they print: the
# version from deepnet/version.hpp, and accuracies a working library reaches on
# breast cancer (the trained net reaches 0.98 on the held-out quarter).
run_programs() {  # train_binary predict_binary folder
  local train=$1 predict=$2 dir=$3 out
  out=$("$train" "$dir/model.dnn") || fail "$train failed: $out"
  echo "$out"
  grep -q "^deepnet $version: 30-16-1 relu/sigmoid on breast-cancer" <<<"$out" ||
    fail "train did not print 'deepnet $version: 30-16-1 relu/sigmoid on breast-cancer'"
  [ -s "$dir/model.dnn" ] || fail "train saved no model"
  awk '/^test accuracy:/ { found = 1; if ($3 < 0.9) exit 1 } END { exit !found }' <<<"$out" ||
    fail "test accuracy missing or below 0.9"
  out=$("$predict" "$dir/model.dnn") || fail "$predict failed: $out"
  echo "$out"
  awk '/^accuracy:/ { found = 1; if ($2 < 0.9) exit 1 } END { exit !found }' <<<"$out" ||
    fail "predict's accuracy missing or below 0.9"
  # A damaged model file must be refused (the library's checks, not a crash).
  printf 'not a model' >"$dir/bad.dnn"
  if out=$("$predict" "$dir/bad.dnn" 2>&1); then fail "predict accepted a damaged model file"; fi
  grep -q "^predict: .*bad.dnn" <<<"$out" || fail "predict's error does not name the file: $out"
}

# The shared library a program loads: libdeepnet.so.0 from $1, or (with $1
# empty) none at all.
check_libdeepnet() {  # program expected_dir
  local program=$1 expected=$2 loaded
  loaded=$(ldd "$program" | awk '$1 ~ /^libdeepnet\.so/ { print $1 " " $3 }')
  if [ -z "$expected" ]; then
    [ -z "$loaded" ] || fail "$program loads $loaded, expected the static library"
  else
    [ "${loaded%% *}" = libdeepnet.so.0 ] && [ "$(realpath -e "${loaded#* }")" = "$(realpath -e "$expected/libdeepnet.so.0")" ] ||
      fail "$program does not load $expected/libdeepnet.so.0: ${loaded:-no libdeepnet.so}"
  fi
}

case $step in
install)
  rm -rf "$prefix"
  "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
  lib=$prefix/$libdir
  for f in "$lib/libdeepnet.a" "$lib/libdeepnet.so.$version" "$lib/pkgconfig/deepnet.pc" \
           "$lib/cmake/deepnet/deepnetConfig.cmake" "$lib/cmake/deepnet/deepnetConfigVersion.cmake" \
           "$lib/cmake/deepnet/deepnetTargets.cmake" "$prefix/include/deepnet/version.hpp" \
           "$prefix/include/deepnet/fit.hpp" "$prefix/bin/deepnet"; do
    [ -f "$f" ] || fail "not installed: ${f#"$prefix"/}"
  done
  [ "$(readlink "$lib/libdeepnet.so")" = libdeepnet.so.0 ] || fail "libdeepnet.so is not a link to libdeepnet.so.0"
  [ "$(readlink "$lib/libdeepnet.so.0")" = "libdeepnet.so.$version" ] || fail "libdeepnet.so.0 is not a link to libdeepnet.so.$version"
  soname=$(objdump -p "$lib/libdeepnet.so.$version" | awk '$1 == "SONAME" { print $2 }')
  [ "$soname" = libdeepnet.so.0 ] || fail "SONAME is '$soname', expected libdeepnet.so.0"
  IFS=. read -r major minor patch <<<"$version"
  for define in "DEEPNET_VERSION_MAJOR $major" "DEEPNET_VERSION_MINOR $minor" "DEEPNET_VERSION_PATCH $patch" \
                "DEEPNET_VERSION_STRING \"$version\""; do
    grep -qx "#define $define" "$prefix/include/deepnet/version.hpp" || fail "version.hpp lacks '#define $define'"
  done
  # The export must work on another machine: no path of this build or source tree.
  if grep -rlF -e "$build" -e "$source" "$lib/cmake/deepnet" "$lib/pkgconfig"; then
    fail "the installed package files name paths of the build machine (above)"
  fi
  grep -q 'deepnet::deepnet_static' "$lib/cmake/deepnet/deepnetTargets.cmake" || fail "no deepnet::deepnet_static in the export"
  note "installed into $prefix ($libdir)"
  ;;

find-package | find-package-static)
  dir=$work/$step
  rm -rf "$dir"
  static=OFF
  [ "$step" = find-package-static ] && static=ON
  "$cmake" -S "$source/examples" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
           -DEXAMPLES_LINK_STATIC=$static -DCMAKE_CXX_COMPILER="$cxx" >"$dir.log" 2>&1 ||
    { cat "$dir.log"; fail "configuring examples/ with find_package(deepnet)"; }
  grep -q "deepnet_DIR:PATH=$prefix/$libdir/cmake/deepnet" "$dir/CMakeCache.txt" ||
    fail "find_package found another deepnet: $(grep deepnet_DIR "$dir/CMakeCache.txt")"
  "$cmake" --build "$dir" -j2 >>"$dir.log" 2>&1 || { cat "$dir.log"; fail "building examples/"; }
  if [ $static = ON ]; then
    check_libdeepnet "$dir/train" ""
  else
    check_libdeepnet "$dir/train" "$prefix/$libdir"
  fi
  run_programs "$dir/train" "$dir/predict" "$dir"
  ;;

pkg-config | pkg-config-static)
  dir=$work/$step
  rm -rf "$dir"
  mkdir -p "$dir"
  here=$prefix
  flags=(--cflags --libs)
  if [ "$step" = pkg-config-static ]; then
    # A copy of the install without the shared library: -ldeepnet can only be
    # libdeepnet.a, and deepnet.pc must find its new place itself.
    here=$dir/prefix
    cp -a "$prefix" "$here"
    rm -f "$here/$libdir"/libdeepnet.so*
    flags=(--static --cflags --libs)
  fi
  export PKG_CONFIG_PATH=$here/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  [ "$("$pkg_config" --modversion deepnet)" = "$version" ] || fail "pkg-config --modversion deepnet is not $version"
  pc_libdir=$("$pkg_config" --variable=libdir deepnet)
  [ "$(cd "$pc_libdir" && pwd -P)" = "$(cd "$here/$libdir" && pwd -P)" ] ||
    fail "deepnet.pc's libdir $pc_libdir is not $here/$libdir"
  read -r -a pc <<<"$("$pkg_config" "${flags[@]}" deepnet)"
  note "pkg-config ${flags[*]} deepnet: ${pc[*]}"
  for program in train predict; do
    "$cxx" -std=c++20 -O2 "$source/examples/$program.cpp" -o "$dir/$program" "${pc[@]}" -Wl,-rpath,"$pc_libdir" ||
      fail "g++ $program.cpp \$(pkg-config ${flags[*]} deepnet)"
  done
  if [ "$step" = pkg-config-static ]; then
    check_libdeepnet "$dir/train" ""
    # Position-independent: the whole archive goes into a shared object.
    "$cxx" -shared -o "$dir/libwhole.so" -Wl,--whole-archive "$here/$libdir/libdeepnet.a" -Wl,--no-whole-archive ||
      fail "libdeepnet.a cannot be linked into a shared object (not position-independent?)"
  else
    check_libdeepnet "$dir/train" "$prefix/$libdir"
  fi
  run_programs "$dir/train" "$dir/predict" "$dir"
  ;;

add-subdirectory)
  # A project that has deepnet's source tree as a subdirectory; only the
  # library and the two programs are built, and none of deepnet's tests.
  dir=$work/$step
  rm -rf "$dir"
  mkdir -p "$dir/src"
  cat >"$dir/src/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(deepnet_subdirectory_consumer LANGUAGES CXX)
add_subdirectory("$source" deepnet)
if(TARGET deepnet_tests OR TARGET example_train OR TARGET deepnet_bench)
  message(FATAL_ERROR "deepnet built its tests or examples inside another project")
endif()
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE deepnet::deepnet)
add_executable(consumer_static main.cpp)
target_link_libraries(consumer_static PRIVATE deepnet::deepnet_static)
CMAKE
  cat >"$dir/src/main.cpp" <<'CPP'
#include <cstdio>

#include "deepnet/data.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/version.hpp"

int main() {
  const deepnet::Dataset data = deepnet::load_builtin("iris");  // embedded in the library
  deepnet::FitSettings settings;
  settings.hidden_layers = {8};
  settings.learning_rate = 0.01;
  settings.epochs = 100;
  const deepnet::FitResult result = deepnet::fit(data, nullptr, settings);
  std::printf("deepnet %s: %s, training accuracy %.4f\n", DEEPNET_VERSION_STRING,
              result.model.architecture.describe().c_str(), result.scores.front().accuracy);
  return result.scores.front().accuracy > 0.8 ? 0 : 1;
}
CPP
  # No build type: the library compiles unoptimised, which is quickest here.
  "$cmake" -S "$dir/src" -B "$dir/build" -DCMAKE_CXX_COMPILER="$cxx" >"$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log"; fail "configuring a project with add_subdirectory(deepnet)"; }
  "$cmake" --build "$dir/build" -j2 --target consumer consumer_static >"$dir/build.log" 2>&1 ||
    { tail -50 "$dir/build.log"; fail "building a project with add_subdirectory(deepnet)"; }
  check_libdeepnet "$dir/build/consumer" "$dir/build/deepnet"
  check_libdeepnet "$dir/build/consumer_static" ""
  for program in consumer consumer_static; do
    out=$("$dir/build/$program") || fail "$program failed: $out"
    echo "$out"
    grep -q "^deepnet $version: 4-8-3 relu/softmax" <<<"$out" || fail "$program printed: $out"
  done
  ;;

*)
  fail "unknown step '$step'"
  ;;
esac
note "$step: passed"
