// Work split over the processes of an MPI job (`mpirun -n P qdf ...`): the one place that knows
// about MPI. The rest of qdf sees a Ranks (this process's rank, the job's size, gathering bytes
// to rank 0) and the pure split functions below; a build without MPI compiles the same code paths
// with one rank, and refuses a run launched with several.
//
// MPI is started only when the process was launched by mpirun (OpenMPI sets OMPI_COMM_WORLD_SIZE,
// PMIx sets PMIX_RANK): a plain `qdf ...` never starts an MPI singleton, which is slow and, as
// root, noisy.
//
// Results identical to one process: each item (an image, a design point) is computed by exactly
// one rank with the same code as in one process, and rank 0 puts them back in item order.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace qdf::host {

// The items [first, first + count) of one rank.
struct Block {
  std::int64_t first = 0, count = 0;
};

// A contiguous share of `items` for `rank` of `ranks`: the first items % ranks ranks take one
// more than the others, so that shares differ by at most one and cover every item once, in rank
// order (a rank past the items gets none). For work whose items come from one sequence (the
// images of a seeded generator). A UserError-free precondition: ranks >= 1, 0 <= rank < ranks.
Block block_of(std::int64_t items, int rank, int ranks);

// The block of `rank` when rank 0 has serial work of its own beside the items (the timing of a
// whole stream of images, which the other ranks' values do not wait for): with several ranks the
// items are split over ranks 1 .. ranks - 1 and rank 0 gets none, so that its serial work runs
// beside them rather than before its own share; one rank alone gets every item.
Block block_beside_root(std::int64_t items, int rank, int ranks);

// The items of `rank` when dealt round-robin: rank, rank + ranks, rank + 2 ranks, ... For work
// whose items differ in cost in order (design points of growing FPGA counts).
std::vector<std::int64_t> dealt_items(std::int64_t items, int rank, int ranks);

// The processes of the job: rank 0 .. size - 1. One per process (world()).
class Ranks {
 public:
  // The job this process belongs to: size 1 unless launched by mpirun with several processes.
  // The first call starts MPI (when launched by mpirun); a UserError when the launch asks for
  // several ranks and qdf was built without MPI.
  static const Ranks& world();
  // One process alone (rank 0 of 1): what world() is without mpirun.
  Ranks() = default;
  // Ends MPI if world() started it (before the process exits; calling world() after is an error).
  static void finish();
  // True when MPI support was built in (OpenMPI found by CMake).
  static bool built_with_mpi();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }

  // Every rank's `mine`, in rank order, on rank 0; an empty vector on the others. Collective:
  // every rank calls it, in the same order.
  std::vector<std::string> gather(const std::string& mine) const;

 private:
  int rank_ = 0, size_ = 1;
};

// Thrown on a rank other than 0 whose share of a gathered piece of work failed: rank 0 reports
// the error (naming the rank) and the others exit with an error code, silently.
class ReportedByRoot : public std::runtime_error {
 public:
  ReportedByRoot() : std::runtime_error("reported by rank 0") {}
};

// Runs `work` (this rank's share, its result as bytes) on every rank and gathers the results to
// rank 0 in rank order. If a rank's work throws, rank 0 throws the error of the lowest such rank
// (a UserError stays one, naming the rank when there are several) once all have sent; that rank
// throws ReportedByRoot. Collective.
std::vector<std::string> gather_work(const Ranks& ranks, const std::function<std::string()>& work);

}  // namespace qdf::host
