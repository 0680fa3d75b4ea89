// `qdf sweep`'s design points (host/cli/sweep_flow.hpp): each the plan `qdf scale` and `qdf
// compile` make of the same options, in the order of the flags, and bad lists refused by flag.
#include "dsl/errors.hpp"
#include "host/cli/sweep_flow.hpp"
#include "manager/devices.hpp"
#include "manager/model_weights.hpp"
#include "manager/network.hpp"
#include "manager/plan.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace qdf;
using namespace qdf::host;

TEST_CASE("sweep: each point is the plan of its device, FPGA count and fps target, in the flags' order") {
  SweepRequest r;
  r.base.net = "sfc";
  r.devices = {"zynq-7000-xc7z020", "stratix-v-5sgsd8"};
  r.fpgas = {1, 2};
  r.fps = {20000, 0};
  r.foldings = {""};
  const SweepStudy s = sweep(r);
  REQUIRE(s.points.size() == 8);
  const manager::Net& net = manager::builtin_net("sfc").net;
  const manager::ModelWeights w = manager::random_weights(net, 1);
  size_t i = 0;
  for (const std::string& d : r.devices)
    for (double fps : r.fps)
      for (int k : r.fpgas) {
        const SweepPoint& p = s.points[i++];
        CAPTURE(i);
        CHECK(p.device == d);
        CHECK(p.fps_target == fps);
        CHECK(p.plan.fpgas == k);
        manager::PlanOptions o;  // planned afresh, as `qdf compile --device d --fpgas k --fps fps` would
        o.device = manager::device(d);
        o.fpgas = k;
        o.fps = fps;
        const manager::Plan plan = manager::plan_network(net, w, o);
        CHECK(p.plan.error.empty());
        CHECK(p.plan.planned_cycles == plan.cycles_per_image);
        CHECK(p.plan.used_fpgas == static_cast<int>(plan.fpgas.size()));
      }
  // The highest throughput is at least the 20000 fps target's.
  CHECK(s.points[2].plan.fps >= s.points[0].plan.fps);
}

TEST_CASE("sweep: the points planned and simulated on several threads are those of one, in the same order") {
  SweepRequest r;
  r.base.net = "resnet-mini";
  r.devices = {"zynq-7000-xc7z020"};
  r.fpgas = {1, 2, 3};
  r.fps = {2000, 0};
  r.foldings = {""};
  r.simulate = true;
  r.threads = 1;
  const nlohmann::json one = sweep_json(sweep(r));
  r.threads = 3;
  const nlohmann::json three = sweep_json(sweep(r));
  REQUIRE(one["points"].size() == 6);
  for (const nlohmann::json& p : one["points"]) CHECK(p["simulated_cycles_per_image"].get<double>() > 0);
  CHECK(one == three);
  r.threads = 257;
  CHECK_THROWS_WITH_AS(sweep(r), doctest::Contains("--threads must be 0 (every core) or 1 .. 256, not 257"), UserError);
}

TEST_CASE("sweep: empty lists, unknown devices and bad fps targets are refused naming the flag") {
  CHECK_THROWS_WITH_AS(parse_device_list(""), doctest::Contains("--device '': expected devices"), UserError);
  CHECK_THROWS_WITH_AS(parse_device_list("zynq,"), doctest::Contains("item 2 is empty"), UserError);
  CHECK_THROWS_WITH_AS(parse_device_list("zynq,nosuch"), doctest::Contains("--device 'zynq,nosuch': no device named 'nosuch'"), UserError);
  CHECK(parse_device_list("zynq,stratix") == std::vector<std::string>{"zynq-7000-xc7z020", "stratix-v-5sgsd8"});
  CHECK(parse_fps_list("1000,max,2.5e3") == std::vector<double>{1000, 0, 2500});
  CHECK_THROWS_WITH_AS(parse_fps_list("0"), doctest::Contains("--fps '0': expected targets"), UserError);
  CHECK_THROWS_WITH_AS(parse_fps_list("nan"), doctest::Contains("--fps 'nan'"), UserError);
  CHECK_THROWS_WITH_AS(parse_fps_list("10,,20"), doctest::Contains("item 2 is empty"), UserError);
  CHECK_THROWS_WITH_AS(parse_folding_list("no-such-file.json"), doctest::Contains("--folding 'no-such-file.json'"), UserError);
  CHECK(parse_folding_list("search") == std::vector<std::string>{""});
}
