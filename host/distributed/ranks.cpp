#include "host/distributed/ranks.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <fmt/format.h>
#include <mutex>
#include <thread>

#if QDF_HAVE_MPI
#include <mpi.h>
#endif

namespace qdf::host {

Block block_of(std::int64_t items, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks || items < 0)
    throw InternalError(fmt::format("block_of({}, rank {}, {} ranks): expected 0 <= rank < ranks and items >= 0", items, rank, ranks));
  const std::int64_t base = items / ranks, extra = items % ranks, r = rank;
  // Ranks 0 .. extra - 1 take base + 1 items, the rest base: rank r starts after r shares.
  return {r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
}

Block block_beside_root(std::int64_t items, int rank, int ranks) {
  if (ranks == 1) return block_of(items, rank, ranks);
  if (rank == 0) {
    block_of(items, rank, ranks);  // the same checks
    return {0, 0};
  }
  return block_of(items, rank - 1, ranks - 1);
}

std::vector<std::int64_t> dealt_items(std::int64_t items, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks || items < 0)
    throw InternalError(fmt::format("dealt_items({}, rank {}, {} ranks): expected 0 <= rank < ranks and items >= 0", items, rank, ranks));
  std::vector<std::int64_t> out;
  for (std::int64_t i = rank; i < items; i += ranks) out.push_back(i);
  return out;
}

namespace {

// A number from the environment, or -1 when unset or not a number.
[[maybe_unused]] long env_number(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return end && *end == '\0' ? n : -1;
}

// Set by mpirun (OpenMPI: OMPI_COMM_WORLD_SIZE; any PMIx launcher: PMIX_RANK).
bool launched_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK"); }

#if QDF_HAVE_MPI
bool started_mpi = false;

// Waits for a non-blocking collective by testing it every millisecond, asleep in between:
// OpenMPI's blocking wait polls at full speed, and a rank done with its share would take a core
// from the ranks still computing theirs wherever ranks x threads exceed the cores.
void wait_asleep(MPI_Request& request) {
  int done = 0;
  while (true) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
#endif

void make_world(int& rank, int& size) {
  rank = 0, size = 1;
  if (!launched_by_mpirun()) return;
#if QDF_HAVE_MPI
  // FUNNELED: only the main thread calls MPI; the thread pool's threads compute values.
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  started_mpi = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
#else
  const long n = env_number("OMPI_COMM_WORLD_SIZE"), r = env_number("PMIX_RANK");
  if (n > 1 || r > 0)
    throw UserError(fmt::format("this qdf was built without MPI, but it was launched by mpirun as one of {} processes; install "
                                "libopenmpi-dev (scripts/setup.sh does) and build qdf again, or run it as one process",
                                n > 1 ? std::to_string(n) : "several"));
#endif
}

}  // namespace

const Ranks& Ranks::world() {
  static Ranks w;
  static std::once_flag once;
  std::call_once(once, [] {
    int rank = 0, size = 1;
    make_world(rank, size);
    w.rank_ = rank;
    w.size_ = size;
  });
  return w;
}

void Ranks::finish() {
#if QDF_HAVE_MPI
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (started_mpi && !finalized) MPI_Finalize();
#endif
}

bool Ranks::built_with_mpi() { return QDF_HAVE_MPI != 0; }

std::vector<std::string> Ranks::gather(const std::string& mine) const {
  if (size_ == 1) return {mine};
#if QDF_HAVE_MPI
  // Counts first (MPI counts are ints: a share above 2 GiB is refused), then the bytes.
  if (mine.size() > static_cast<size_t>(INT_MAX))
    throw UserError(fmt::format("rank {}'s share of the results is {} bytes, more than MPI sends at once (2 GiB); use more ranks",
                                rank_, mine.size()));
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(root() ? static_cast<size_t>(size_) : 0), offsets(counts.size());
  MPI_Request request;
  MPI_Igather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
  wait_asleep(request);
  std::int64_t total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    offsets[i] = static_cast<int>(total);
    total += counts[i];
    if (total > INT_MAX) throw UserError(fmt::format("the gathered results are more than 2 GiB, more than MPI gathers at once"));
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Igatherv(mine.data(), count, MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD, &request);
  wait_asleep(request);
  std::vector<std::string> out;
  for (size_t i = 0; i < counts.size(); ++i) out.push_back(all.substr(static_cast<size_t>(offsets[i]), static_cast<size_t>(counts[i])));
  return out;
#else
  throw InternalError("a Ranks of several processes in a build without MPI");
#endif
}

std::vector<std::string> gather_work(const Ranks& ranks, const std::function<std::string()>& work) {
  // Each rank's message: one status byte ('+' done, 'u' a UserError, 'x' another error), then
  // the result or the error's text.
  std::string mine;
  try {
    mine = "+" + work();
  } catch (const UserError& e) {
    if (ranks.size() == 1) throw;
    mine = std::string("u") + e.what();
  } catch (const std::exception& e) {
    if (ranks.size() == 1) throw;
    mine = std::string("x") + e.what();
  }
  std::vector<std::string> all = ranks.gather(mine);
  if (!ranks.root()) {
    if (mine[0] != '+') throw ReportedByRoot();
    return {};
  }
  for (size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) throw InternalError(fmt::format("rank {} sent an empty message", r));
    const std::string text = all[r].substr(1);
    if (all[r][0] == 'u') throw UserError(fmt::format("rank {} of {}: {}", r, ranks.size(), text));
    if (all[r][0] == 'x') throw std::runtime_error(fmt::format("rank {} of {}: {}", r, ranks.size(), text));
    all[r] = text;
  }
  return all;
}

}  // namespace qdf::host
