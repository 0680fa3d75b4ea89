// A ring link between two neighbouring FPGAs, written once: its configuration, its timing model
// (which the simulator drives), the Verilog of its two endpoints (which the FPGA tops instance and
// `qdf verify --backend rtl` runs, checked against the timing model) and their resources.
//
// The link carries `lane_bits` bits per cycle (its bandwidth at the clock), split into sub-lanes
// side by side, each of its own bits; every stream crossing the link travels on one sub-lane.
// When the streams are narrow enough, each has a sub-lane of its width to itself and moves an
// element every cycle; otherwise they share one sub-lane of the whole width by a fixed slot table
// (time division): cycle c of sub-lane g belongs to stream slots_g[c mod P_g], counted from the
// end of reset, so that one stream's timing never depends on another's (each keeps its slots
// whether the others use theirs or not). An element of stream s travels as
// flits(s) = ceil(width_s / bits of its sub-lane) flits, least significant first, each in a cycle
// that s owns. Per stream, with element i:
//   take     the sending endpoint takes element i from its stream in a cycle take(i) in which it
//            is offered, holds a credit, and has no flit of element i - 1 left to send after that
//            cycle: take(i) >= last(i - 1), the cycle of element i - 1's last flit;
//   flits    element i's flits leave in the first flits(s) cycles owned by s after take(i), the
//            last in last(i);
//   arrival  the receiving endpoint offers element i to the link FIFO in cycle last(i) + latency
//            (the channel delays flits and credits by `latency` cycles each way);
//   credits  the sender starts with `credits` of them, the capacity of the link FIFO at the
//            receiving end, so that the FIFO never overflows; when the FIFO's consumer takes
//            element j in cycle taken(j), its credit travels back and may be used from cycle
//            taken(j) + latency + 1: take(i) >= taken(i - credits) + latency + 1.
#pragma once

#include "dsl/emit_verilog.hpp"
#include "dsl/estimate_resources.hpp"
#include "engines/cycle_history.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace qdf::engines {

struct RingStream {
  int width = 1;             // bits per element
  std::int64_t credits = 2;  // the capacity of the link FIFO at the receiving end
};

// A sub-lane: `bits` of the link's lane, shared by the streams its slot table names.
struct RingSubLane {
  int bits = 1;
  std::vector<int> slots{0};  // slot table: cycle c belongs to stream slots[c mod slots.size()]
};

struct RingLinkConfig {
  std::string name = "ring";    // a Verilog identifier: the endpoints are <name>_tx and <name>_rx
  int lane_bits = 1;            // the link's bits per cycle, at least the sub-lanes' together
  std::int64_t latency = 1;     // cycles, each way
  std::vector<RingStream> streams;
  std::vector<RingSubLane> sublanes{RingSubLane{}};  // side by side, the first lowest on the lane

  // A link of one sub-lane of all `lane_bits`, shared by `slots`.
  static RingLinkConfig time_shared(std::string name, int lane_bits, std::int64_t latency, std::vector<RingStream> streams,
                                    std::vector<int> slots);

  void check() const;  // a UserError names what is out of range
  int sublane_of(int s) const;  // the sub-lane whose slot table names stream s
  int streams_on(int g) const;   // how many streams sub-lane g carries
  int flits(int s) const {
    const int b = sublanes[static_cast<size_t>(sublane_of(s))].bits;
    return (streams[static_cast<size_t>(s)].width + b - 1) / b;
  }
  int stream_bits() const;  // the width of a sub-lane's stream number (at least 1)
  int used_bits() const;    // the sub-lanes' bits together: the lane_data ports' width
  int lane_stream_bits() const;  // every sub-lane's stream number together: the lane_stream ports' width
  int sublane_offset(int g) const;  // the lowest lane bit of sub-lane g
};

// Lane bits of a link of `bytes_per_second` at `clock_mhz`: the whole bits per cycle (up to 65536;
// under 1 is a UserError).
int ring_lane_bits(double bytes_per_second, double clock_mhz);

// A slot table for streams that each move `flits_per_image[s]` flits per image: each stream gets
// slots in proportion to its flits (at least one), spread evenly over a period of at most 64
// cycles (one slot, the whole lane, for a single stream).
std::vector<int> ring_slot_table(const std::vector<std::int64_t>& flits_per_image);

