// A credit rule's history: the cycles at which the last few elements of a stream were taken,
// kept in a deque of elements base .. count - 1 (sim::LinkModel, engines::RingStreamTiming).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

namespace qdf::engines {

// The history moved on by `images` images of `per_image` elements and `period` cycles each, as a
// steady state has it (sim/simulator.cpp): the last image's cycles repeated, `period` cycles later
// each time, and only the last `keep` kept; when fewer than an image's are kept, each moved on.
inline void shift_history(std::deque<std::int64_t>& h, std::int64_t& base, std::int64_t count, std::int64_t keep, std::int64_t per_image,
                          std::int64_t images, std::int64_t period) {
  if (static_cast<std::int64_t>(h.size()) < per_image) {
    for (std::int64_t& c : h) c += period * images;
    base += per_image * images;
    return;
  }
  const std::vector<std::int64_t> last(h.end() - per_image, h.end());
  // Images whose cycles the last `keep` do not reach are not repeated (those left of the old
  // history are then dropped below).
  const std::int64_t from = std::max<std::int64_t>(1, images - (keep + per_image - 1) / per_image);
  for (std::int64_t m = from; m <= images; ++m)
    for (std::int64_t c : last) h.push_back(c + m * period);
  base = count + per_image * images - static_cast<std::int64_t>(h.size());
  while (static_cast<std::int64_t>(h.size()) > keep) h.pop_front(), ++base;
}

}  // namespace qdf::engines
