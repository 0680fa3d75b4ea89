// Device models: lookup by part number and clear errors.
#include "dsl/errors.hpp"
#include "manager/devices.hpp"
#include "manager/links.hpp"

#include <doctest/doctest.h>

using namespace qdf;

TEST_CASE("devices are found by their part number, with budgets that are all set") {
  CHECK(manager::device("xc7z020").luts == 53200);
  CHECK(manager::device("5sgsd8").lut_kind == "ALUT");
  CHECK(manager::device("xcvu9p").clock_mhz > 0);
  for (const auto& d : manager::devices()) {
    CHECK(d.luts > 0);
    CHECK(d.ffs > 0);
    CHECK(d.bram_bits >= d.bram_blocks * 18432);
    CHECK(d.dsps > 0);
  }
}

TEST_CASE("an unknown or ambiguous device is a user error naming the choices") {
  CHECK_THROWS_WITH_AS(manager::device("xc7k325t"), doctest::Contains("the devices are: stratix-v-5sgsd8"), UserError);
  CHECK_THROWS_WITH_AS(manager::device("x"), doctest::Contains("is ambiguous"), UserError);
}

TEST_CASE("link models turn bandwidth and latency into cycles at a clock") {
  manager::Link ring = manager::default_link("ring");
  // 5 GB/s at 100 MHz moves 50 bytes per cycle: a 400-bit element takes one cycle
  CHECK(ring.cycles_per_element(400, 100) == doctest::Approx(1.0));
  CHECK(ring.latency_cycles(100) == doctest::Approx(100.0));
  CHECK_THROWS_WITH_AS(manager::default_link("ethernet"), doctest::Contains("the links are: ring, host"), UserError);
}