// The sub-lanes of a lane of `lane_bits` for streams of `widths` that move `flits_per_image[s]`
// flits per image at the whole lane: a sub-lane of its width for each stream when the widths fit
// side by side (every stream an element every cycle), else one sub-lane of the whole lane shared
// by ring_slot_table.
std::vector<RingSubLane> ring_sublanes(int lane_bits, const std::vector<int>& widths, const std::vector<std::int64_t>& flits_per_image);

// The cycles per image the lane needs to carry `elements_per_image[s]` elements of each stream
// in its slots: the busiest stream's.
double ring_cycles_per_image(const RingLinkConfig& c, const std::vector<std::int64_t>& elements_per_image);

// The most elements per cycle stream s can move: the share of its sub-lane's slots it owns over
// its flits per element (1 for a stream alone on a sub-lane as wide as its elements).
double ring_stream_rate(const RingLinkConfig& c, int s);

// The credits that let stream s use every slot it owns: its rate, owned / (P x flits) elements
// per cycle (P its sub-lane's period), times a credit's round trip (flits out, 2 x latency, the
// FIFO's cycle, slot alignment), plus 2; at least 3 (a link FIFO of depth >= 2).
std::int64_t ring_full_rate_credits(const RingLinkConfig& c, int s);

constexpr std::int64_t kRingNever = std::numeric_limits<std::int64_t>::max();

// The timing of one stream of a ring link (the rules above); streams are independent.
class RingStreamTiming {
 public:
  RingStreamTiming(const RingLinkConfig& c, int stream);
  std::int64_t sent() const { return sent_; }
  std::int64_t consumed() const { return taken_.taken(); }
  // The earliest cycle >= c in which element sent() may be taken, or kRingNever while it waits
  // for a credit whose element the FIFO's consumer has not taken yet.
  std::int64_t earliest_take(std::int64_t c) const;
  // Element sent() is taken in cycle c (>= earliest_take(c), the caller's to ensure); returns the
  // cycle in which it arrives at the receiving end.
  std::int64_t take(std::int64_t c);
  // The link FIFO's consumer took element consumed() in cycle c.
  void consume(std::int64_t c);
  // The k-th cycle (k >= 1) after c that the stream owns.
  std::int64_t owned_after(std::int64_t c, std::int64_t k) const;
  // Cycles the stream's flits kept the lane busy.
  std::int64_t flit_cycles() const { return sent_ * flits_; }
  // For the simulator's steady state (sim/simulator.cpp), as sim::LinkModel's: the state that
  // decides later takes, with counts less `elements` and cycles less `cycles` (and where `cycles`
  // falls in the slot period); the images its takes keep to one rule for; the state moved on by
  // whole images (of `period` cycles, a whole number of slot periods).
  void state(std::vector<std::int64_t>& out, std::int64_t elements, std::int64_t cycles) const;
  std::int64_t uniform_images(std::int64_t per_image) const;
  void shift(std::int64_t per_image, std::int64_t images, std::int64_t period);

 private:
  std::vector<int> owned_;  // offsets in the period that the stream owns, ascending
  std::int64_t period_ = 1, latency_ = 1, credits_ = 1;
  int flits_ = 1;
  std::int64_t sent_ = 0;
  std::int64_t last_ = -1;               // the cycle of the last flit of element sent() - 1
  CreditHistory taken_;                  // the link FIFO consumer's takes
};

// The endpoints' Verilog (implemented in ring_link_rtl.cpp). Ports, besides clk and rst:
//   <name>_tx: per stream s, a valid/ready stream input in<s>_data/_valid/_ready; the lane
//              outputs lane_data [used_bits], lane_valid [sub-lanes], lane_stream [sub-lanes x
//              stream_bits] (sub-lane g's bits, valid and stream number at its place, the first
//              lowest); the credit input credit [streams] (bit s: one credit of stream s back in
//              this cycle).
//   <name>_rx: the lane inputs lane_data, lane_valid, lane_stream; per stream s a stream output
//              out<s>_data/_valid/_ready (into the link FIFO, whose in_ready credits keep high);
//              the input taken [streams] (bit s: the FIFO's consumer took an element of s in this
//              cycle) and the output credit [streams] (= taken, into the channel back); the
//              output overflow, which rises and stays high if an element was offered while its
//              FIFO had no room (a broken credit invariant).
dsl::VerilogModule ring_tx_module(const RingLinkConfig& c);
dsl::VerilogModule ring_rx_module(const RingLinkConfig& c);
dsl::Resources ring_tx_resources(const RingLinkConfig& c);
dsl::Resources ring_rx_resources(const RingLinkConfig& c);

}  // namespace qdf::engines
