// The CLI under an MPI launcher: which ranks speak, errors every rank agrees
// on, and ending the whole job when one rank fails alone.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "deepnet/distributed.hpp"

namespace deepnet::cli {

namespace {

Communicator* world = nullptr;
int saved_stderr = -1;  // ranks other than 0: their own stderr, for fatal errors

int launcher_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

}  // namespace

Communicator* cli_communicator() {
  static bool done = false;
  if (done) return world;
  done = true;
  if (!launched_by_mpi()) return nullptr;
  if (!mpi_built()) {
    if (launcher_ranks() > 1)
      throw CliError(exit_usage, "started by an MPI launcher with " + std::to_string(launcher_ranks()) +
                                     " ranks, but this deepnet was built without MPI: every rank would train the "
                                     "whole job alone (build with -DDEEPNET_WITH_MPI=ON)");
    return nullptr;
  }
  world = &mpi_world();
  if (world->rank() != 0) {
    std::fflush(stdout);
    std::fflush(stderr);
    saved_stderr = ::dup(STDERR_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
      ::close(null);
    }
  }
  return world;
}

int cores_per_local_rank(const Communicator& comm) {
  int local = comm.size();
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const char* v = std::getenv(name)) local = std::max(1, std::atoi(v));
  return std::max(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) / local);
}

void agree(Communicator* comm, const std::function<void()>& phase) {
  int code = exit_ok;
  std::string message;
  try {
    phase();
  } catch (const CliError& e) {
    code = e.code;
    message = e.what();
  } catch (const std::exception& e) {
    code = exit_other;
    message = e.what();
  }
  if (!comm || comm->size() == 1) {
    if (code != exit_ok) throw CliError(static_cast<ExitCode>(code), message);
    return;
  }
  const auto ranks = static_cast<std::size_t>(comm->size());
  // Round one: each rank's code and message length; round two: the messages.
  std::vector<unsigned char> mine(8), all;
  const std::uint32_t head[2] = {static_cast<std::uint32_t>(code), static_cast<std::uint32_t>(message.size())};
  std::memcpy(mine.data(), head, 8);
  comm->allgather(mine, std::vector<std::size_t>(ranks, 8), all);
  std::vector<std::size_t> lengths(ranks);
  int first_failed = -1;
  for (std::size_t r = 0; r < ranks; ++r) {
    std::uint32_t h[2];
    std::memcpy(h, all.data() + 8 * r, 8);
    lengths[r] = h[1];
    if (h[0] != exit_ok && first_failed < 0) first_failed = static_cast<int>(r);
  }
  if (first_failed < 0) return;
  std::uint32_t failed_code = 0;
  std::memcpy(&failed_code, all.data() + 8 * static_cast<std::size_t>(first_failed), 4);
  mine.assign(message.begin(), message.end());
  comm->allgather(mine, lengths, all);
  std::size_t offset = 0;
  for (int r = 0; r < first_failed; ++r) offset += lengths[static_cast<std::size_t>(r)];
  std::string text(reinterpret_cast<const char*>(all.data()) + offset, lengths[static_cast<std::size_t>(first_failed)]);
  if (first_failed != 0) text = "rank " + std::to_string(first_failed) + ": " + text;
  throw AgreedError(static_cast<ExitCode>(failed_code), text);
}

void end_job_after_error(int code, bool agreed, const std::string& message) {
  if (!world || world->size() == 1 || agreed) return;
  // This rank failed alone: say so where the user sees it, then stop every rank.
  if (world->rank() != 0 && saved_stderr >= 0) {
    const std::string line = "deepnet: error: rank " + std::to_string(world->rank()) + ": " + message + "\n";
    (void)!::write(saved_stderr, line.data(), line.size());
  }
  mpi_abort(code);
}

}  // namespace deepnet::cli
