// The split of work over MPI ranks (host/distributed/ranks.hpp): every item in exactly one share,
// shares in rank order differing by at most one (blocks) or dealt round-robin, more ranks than
// items; one process's gather; a failed share reported by rank.
#include "dsl/errors.hpp"
#include "host/distributed/ranks.hpp"
#include "sim/graph_values.hpp"
#include "manager/model_weights.hpp"
#include "manager/network.hpp"
#include "manager/plan.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::host;

TEST_CASE("ranks: blocks cover every item once, in rank order, differing by at most one") {
  for (std::int64_t items : {0, 1, 2, 5, 7, 10, 301, 10000})
    for (int ranks : {1, 2, 3, 4, 7, 16}) {
      CAPTURE(items);
      CAPTURE(ranks);
      std::vector<int> owner(static_cast<size_t>(items), -1);
      std::int64_t next = 0, smallest = items, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const Block b = block_of(items, r, ranks);
        CHECK(b.first == next);  // contiguous, in rank order
        for (std::int64_t i = b.first; i < b.first + b.count; ++i) {
          REQUIRE(i < items);
          CHECK(owner[static_cast<size_t>(i)] == -1);
          owner[static_cast<size_t>(i)] = r;
        }
        next = b.first + b.count;
        smallest = std::min(smallest, b.count);
        largest = std::max(largest, b.count);
      }
      CHECK(next == items);
      CHECK(std::count(owner.begin(), owner.end(), -1) == 0);
      CHECK(largest - smallest <= 1);
    }
}

TEST_CASE("ranks: an uneven split gives the first ranks one more; more ranks than items leaves some with none") {
  // 10 over 4: 3 3 2 2, written out by hand.
  CHECK(block_of(10, 0, 4).first == 0);
  CHECK(block_of(10, 0, 4).count == 3);
  CHECK(block_of(10, 1, 4).first == 3);
  CHECK(block_of(10, 1, 4).count == 3);
  CHECK(block_of(10, 2, 4).first == 6);
  CHECK(block_of(10, 2, 4).count == 2);
  CHECK(block_of(10, 3, 4).first == 8);
  CHECK(block_of(10, 3, 4).count == 2);
  // 2 over 5: one each for ranks 0 and 1, none for 2..4.
  CHECK(block_of(2, 1, 5).first == 1);
  CHECK(block_of(2, 1, 5).count == 1);
  CHECK(block_of(2, 4, 5).count == 0);
  CHECK(dealt_items(2, 4, 5).empty());
  CHECK(dealt_items(7, 1, 3) == std::vector<std::int64_t>{1, 4});
  CHECK(dealt_items(7, 0, 3) == std::vector<std::int64_t>{0, 3, 6});
  CHECK_THROWS_AS(block_of(3, 2, 2), InternalError);
  CHECK_THROWS_AS(dealt_items(3, 0, 0), InternalError);
}

TEST_CASE("ranks: beside rank 0's own work, the items go to the other ranks; alone, to rank 0") {
  CHECK(block_beside_root(10, 0, 1).count == 10);
  CHECK(block_beside_root(10, 0, 3).count == 0);
  CHECK(block_beside_root(10, 1, 3).first == 0);
  CHECK(block_beside_root(10, 1, 3).count == 5);
  CHECK(block_beside_root(10, 2, 3).first == 5);
  CHECK(block_beside_root(10, 2, 3).count == 5);
  CHECK(block_beside_root(3, 1, 2).count == 3);
  // More ranks than items: 2 items over ranks 1..4.
  CHECK(block_beside_root(2, 2, 5).first == 1);
  CHECK(block_beside_root(2, 2, 5).count == 1);
  CHECK(block_beside_root(2, 3, 5).count == 0);
}

TEST_CASE("ranks: dealt items cover every item once") {
  for (std::int64_t items : {0, 1, 3, 24, 25})
    for (int ranks : {1, 2, 3, 30}) {
      std::vector<int> seen(static_cast<size_t>(items), 0);
      for (int r = 0; r < ranks; ++r)
        for (std::int64_t i : dealt_items(items, r, ranks)) {
          CHECK(i % ranks == r);
          ++seen[static_cast<size_t>(i)];
        }
      CHECK(std::count(seen.begin(), seen.end(), 1) == items);
    }
}

TEST_CASE("ranks: one process gathers its own result, and its failure is thrown as it was") {
  const Ranks one;
  CHECK(one.rank() == 0);
  CHECK(one.size() == 1);
  CHECK(one.gather("abc") == std::vector<std::string>{"abc"});
  CHECK(gather_work(one, [] { return std::string("xyz"); }) == std::vector<std::string>{"xyz"});
  CHECK_THROWS_WITH_AS(gather_work(one, []() -> std::string { throw UserError("bad flag --x"); }), "bad flag --x", UserError);
  // Not launched by mpirun here: the world is this process alone.
  CHECK(Ranks::world().size() == 1);
}

TEST_CASE("ranks: a share of seeded random images starts where one process's run is at its first image") {
  const manager::Plan p = manager::plan_network(manager::builtin_net("sfc").net,
                                                manager::random_weights(manager::builtin_net("sfc").net, 1), manager::PlanOptions{});
  const auto all = sim::random_images(p.graph, 9, 5);
  for (int first : {0, 1, 4, 8}) {
    sim::RandomImages gen(p.graph, 5);
    gen.skip(first);
    CHECK(gen.next() == all[static_cast<size_t>(first)]);
  }
}
