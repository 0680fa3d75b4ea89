#include "sim/thread_pool.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <fmt/format.h>
#include <thread>
#include <vector>

namespace qdf::sim {

int resolve_threads(int requested, const std::string& option) {
  if (requested == 0) return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (requested < 0 || requested > kMaxThreads)
    throw UserError(fmt::format("{} must be 0 (every core) or 1 .. {}, not {}", option, kMaxThreads, requested));
  return requested;
}

void parallel_for(int n, int threads, const std::function<void(int)>& f) {
  if (threads < 1) throw InternalError(fmt::format("parallel_for on {} threads", threads));
  const int workers = std::min(threads, n);
  if (workers <= 1) {
    for (int i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<int> next{0};
  std::atomic<int> first_failed{n};  // the lowest index that threw: later ones need not run
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  auto work = [&] {
    for (int i = next++; i < n && i < first_failed.load(); i = next++) {
      try {
        f(i);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
        int seen = first_failed.load();
        while (i < seen && !first_failed.compare_exchange_weak(seen, i)) {
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (first_failed.load() < n) std::rethrow_exception(errors[static_cast<size_t>(first_failed.load())]);
}

}  // namespace qdf::sim
