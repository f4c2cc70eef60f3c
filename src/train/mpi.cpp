// deepnet's MPI world (deepnet/distributed.hpp): built with DEEPNET_WITH_MPI,
// otherwise the functions say that this binary has no MPI.
#include <climits>
#include <deque>
#include <cstdlib>
#include <string>
#include <vector>

#include "deepnet/distributed.hpp"
#include "deepnet/error.hpp"

#ifdef DEEPNET_WITH_MPI
// The C API only (OpenMPI's and MPICH's mpi.h pull in the deprecated C++ bindings otherwise).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace deepnet {

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(name)) return true;
  return false;
}

#ifdef DEEPNET_WITH_MPI

namespace {

std::string mpi_message(int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(length));
}

void finalize_at_exit() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Finalize();
}

class MpiWorld final : public Communicator {
 public:
  MpiWorld() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw Error("MPI: MPI_Init_thread failed");
      std::atexit(finalize_at_exit);
    }
    // Errors come back as codes (and become deepnet::Error) instead of aborting inside MPI.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override { return "MPI, " + std::to_string(size_) + (size_ == 1 ? " rank" : " ranks"); }

  void allgather(const std::vector<unsigned char>& mine, const std::vector<std::size_t>& counts,
                 std::vector<unsigned char>& all) override {
    if (counts.size() != static_cast<std::size_t>(size_) || counts[static_cast<std::size_t>(rank_)] != mine.size())
      throw Error("MPI allgather: counts do not match the ranks (internal error)");
    const std::size_t total = to_ints(counts, counts_, offsets_, "allgather");
    all.resize(total);
    const int code = MPI_Allgatherv(mine.data(), counts_[static_cast<std::size_t>(rank_)], MPI_BYTE, all.data(),
                                    counts_.data(), offsets_.data(), MPI_BYTE, MPI_COMM_WORLD);
    if (code != MPI_SUCCESS) throw Error("MPI: exchanging gradients failed: " + mpi_message(code));
  }

  void alltoall(const std::vector<unsigned char>& send, const std::vector<std::size_t>& send_counts,
                std::vector<unsigned char>& recv, const std::vector<std::size_t>& recv_counts) override {
    if (send_counts.size() != static_cast<std::size_t>(size_) || recv_counts.size() != send_counts.size())
      throw Error("MPI alltoall: counts do not match the ranks (internal error)");
    to_ints(send_counts, send_ints_, send_offsets_, "alltoall");
    const std::size_t total = to_ints(recv_counts, counts_, offsets_, "alltoall");
    recv.resize(total);
    const int code = MPI_Alltoallv(send.data(), send_ints_.data(), send_offsets_.data(), MPI_BYTE, recv.data(),
                                   counts_.data(), offsets_.data(), MPI_BYTE, MPI_COMM_WORLD);
    if (code != MPI_SUCCESS) throw Error("MPI: exchanging gradients failed: " + mpi_message(code));
  }

  int start_alltoall(const std::vector<unsigned char>& send, const std::vector<std::size_t>& send_counts,
                     std::vector<unsigned char>& recv, const std::vector<std::size_t>& recv_counts) override {
    if (send_counts.size() != static_cast<std::size_t>(size_) || recv_counts.size() != send_counts.size())
      throw Error("MPI alltoall: counts do not match the ranks (internal error)");
    const int handle = free_slot();
    Pending& p = pending_[static_cast<std::size_t>(handle)];
    to_ints(send_counts, p.send_counts, p.send_offsets, "alltoall");
    recv.resize(to_ints(recv_counts, p.recv_counts, p.recv_offsets, "alltoall"));
    const int code = MPI_Ialltoallv(send.data(), p.send_counts.data(), p.send_offsets.data(), MPI_BYTE, recv.data(),
                                    p.recv_counts.data(), p.recv_offsets.data(), MPI_BYTE, MPI_COMM_WORLD, &p.request);
    if (code != MPI_SUCCESS) throw Error("MPI: exchanging gradients failed: " + mpi_message(code));
    p.busy = true;
    return handle;
  }

  int start_allgather(const std::vector<unsigned char>& mine, const std::vector<std::size_t>& counts,
                      std::vector<unsigned char>& all) override {
    if (counts.size() != static_cast<std::size_t>(size_) || counts[static_cast<std::size_t>(rank_)] != mine.size())
      throw Error("MPI allgather: counts do not match the ranks (internal error)");
    const int handle = free_slot();
    Pending& p = pending_[static_cast<std::size_t>(handle)];
    all.resize(to_ints(counts, p.recv_counts, p.recv_offsets, "allgather"));
    const int code = MPI_Iallgatherv(mine.data(), p.recv_counts[static_cast<std::size_t>(rank_)], MPI_BYTE, all.data(),
                                     p.recv_counts.data(), p.recv_offsets.data(), MPI_BYTE, MPI_COMM_WORLD, &p.request);
    if (code != MPI_SUCCESS) throw Error("MPI: exchanging gradients failed: " + mpi_message(code));
    p.busy = true;
    return handle;
  }

  void wait(int handle) override {
    if (handle < 0) return;
    Pending& p = pending_.at(static_cast<std::size_t>(handle));
    const int code = MPI_Wait(&p.request, MPI_STATUS_IGNORE);
    p.busy = false;
    if (code != MPI_SUCCESS) throw Error("MPI: exchanging gradients failed: " + mpi_message(code));
  }

  void progress() override {
    for (Pending& p : pending_)
      if (p.busy && p.request != MPI_REQUEST_NULL) {
        int done = 0;
        const int code = MPI_Test(&p.request, &done, MPI_STATUS_IGNORE);
        if (code != MPI_SUCCESS) throw Error("MPI: exchanging gradients failed: " + mpi_message(code));
      }
  }

 private:
  // A started operation: its request and the int arrays MPI reads until it ends.
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    std::vector<int> send_counts, send_offsets, recv_counts, recv_offsets;
    bool busy = false;
  };
  int free_slot() {
    for (std::size_t k = 0; k < pending_.size(); ++k)
      if (!pending_[k].busy) return static_cast<int>(k);
    pending_.emplace_back();  // a deque: the others' arrays stay where MPI knows them
    return static_cast<int>(pending_.size() - 1);
  }
  std::deque<Pending> pending_;

  // Byte counts and their offsets as MPI's ints; returns the total.
  static std::size_t to_ints(const std::vector<std::size_t>& counts, std::vector<int>& ints, std::vector<int>& offsets,
                             const char* what) {
    ints.resize(counts.size());
    offsets.resize(counts.size());
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      if (counts[r] > INT_MAX || total > INT_MAX)
        throw Error(std::string("MPI ") + what + ": " + std::to_string(total + counts[r]) +
                    " bytes per step exceed what one MPI call carries (2 GiB); use fewer gradient blocks");
      ints[r] = static_cast<int>(counts[r]);
      offsets[r] = static_cast<int>(total);
      total += counts[r];
    }
    return total;
  }

  int rank_ = 0, size_ = 1;
  std::vector<int> counts_, offsets_, send_ints_, send_offsets_;
};

}  // namespace

bool mpi_built() { return true; }

Communicator& mpi_world() {
  static MpiWorld world;
  return world;
}

void mpi_abort(int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
}

#else

bool mpi_built() { return false; }

Communicator& mpi_world() {
  throw Error("MPI: this deepnet was built without MPI (configure with -DDEEPNET_WITH_MPI=ON; needs libopenmpi-dev)");
}

void mpi_abort(int) {}

#endif

}  // namespace deepnet
