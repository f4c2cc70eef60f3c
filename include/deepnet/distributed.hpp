// Data-parallel training across processes (issue #15).
//
// A mini-batch's gradient can be computed as the sum of K fixed blocks of the
// batch (`gradient_blocks`): block b holds the batch's examples
// [floor(b m / K), floor((b+1) m / K)), each block runs its own forward and
// backward pass, and the K block gradients, each weighted by m_b / m, are
// added in one fixed order: the pairwise tree over the blocks (the canonical
// binary tree over K leaves; a missing or empty child passes its sibling up).
// Which process computed which block does not enter the sum, so a run split
// over 1, 2 or 4 processes with the same K gives the same bits as a single
// process with that K.
//
// A Communicator is the group of processes: rank r of N computes the blocks
// [floor(r K / N), floor((r+1) K / N)) and adds what it can of the tree
// locally (the largest whole subtrees inside its range). Then a reduce-scatter
// in the same fixed order: the parameters are cut into N slices, rank q
// receives slice q of every rank's subtree sums (alltoall) and finishes the
// tree on it, and every rank gathers the finished slices (allgather): 2 (N-1)/N
// of the gradient in and out per rank, as a ring all-reduce moves. Every rank
// ends with the same gradient and takes the same optimizer step. Dropout masks of
// block b come from a generator seeded by one draw per step of the trainer's
// dropout generator and b, so they too do not depend on N.
//
// deepnet's MPI build (CMake option DEEPNET_WITH_MPI) provides mpi_world();
// tests and other transports can implement Communicator themselves.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace deepnet {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Gathers every rank's bytes, in rank order, into `all` on every rank.
  // counts[r] is the number of bytes rank r gives (every rank passes the same
  // counts; counts[rank()] == mine.size()); all.size() is their sum. Throws
  // deepnet::Error when a rank has gone or the transport fails.
  virtual void allgather(const std::vector<unsigned char>& mine, const std::vector<std::size_t>& counts,
                         std::vector<unsigned char>& all) = 0;
  // Each rank sends send_counts[q] bytes of `send` (in rank order) to rank q
  // and receives recv_counts[r] bytes from rank r, in rank order, into `recv`.
  // The default goes through allgather (every rank sends its counts first);
  // MPI's world overrides it with MPI_Alltoallv.
  virtual void alltoall(const std::vector<unsigned char>& send, const std::vector<std::size_t>& send_counts,
                        std::vector<unsigned char>& recv, const std::vector<std::size_t>& recv_counts);
  // Non-blocking forms, for overlapping the exchange with the backward pass:
  // start_* begins the operation and returns a handle for wait(); until wait
  // returns, the buffers and counts must stay untouched (recv/all are sized
  // when it starts). Every rank starts the same operations in the same order.
  // progress() lets started operations advance (MPI moves large messages only
  // inside its calls). The defaults run the blocking operation at once and
  // return -1, which wait() takes as done.
  virtual int start_alltoall(const std::vector<unsigned char>& send, const std::vector<std::size_t>& send_counts,
                             std::vector<unsigned char>& recv, const std::vector<std::size_t>& recv_counts) {
    alltoall(send, send_counts, recv, recv_counts);
    return -1;
  }
  virtual int start_allgather(const std::vector<unsigned char>& mine, const std::vector<std::size_t>& counts,
                              std::vector<unsigned char>& all) {
    allgather(mine, counts, all);
    return -1;
  }
  virtual void wait(int handle) { (void)handle; }
  virtual void progress() {}
  // A one-line description, e.g. "MPI, 4 ranks".
  virtual std::string describe() const = 0;
};

// The fixed blocks of a batch of m examples split K ways: block b is
// [begin(b), end(b)).
struct GradientBlocks {
  long long m = 0;
  int count = 1;
  long long begin(int b) const { return m * b / count; }
  long long end(int b) const { return m * (b + 1) / count; }
};

// The blocks [first, last) that rank `rank` of `ranks` computes out of `blocks`.
struct BlockRange {
  int first = 0, last = 0;
};
BlockRange blocks_of_rank(int blocks, int rank, int ranks);

// The canonical tree's nodes [begin, end) (leaves are blocks) that exactly
// cover [range.first, range.last): the largest whole subtrees, left to right.
struct TreeNode {
  int begin = 0, end = 0;
};
std::vector<TreeNode> cover_of_range(int blocks, BlockRange range);

// Built with MPI (DEEPNET_WITH_MPI): whether this binary has it.
bool mpi_built();
// Whether this process was started by an MPI launcher (mpirun, mpiexec, srun
// with PMI/PMIx): the environment such launchers set.
bool launched_by_mpi();
// The MPI world communicator: initialises MPI on first use (MPI_Finalize runs
// at exit). Throws deepnet::Error when deepnet was built without MPI.
Communicator& mpi_world();
// Ends the job on every rank (MPI_Abort) with this exit code; returns only
// without MPI.
void mpi_abort(int code);

}  // namespace deepnet
