# Sourced by scripts/demo and scripts/test: installs the Debian 12 packages
# deepnet needs to build and test, but only those that are missing.
# Set DEEPNET_SKIP_INSTALL=1 to skip this step.

deepnet_packages=(
  g++ make cmake            # toolchain (CMake >= 3.25)
  libeigen3-dev              # matrices
  libdnnl-dev                # oneDNN: float matrix products with run-time CPU dispatch
  libcli11-dev               # command line
  zlib1g-dev                 # .gz data files, NPZ
  libdeflate-dev             # fast whole-buffer gunzip (the gzipped Fashion-MNIST files load in half the time)
  libhdf5-dev                # HDF5 data files
  libgtest-dev               # tests
  nlohmann-json3-dev         # --json output; tests read the course reference cases
  dataset-fashion-mnist      # the built-in fashion-mnist set (IDX files)
  python3-numpy              # tests: numpy reads the NPZ that 'deepnet export' writes
  python3-onnx               # tests: onnx.checker checks the graphs of 'deepnet export --onnx' (tests/onnx)
  librsvg2-dev               # deepnet plot -o NAME.png: librsvg renders the SVG in-process (cairo, pkg-config)
  pkg-config                 # finds librsvg and cairo for CMake; the Package.PkgConfig* tests build with it
  librsvg2-bin               # tests: rsvg-convert renders the SVG pictures of deepnet plot
  python3-dev                # the Python module: Python.h for Debian's /usr/bin/python3
  pybind11-dev               # the Python module's binding (headers and CMake config)
  python3-pybind11           # pybind11 for that interpreter
  python3-sklearn            # the module's estimators are scikit-learn's (check_estimator runs in scripts/test)
  openmpi-bin                # data-parallel training: mpirun (scripts/test builds with MPI when it is there)
  libopenmpi-dev             # MPI headers and library (CMake option DEEPNET_WITH_MPI)
)
# Commands whose Debian package is installed only when the command is missing:
# another node (e.g. a newer one with its own npm, which conflicts with
# Debian's npm package) serves as well. node and npm install onnxruntime-node
# (scripts/onnx-runtime) and run the exported graphs in it (tests/onnx).
deepnet_commands=(
  node:nodejs
  npm:npm
)

deepnet_install_missing() {
  [ "${DEEPNET_SKIP_INSTALL:-0}" = 1 ] && return 0
  local missing=()
  for pkg in "${deepnet_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  for pair in "${deepnet_commands[@]}"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "deepnet: installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deepnet: need root or sudo to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Configures and builds a preset (default: release) into build/PRESET.
deepnet_build() {
  local preset=${1:-release}
  cmake --preset "$preset" >/dev/null  # (keeps options set before, such as scripts/test's DEEPNET_WITH_MPI)
  cmake --build --preset "$preset" -j "$(nproc)"
}
