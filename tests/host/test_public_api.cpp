// The public API (<qdf/qdf.hpp>) and a program's own tool (qdf::main): a network the program
// built, with the weights it gives, is what gets planned, written and simulated.
#include <qdf/qdf.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace {

qdf::Net small_residual_net() {
  using namespace qdf;
  Net net = input("image", {6, 6, 1}, 8) >> conv("c1", 3, 4, 1, 1) >> act(2) >>
            residual(conv("ra", 3, 4, 1, 1) >> act(2) >> conv("rb", 3, 4, 1, 1), 0, Net(), "res") >> act(2) >> global_pool() >>
            fc("fc", 4) >> label_select();
  net.name = "small";
  return net;
}

// The ±1 weight bits of every conv and fc layer, by name: what tells two sets of weights apart.
std::vector<std::vector<std::uint64_t>> weight_bits(const qdf::ModelWeights& w) {
  std::vector<std::vector<std::uint64_t>> out;
  for (const auto& [name, m] : w.weights) out.push_back(m.words);
  return out;
}

}  // namespace

TEST_CASE("qdf::plan and qdf::simulate run the network the program built; the simulator matches the reference model") {
  const qdf::Net net = small_residual_net();
  qdf::Target t;
  t.device = qdf::device("zynq");
  qdf::Design d = qdf::plan(net, qdf::random_weights(net, 5), t);
  CHECK(d.net.name == "small");
  CHECK(d.plan.fpgas.size() == 1);
  const qdf::SimRun r = qdf::simulate(d, 3);
  CHECK(r.outputs_match_reference);
  CHECK(r.images == 3);
  CHECK_THROWS_AS(qdf::simulate(d, 0), qdf::UserError);
  CHECK_THROWS_AS(qdf::compile(net, qdf::random_weights(net, 5), t, ""), qdf::UserError);
}

TEST_CASE("a program's tool compiles its network with the weights it gives, or seeded random ones when asked") {
  const qdf::Net net = small_residual_net();
  const qdf::ModelWeights given = qdf::random_weights(net, 77);
  REQUIRE(weight_bits(given) != weight_bits(qdf::random_weights(net, 1)));  // the default seed's differ
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "qdf-test-public-api";
  std::filesystem::remove_all(dir);
  auto run = [&](std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    return qdf::main(static_cast<int>(argv.size()), argv.data(), net, given);
  };
  const std::string out1 = (dir / "given").string(), out2 = (dir / "random").string();
  REQUIRE(run({"small_tool", "compile", "--device", "zynq", "--out", out1}) == 0);
  CHECK(weight_bits(qdf::open_bundle(out1).weights) == weight_bits(given));
  REQUIRE(run({"small_tool", "compile", "--device", "zynq", "--random-weights", "--weights-seed", "3", "--out", out2}) == 0);
  CHECK(weight_bits(qdf::open_bundle(out2).weights) == weight_bits(qdf::random_weights(net, 3)));
  // A user error is exit code 1, and writes nothing.
  CHECK(run({"small_tool", "compile", "--device", "no-such-device", "--out", (dir / "bad").string()}) == 1);
  CHECK_FALSE(std::filesystem::exists(dir / "bad"));
  // `qdf`'s own subcommands for built-in networks are not a program's.
  CHECK(run({"small_tool", "nets"}) != 0);
  std::filesystem::remove_all(dir);
}
