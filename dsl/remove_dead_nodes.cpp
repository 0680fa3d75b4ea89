// remove_dead_nodes: marks dead every node from which no output can be reached. A RAM is live
// when one of its reads is live (its write port then is too). Inputs and scalars stay, with what
// their enables read: they are ports, and the interface is the one the user declared. Node
// indices stay stable; dead nodes are skipped by every later pass and backend.
#include "dsl/passes.hpp"

namespace qdf::dsl {

void remove_dead_nodes(Kernel& k) {
  std::vector<char> live(k.nodes.size(), 0);
  std::vector<NodeId> stack(k.outputs.begin(), k.outputs.end());
  stack.insert(stack.end(), k.inputs.begin(), k.inputs.end());
  stack.insert(stack.end(), k.scalars.begin(), k.scalars.end());
  while (!stack.empty()) {
    NodeId v = stack.back();
    stack.pop_back();
    if (live[static_cast<size_t>(v)]) continue;
    live[static_cast<size_t>(v)] = 1;
    for (NodeId a : k.at(v).args)
      if (a != kNoNode) stack.push_back(a);
  }
  for (size_t i = 0; i < k.nodes.size(); ++i)
    if (!live[i]) k.nodes[i].dead = true;
}

}  // namespace qdf::dsl
