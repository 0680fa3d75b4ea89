// A credit rule's history: the cycles at which a stream's receiver took its last `credits`
// elements, from which the credit of each element sent later comes back (sim::LinkModel,
// engines::RingStreamTiming).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <vector>

namespace qdf::engines {

class CreditHistory {
 public:
  explicit CreditHistory(std::int64_t credits) : credits_(credits) {}
  std::int64_t credits() const { return credits_; }
  std::int64_t taken() const { return count_; }  // elements taken so far
  // The cycle element i was taken (taken() - credits() <= i < taken()).
  std::int64_t at(std::int64_t i) const { return h_[static_cast<size_t>(i - base_)]; }
  // Element taken() is taken in cycle c. Only the last `credits` cycles are ever needed.
  void take(std::int64_t c) {
    h_.push_back(c);
    ++count_;
    while (static_cast<std::int64_t>(h_.size()) > credits_) h_.pop_front(), ++base_;
  }

  // For the simulator's steady state (sim/simulator.cpp), with `sent` elements sent: the count
  // less `elements`, and the cycles a credit may still be read from less `cycles`, appended to
  // `out`.
  void state(std::vector<std::int64_t>& out, std::int64_t sent, std::int64_t elements, std::int64_t cycles) const {
    out.push_back(count_ - elements);
    if (sent >= credits_)
      for (std::int64_t i = std::max(base_, sent - credits_); i < count_; ++i) out.push_back(at(i) - cycles);
  }
  // How many more whole images of `per_image` elements a sender at `sent` keeps to one rule for:
  // all, once its elements need credits; else until they do.
  std::int64_t uniform_images(std::int64_t sent, std::int64_t per_image) const {
    return sent >= credits_ ? std::numeric_limits<std::int64_t>::max() : (credits_ - sent) / per_image;
  }
  // Moved on by `images` images of `per_image` elements and `period` cycles each, as a steady
  // state has it: the last image's cycles repeated, `period` cycles later each time (or, when
  // fewer than an image's are kept, each kept one moved on).
  void shift(std::int64_t per_image, std::int64_t images, std::int64_t period) {
    if (static_cast<std::int64_t>(h_.size()) < per_image) {
      for (std::int64_t& c : h_) c += period * images;
      base_ += per_image * images;
    } else {
      const std::vector<std::int64_t> last(h_.end() - per_image, h_.end());
      // Images whose cycles the last `credits` do not reach are not repeated (those left of the
      // old history are then dropped below).
      const std::int64_t from = std::max<std::int64_t>(1, images - (credits_ + per_image - 1) / per_image);
      for (std::int64_t m = from; m <= images; ++m)
        for (std::int64_t c : last) h_.push_back(c + m * period);
      base_ = count_ + per_image * images - static_cast<std::int64_t>(h_.size());
      while (static_cast<std::int64_t>(h_.size()) > credits_) h_.pop_front(), ++base_;
    }
    count_ += per_image * images;
  }

 private:
  std::int64_t credits_ = 1;
  std::deque<std::int64_t> h_;  // take cycles of elements base_ .. count_ - 1
  std::int64_t base_ = 0, count_ = 0;
};

}  // namespace qdf::engines
