// Work over many images on every core: parallel_for runs f(0) .. f(n-1) on a few std::threads
// that take the next index as they finish one (images differ in cost, so a fixed split would
// wait on the slowest part). Each f(i) writes only its own result slot, so what it computes
// does not depend on the number of threads or on their order; the simulator's values and the
// reference check are built on it (tests/sim/test_simulator.cpp runs 1 and N threads).
#pragma once

#include <functional>
#include <string>

namespace qdf::sim {

// The largest thread count accepted (a bad flag, not a machine, is what exceeds it).
inline constexpr int kMaxThreads = 256;

// The threads to use for a request: 0 means every core (std::thread::hardware_concurrency, at
// least 1); 1 .. kMaxThreads as given; anything else is a UserError naming `option`.
int resolve_threads(int requested, const std::string& option = "--threads");

// Runs f(i) for every i in [0, n) on min(threads, n) threads (the caller's own among them).
// If some f(i) throw, the exception of the lowest such i is rethrown once all have stopped, so
// the error too is the same whatever the thread count.
void parallel_for(int n, int threads, const std::function<void(int)>& f);

}  // namespace qdf::sim
