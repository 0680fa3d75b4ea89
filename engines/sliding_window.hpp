// The sliding-window unit (SWU): turns an H x W x C feature map, streamed row by row with
// channels fastest and folded SIMD channels per element, into the K x K windows a convolution
// (or a pool) consumes: for each output pixel (oy, ox), the elements (ky, kx, channel fold) in
// that order, with zeros where the window reaches into the padding P. Stride S.
//
// Line buffer: R rows of W pixels in a RAM, R the power of two >= K + S, written as rows arrive
// and read by window. Two processes share one kernel, each tick doing either, both or neither:
//   the reader takes input row `in_row` while that row's buffer slot is free:
//       in_row < max(top, 0) + R, where top = oy*S - P is the first row of the current windows;
//   the writer emits windows of output row oy once every row they need has arrived:
//       in_row > min(top + K - 1, H - 1).
// When the frame's last window is written and its last row read, one tick resets both for the
// next frame, so frames are independent and cycles per frame are a function of the parameters.
//
// Window parallelism (FINN's parallel window): with `columns` = g > 1 an output element holds g
// neighbouring window pixels (kx = kxg*g .. kxg*g + g-1), all C channels each (SIMD = C), read
// from the line buffer by g read ports; with `rows` = r > 1 as well (columns = K) it holds r
// whole window rows (ky = kyr*r .. kyr*r + r-1), r*K pixels, and with r = K the whole K x K
// window: one element per output pixel, SIMD = K*K*C lanes. The values stream in the same
// order; only the lanes per element grow. This lets an MVTU read a window in K/g or K/(r) ticks
// or one, whatever the channels.
//
// Several windows per element (MMV): with the whole window per element and `windows` = M > 1,
// an element holds the whole windows of M neighbouring output pixels of a row (OW a multiple of
// M), read once per distinct pixel ((M-1)*S + K columns of each window row): an unfolded MVTU
// computes M output pixels a tick from it.
//
// Input parallelism: with `in_pixels` = q > 1 an input element holds q neighbouring pixels of
// a row (SIMD = C, q a power of two dividing W), so that an image with few channels (C = 3)
// arrives in W/q elements a row: the reader takes a row in W/q ticks. The line buffer holds
// the elements as they arrive; a window pixel is read from its element and picked by x % q.
#pragma once

#include "dsl/ir.hpp"
#include "engines/mvtu.hpp"
#include "engines/stream_layout.hpp"

#include <string>
#include <vector>

namespace qdf::engines {

struct WindowConfig {
  int h = 0, w = 0, c = 0;  // input map
  int k = 1, s = 1, p = 0;  // window, stride, zero padding
  int simd = 1;             // channels per element; C must be a multiple
  int bits = 1;             // bits per value
  int columns = 1;          // window pixels of a row per element (> 1 needs SIMD = C and K % columns == 0)
  int rows = 1;             // window rows per element (> 1 needs columns = K and K % rows == 0)
  int in_pixels = 1;        // pixels per input element (> 1 needs SIMD = C, a power of two dividing W)
  int windows = 1;          // whole windows per output element (> 1 needs rows = columns = K and OW % windows == 0)
  std::string name = "sliding_window";

  void check() const;
  int cf() const { return c / simd; }
  int window_pixels() const { return rows * columns * windows; }  // per output element
  int out_h() const { return (h + 2 * p - k) / s + 1; }
  int out_w() const { return (w + 2 * p - k) / s + 1; }
  int buffer_rows() const;  // R
  Lanes lanes() const { return {simd * in_pixels, bits, false}; }          // of the input
  Lanes out_lanes() const { return {simd * window_pixels(), bits, false}; }  // of the windows
};

dsl::Kernel sliding_window_kernel(const WindowConfig& c);

// Input: frames of H*W*C values (row, column, channel). Output: per frame OH*OW*K*K*C values in
// (oy, ox, ky, kx, channel) order: the im2col matrix, one window per output pixel.
std::vector<std::int64_t> sliding_window_forward(const WindowConfig& c, const std::vector<std::int64_t>& input);

// The same windows packed into bit planes (engines/bit_planes.hpp) as an MVTU's functional model
// takes its input vectors, without writing them as values: window v's plane j (bit j of each of
// its K*K*C values) at planes[(v*bits + j)*words], words = ceil(K*K*C / 64), bits = c.bits.
// too_wide: some input value does not fit c.bits bits.
struct WindowPlanes {
  std::vector<std::uint64_t> planes;
  std::size_t windows = 0;
  int words = 0;
  bool too_wide = false;
};
WindowPlanes sliding_window_planes(const WindowConfig& c, const std::vector<std::int64_t>& input, SimdPath path);

// The windows as bytes (c.bits <= 8): window v's K*K*C values at bytes[v*K*K*C ...], for an MVTU
// that counts bytes (engines/bit_planes.hpp, count_byte_matches). too_wide as above.
struct WindowBytes {
  std::vector<std::uint8_t> bytes;
  std::size_t windows = 0;
  bool too_wide = false;
};
WindowBytes sliding_window_bytes(const WindowConfig& c, const std::vector<std::int64_t>& input);

// The max over each window of each channel, what a window max (engines/stream_engines.hpp) gives
// from the windows (the values unsigned, padding 0): a max pool, without the windows.
std::vector<std::int64_t> sliding_window_max(const WindowConfig& c, const std::vector<std::int64_t>& input);

// Ticks per frame of the kernel above, from a row-level model of its two processes.
EngineTiming sliding_window_timing(const WindowConfig& c);

}  // namespace qdf::engines
