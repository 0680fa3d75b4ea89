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
// The wire's busy time is kept as whole cycles and a fraction apart, so that its arithmetic is
// the same at any cycle (the simulator moves a steady state forward by whole images: state()).
// The sender's port is ready in cycle c when earliest_send(c) == c; the receiver's port is
// valid in cycle c when an element has arrived (received() < sent() and arrival(received()) <= c).
#pragma once

#include "engines/cycle_history.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

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
  explicit LinkModel(LinkParams p) : p_(std::move(p)), taken_(p_.credits) {
    if (p_.width < 1 || !(p_.bits_per_cycle > 0) || p_.latency < 1 || p_.credits < 1)
      throw std::invalid_argument("link " + p_.name + ": width, bandwidth, latency and credits must be positive");
    const double per_element = p_.width / p_.bits_per_cycle;
    element_whole_ = static_cast<std::int64_t>(std::floor(per_element));
    element_part_ = per_element - static_cast<double>(element_whole_);
  }
  const LinkParams& params() const { return p_; }
  std::int64_t sent() const { return sent_; }
  std::int64_t received() const { return taken_.taken(); }

  // The earliest cycle >= c in which element sent() may leave, or kNever while it waits for a
  // credit whose element the receiver has not taken yet.
  std::int64_t earliest_send(std::int64_t c) const {
    std::int64_t t = std::max(c, last_send_ + 1);
    t = std::max(t, wire_whole_ + (wire_part_ > 0 ? 1 : 0));
    if (sent_ >= p_.credits) {
      const std::int64_t owed = sent_ - p_.credits;  // the element whose credit is needed
      if (owed >= taken_.taken()) return kNever;
      t = std::max(t, taken_.at(owed) + p_.latency);
    }
    return t;
  }
  // Element sent() leaves in cycle c (c >= earliest_send(c) is the caller's to ensure).
  void send(std::int64_t c) {
    if (c > wire_whole_) wire_whole_ = c, wire_part_ = 0;  // the wire was free before c
    wire_whole_ += element_whole_;
    wire_part_ += element_part_;
    if (wire_part_ >= 1) wire_whole_ += 1, wire_part_ -= 1;
    last_send_ = c;
    sends_.push_back(c);
    ++sent_;
  }
  // The cycle from which element i (received() <= i < sent()) is visible at the receiver.
  std::int64_t arrival(std::int64_t i) const { return sends_[static_cast<size_t>(i - received())] + p_.latency; }
  // The receiver takes element received() in cycle c; its credit is back at c + latency.
  void receive(std::int64_t c) {
    sends_.pop_front();
    taken_.take(c);
  }
  // Cycles the wire was busy (for utilisation): elements sent x width / bits_per_cycle.
  double busy_cycles() const { return static_cast<double>(sent_) * p_.width / p_.bits_per_cycle; }

  // For the simulator's steady state (sim/simulator.cpp), with element counts less `elements`
  // and cycles less `cycles`: everything that decides later sends, appended to `out` (of the take
  // cycles, those a credit may still be read from).
  void state(std::vector<std::int64_t>& out, std::int64_t elements, std::int64_t cycles) const {
    out.insert(out.end(), {sent_ - elements, last_send_ - cycles, wire_whole_ - cycles, std::bit_cast<std::int64_t>(wire_part_),
                           static_cast<std::int64_t>(sends_.size())});
    for (std::int64_t c : sends_) out.push_back(c - cycles);
    taken_.state(out, sent_, elements, cycles);
  }
  // How many more whole images of `per_image` elements its sends keep to the same rule: all, once
  // they need credits; else until they do.
  std::int64_t uniform_images(std::int64_t per_image) const { return taken_.uniform_images(sent_, per_image); }
  // Moved on by `images` images of `per_image` elements and `period` cycles each (a steady state:
  // the take cycles of those images are the last image's, `period` cycles later each time).
  void shift(std::int64_t per_image, std::int64_t images, std::int64_t period) {
    taken_.shift(per_image, images, period);
    sent_ += per_image * images;
    last_send_ += period * images, wire_whole_ += period * images;
    for (std::int64_t& c : sends_) c += period * images;
  }

 private:
  LinkParams p_;
  std::int64_t sent_ = 0;
  std::int64_t last_send_ = -1;
  std::int64_t element_whole_ = 0;  // an element's time on the wire: whole cycles and a fraction
  double element_part_ = 0;
  std::int64_t wire_whole_ = 0;     // the wire is free from wire_whole_ + wire_part_ (0 <= part < 1)
  double wire_part_ = 0;
  std::deque<std::int64_t> sends_;  // send cycles of elements in flight (sent, not yet taken)
  engines::CreditHistory taken_;    // the receiver's takes
};

}  // namespace qdf::sim
