// `deepnet info` and `deepnet datasets`: what this build is and what data it carries.
#include <Eigen/Core>
#include <cstdio>
#include <thread>

#include "cli/cli.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/network.hpp"
#include "deepnet/vmath.hpp"

namespace deepnet::cli {

Runner add_info_command(CLI::App& app) {
  app.add_subcommand("info", "Version, compiler, SIMD instruction sets, matrix-product and vector-kernel backends, threads");
  return [] {
    std::printf("deepnet %s\n", DEEPNET_VERSION);
#if defined(__clang__)
    std::printf("compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
    std::printf("compiler: g++ %s\n", __VERSION__);
#endif
    std::printf("simd: %s\n", Eigen::SimdInstructionSetsInUse());
    std::printf("matrix product: float: %s; double: %s\n", gemm_backend(true), gemm_backend(false));
    std::printf("vector kernels: %s (tanh, sigmoid, exp, log1p; the small-net path for nets with every layer at most "
                "%d (float) or %d (double) wide)\n",
                vmath_backend(), Network<float>::small_net_max_width, Network<double>::small_net_max_width);
#ifdef _OPENMP
    std::printf("threads: %d by default (all cores; OpenMP; --threads N on train), %u hardware threads\n",
                threads(), std::thread::hardware_concurrency());
#else
    std::printf("threads: 1 (built without OpenMP), %u hardware threads\n", std::thread::hardware_concurrency());
#endif
    return exit_ok;
  };
}

Runner add_datasets_command(CLI::App& app) {
  app.add_subcommand("datasets", "List the built-in data sets and where they come from");
  return [] {
    for (const BuiltinDataset& d : builtin_datasets())
      std::printf("%-14s %s%s\n", d.name.c_str(), d.description.c_str(),
                  d.has_test_part ? " [parts: NAME:train, NAME:test]" : "");
    return exit_ok;
  };
}

}  // namespace deepnet::cli
