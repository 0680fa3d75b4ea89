// The model of a link that carries one stream: a ring link between two FPGAs, or the host link
// (PCIe) into the first FPGA or out of the last. It is the one definition of a link's timing:
// the simulator (sim/simulator.cpp) and the RTL harness (host/rtl/rtl_harness.cpp), which joins the
// Verilator models of the FPGA tops, both drive this class, so that they agree by construction.
//
// Time is in clock cycles. Elements leave the sender one at a time, in order:
//   - serialization: the wire carries `bits_per_cycle` bits per cycle; an element of `width`
//     bits keeps it busy for width / bits_per_cycle cycles (idle time is not saved up), and at
//     most one element leaves per cycle;
//   - latency: an element sent in cycle c is visible at the receiving end from cycle c + latency;
//   - credits: the receiver has room for `credits` elements; element i may leave only when the
//     credit of element i - credits has come back, `latency` cycles after the receiver took it.
// The sender's port is ready in cycle c when earliest_send(c) == c; the receiver's port is
// valid in cycle c when an element has arrived (received() < sent() and arrival(received()) <= c).
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>

namespace qdf::sim {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct LinkParams {
  std::string name;             // "host_in", "ring_0_1", "host_out"
  int width = 1;                // bits per element
  double bits_per_cycle = 1;    // bandwidth at the clock
  std::int64_t latency = 1;     // cycles, at least 1
  std::int64_t credits = 1;     // elements the receiving end holds, at least 1
};

class LinkModel {
 public:
  explicit LinkModel(LinkParams p) : p_(std::move(p)) {
    if (p_.width < 1 || !(p_.bits_per_cycle > 0) || p_.latency < 1 || p_.credits < 1)
      throw std::invalid_argument("link " + p_.name + ": width, bandwidth, latency and credits must be positive");
  }
  const LinkParams& params() const { return p_; }
  std::int64_t sent() const { return sent_; }
  std::int64_t received() const { return received_; }

  // The earliest cycle >= c in which element sent() may leave, or kNever while it waits for a
  // credit whose element the receiver has not taken yet.
  std::int64_t earliest_send(std::int64_t c) const {
    std::int64_t t = std::max(c, last_send_ + 1);
    t = std::max(t, static_cast<std::int64_t>(std::ceil(wire_free_)));
    if (sent_ >= p_.credits) {
      const std::int64_t owed = sent_ - p_.credits;  // the element whose credit is needed
      if (owed >= received_) return kNever;
      t = std::max(t, taken_[static_cast<size_t>(owed - taken_base_)] + p_.latency);
    }
    return t;
  }
  // Element sent() leaves in cycle c (c >= earliest_send(c) is the caller's to ensure).
  void send(std::int64_t c) {
    wire_free_ = std::max(wire_free_, static_cast<double>(c)) + p_.width / p_.bits_per_cycle;
    last_send_ = c;
    sends_.push_back(c);
    ++sent_;
  }
  // The cycle from which element i (received() <= i < sent()) is visible at the receiver.
  std::int64_t arrival(std::int64_t i) const { return sends_[static_cast<size_t>(i - received_)] + p_.latency; }
  // The receiver takes element received() in cycle c; its credit is back at c + latency.
  void receive(std::int64_t c) {
    sends_.pop_front();
    taken_.push_back(c);
    ++received_;
    // Only the last `credits` take times are ever needed.
    while (static_cast<std::int64_t>(taken_.size()) > p_.credits) {
      taken_.pop_front();
      ++taken_base_;
    }
  }
  // Cycles the wire was busy (for utilisation): elements sent x width / bits_per_cycle.
  double busy_cycles() const { return static_cast<double>(sent_) * p_.width / p_.bits_per_cycle; }

 private:
  LinkParams p_;
  std::int64_t sent_ = 0, received_ = 0;
  std::int64_t last_send_ = -1;
  double wire_free_ = 0;
  std::deque<std::int64_t> sends_;  // send cycles of elements in flight (sent, not yet taken)
  std::deque<std::int64_t> taken_;  // take cycles of elements taken_base_ ...
  std::int64_t taken_base_ = 0;
};

}  // namespace qdf::sim
