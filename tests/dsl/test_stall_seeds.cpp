// The seeds of the co-simulations' random stalls (dsl/cosim.hpp): 1, 2, ... by default, from
// QDF_SEED when it is set (to replay a failure, or try other stalls), and a bad QDF_SEED refused.
#include "dsl/cosim.hpp"
#include "dsl/errors.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf;

TEST_CASE("stall patterns are seeded from QDF_SEED, 1 by default; a bad QDF_SEED is refused") {
  ::unsetenv("QDF_SEED");
  std::vector<dsl::StallPattern> p = dsl::seeded_patterns({{0.0, 0.0}, {0.3, 0.3}, {0.6, 0.1}});
  REQUIRE(p.size() == 3);
  CHECK((p[0].seed == 1 && p[1].seed == 2 && p[2].seed == 3));
  CHECK((p[1].input_gap == 0.3 && p[2].output_stall == 0.1));
  CHECK(dsl::CosimOptions{}.patterns[3].seed == 4);
  ::setenv("QDF_SEED", "977", 1);
  p = dsl::seeded_patterns({{0.0, 0.0}, {0.3, 0.3}});
  CHECK((p[0].seed == 977 && p[1].seed == 978));
  CHECK(dsl::CosimOptions{}.patterns[0].seed == 977);
  for (const char* bad : {"-1", "x", "12x", "99999999999999999999999", " 3"}) {
    CAPTURE(bad);
    ::setenv("QDF_SEED", bad, 1);
    CHECK_THROWS_WITH_AS(dsl::stall_seed(), doctest::Contains(fmt::format("QDF_SEED is '{}'", bad).c_str()), UserError);
  }
  ::unsetenv("QDF_SEED");
}
