// Which images `qdf sim` checks against the reference model (host/cli/sim_flow.hpp): every image
// of a small run, a sample within the reference model's budget on a big one (always the first
// and the last), or what --reference says; a bad --reference is a user error naming it.
#include "dsl/errors.hpp"
#include "host/cli/sim_flow.hpp"

#include <algorithm>
#include <doctest/doctest.h>

using namespace qdf;
using namespace qdf::host;

TEST_CASE("reference check: all of a small run, a spread sample of a big one, or as --reference says") {
  const manager::Net& sfc = manager::builtin_net("sfc").net;        // 3.3e5 MACs an image
  const manager::Net& cnv = manager::builtin_net("cnv").net;        // 5.9e7
  const manager::Net& resnet = manager::builtin_net("resnet18").net;  // 1.8e9
  std::vector<int> twelve;
  for (int i = 0; i < 12; ++i) twelve.push_back(i);
  CHECK(reference_images(sfc, 12, {}) == twelve);
  const std::vector<int> c = reference_images(cnv, 200, {});
  CHECK(c.size() == 2'000'000'000 / 59'461'376);  // 33 within the budget
  CHECK(c.front() == 0);
  CHECK(c.back() == 199);
  CHECK(std::adjacent_find(c.begin(), c.end(), [](int a, int b) { return a >= b; }) == c.end());  // distinct, ascending
  CHECK(reference_images(resnet, 8, {}) == std::vector<int>{0, 7});
  CHECK(reference_images(resnet, 1, {}) == std::vector<int>{0});
  CHECK(reference_images(resnet, 8, parse_reference_check("all")).size() == 8);
  CHECK(reference_images(sfc, 12, parse_reference_check("none")).empty());
  CHECK(reference_images(sfc, 12, parse_reference_check("3")) == std::vector<int>{0, 5, 11});
  CHECK(reference_images(sfc, 12, parse_reference_check("1")) == std::vector<int>{0});
  CHECK(reference_images(sfc, 12, parse_reference_check("40")) == twelve);
  for (const char* bad : {"0", "-2", "some", "3x", ""})
    CHECK_THROWS_WITH_AS(parse_reference_check(bad), doctest::Contains("--reference takes all, none or a number of images >= 1"),
                         UserError);
}
