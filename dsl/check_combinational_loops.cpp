// check_combinational_loops: a value may depend on itself only through state (a register, a
// RAM, a delay, a negative offset). A cycle of same-tick dependences has no hardware meaning and
// is reported with every node on it. Expects a checked kernel; changes nothing.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"

#include <fmt/format.h>

namespace qdf::dsl {

void check_combinational_loops(const Kernel& k) {
  const size_t n = k.nodes.size();
  // Iterative DFS with colours; on a back edge, the stack from the target to here is the loop.
  std::vector<char> colour(n, 0);  // 0 new, 1 on stack, 2 done
  std::vector<NodeId> path;
  std::vector<std::pair<NodeId, size_t>> stack;
  for (NodeId root = 0; root < static_cast<NodeId>(n); ++root) {
    if (k.at(root).dead || colour[static_cast<size_t>(root)]) continue;
    stack.push_back({root, 0});
    colour[static_cast<size_t>(root)] = 1;
    path.push_back(root);
    while (!stack.empty()) {
      auto& [v, i] = stack.back();
      const Node& node = k.at(v);
      if (i < node.args.size()) {
        size_t arg = i++;
        NodeId a = node.args[arg];
        if (a == kNoNode || !is_combinational_arg(node, static_cast<int>(arg))) continue;
        if (colour[static_cast<size_t>(a)] == 1) {
          std::string loop;
          bool on = false;
          for (NodeId p : path) {
            if (p == a) on = true;
            if (on) loop += fmt::format("\n    {}", k.describe(p));
          }
          throw UserError(fmt::format(
              "{}: error: in kernel '{}': combinational loop: these values depend on themselves in the same tick; "
              "break the loop with a register or offset(x, -1):{}",
              k.at(a).loc.str(), k.name, loop));
        }
        if (colour[static_cast<size_t>(a)] == 0) {
          colour[static_cast<size_t>(a)] = 1;
          path.push_back(a);
          stack.push_back({a, 0});
        }
      } else {
        colour[static_cast<size_t>(v)] = 2;
        path.pop_back();
        stack.pop_back();
      }
    }
  }
}

}  // namespace qdf::dsl
