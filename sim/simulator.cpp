#include "sim/simulator.hpp"

#include "sim/engine_schedule.hpp"
#include "sim/graph_values.hpp"
#include "sim/thread_pool.hpp"
#include "sim/link_model.hpp"
#include "sim/run_timing.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <deque>
#include <fmt/format.h>
#include <limits>
#include <memory>
#include <optional>

namespace qdf::sim {

namespace {

using Clock = std::chrono::steady_clock;

// The last few cycles of a sequence, by element index; a power-of-two ring.
class TimeRing {
 public:
  explicit TimeRing(std::int64_t least)
      : v_(std::bit_ceil(static_cast<std::uint64_t>(std::max<std::int64_t>(least, 1)))), mask_(v_.size() - 1) {}
  std::int64_t& operator[](std::int64_t k) { return v_[static_cast<size_t>(k) & mask_]; }
  std::int64_t operator[](std::int64_t k) const { return v_[static_cast<size_t>(k) & mask_]; }
  std::int64_t size() const { return static_cast<std::int64_t>(v_.size()); }
  // The last min(size, count) entries before `count`, less `cycles`, appended to `out`.
  void state(std::vector<std::int64_t>& out, std::int64_t count, std::int64_t cycles) const {
    for (std::int64_t k = std::max<std::int64_t>(0, count - size()); k < count; ++k) out.push_back((*this)[k] - cycles);
  }
  // Those entries moved on to the indices `elements` later, their cycles `cycles` later.
  void shift(std::int64_t count, std::int64_t elements, std::int64_t cycles) {
    const std::int64_t from = std::max<std::int64_t>(0, count - size());
    std::vector<std::int64_t> kept;
    for (std::int64_t k = from; k < count; ++k) kept.push_back((*this)[k] + cycles);
    for (std::int64_t k = from; k < count; ++k) (*this)[k + elements] = kept[static_cast<size_t>(k - from)];
  }

 private:
  std::vector<std::int64_t> v_;
  size_t mask_;
};

// A queue of cycles: a vector read from `head`, its read part dropped now and then (a FIFO's
// occupancy logs, pushed and popped once per element: cheaper than a deque).
class CycleQueue {
 public:
  bool empty() const { return head_ == v_.size(); }
  std::int64_t front() const { return v_[head_]; }
  std::int64_t back() const { return v_.back(); }
  void push_back(std::int64_t c) {
    if (head_ > 64 && head_ * 2 > v_.size()) {
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    v_.push_back(c);
  }
  void pop_front() { ++head_; }
  std::int64_t size() const { return static_cast<std::int64_t>(v_.size() - head_); }
  std::int64_t* begin() { return v_.data() + head_; }
  std::int64_t* end() { return v_.data() + v_.size(); }
  const std::int64_t* begin() const { return v_.data() + head_; }
  const std::int64_t* end() const { return v_.data() + v_.size(); }

 private:
  std::vector<std::int64_t> v_;
  size_t head_ = 0;
};

struct Process;
struct FifoProcess;

constexpr std::int64_t kAlways = std::numeric_limits<std::int64_t>::max();

// One stream's handshakes: element k is pushed in cycle push(k), visible to the consumer from
// push(k) + 1, and popped in cycle pop(k). The producer's room rule: push(k) >= pop(k - cap) +
// delta (a kernel's two-entry output buffer: cap 2, delta 1, as `count != 2` is checked before
// the pop of the same cycle; a FIFO's output register: cap 1, delta 0, refilled in the cycle it
// is emptied; a link's receiving end: no rule, credits bound it).
struct Channel {
  std::string name;
  int cap = 2, delta = 1;
  std::int64_t pushed = 0, popped = 0;
  TimeRing pushes, pops;
  Process* producer = nullptr;
  Process* consumer = nullptr;
  bool consumer_waits = false, producer_waits = false;
  CycleQueue* pop_log = nullptr;  // pop cycles not yet merged (a FIFO's output, for its peak)
  // A FIFO's input (`into_fifo`) or output (`out_of_fifo`): the FIFO moves elements when either
  // side of it moves one (FifoProcess::advance), not as a process of its own. Its output's pushes
  // are the cycles from which elements are ready to load (the take plus one); the load itself, into
  // the output register, is no earlier than the pop of the element before (push_time).
  FifoProcess* into_fifo = nullptr;
  FifoProcess* out_of_fifo = nullptr;
  // A ring link FIFO's output: the link's stream, whose credits its pops return, waits on them.
  Process* pop_watcher = nullptr;
  bool watcher_waits = false;

  std::int64_t per_image = 0;  // elements of the stream per image

  Channel(std::string n, int cap_, int delta_, std::int64_t in_flight, std::int64_t per_image_)
      : name(std::move(n)), cap(cap_), delta(delta_), pushes(in_flight + 1), pops(std::max<std::int64_t>(cap_, in_flight) + 1),
        per_image(per_image_) {}
  // The cycle element k was pushed, for its consumer (k == popped) or a FIFO's room rule: a FIFO's
  // load is no earlier than the pop before it. On other channels that rule changes nothing (a
  // consumer takes element k after the cycle it took k - 1), and applying it everywhere saves a
  // branch on the kind of channel.
  std::int64_t push_time(std::int64_t k) const { return std::max(pushes[k], pops[k - 1]); }
  std::int64_t pop_time(std::int64_t k) const { return pops[k]; }

  // Past every rule that counts from the run's start once both rings are full (they are at least
  // as long as any distance back that a rule reads).
  std::int64_t uniform_images() const { return pushed >= pushes.size() && popped >= pops.size() ? kAlways : 0; }
  void state(std::vector<std::int64_t>& out, std::int64_t images, std::int64_t cycles) const {
    out.insert(out.end(), {pushed - images * per_image, popped - images * per_image, consumer_waits, producer_waits, watcher_waits});
    pushes.state(out, pushed, cycles);
    pops.state(out, popped, cycles);
  }
  void shift(std::int64_t images, std::int64_t period) {
    const std::int64_t e = images * per_image;
    pushes.shift(pushed, e, images * period);
    pops.shift(popped, e, images * period);
    pushed += e, popped += e;
  }
};

class Simulation;

struct Process {
  std::string name;
  int fpga = 0;
  bool queued = false, finished = false;
  // What it sleeps on: a channel it needs an element from, or room on.
  Channel* waits_empty = nullptr;
  Channel* waits_full = nullptr;
  std::int64_t cycle = 0;  // its local time: the cycle of its next attempt
  // Stopped at the end of the current phase (see simulate): it moves nothing of later images
  // until the phase after begins.
  bool at_limit = false;
  virtual ~Process() = default;
  virtual void step(Simulation& sim) = 0;
  // The phase: images 0 .. `images` - 1 (the run's end when `images` is past its last image).
  virtual void limit_to(std::int64_t images) = 0;
  // How many more whole images it keeps to the same rules for from here (kAlways once past every
  // rule that counts from the run's start: see simulate).
  virtual std::int64_t uniform_images() const = 0;
  // Everything that decides what it does next, with counts less those of `images` images and
  // cycles less `cycles`; and the same state moved on by `images` images of `period` cycles.
  virtual void state(std::vector<std::int64_t>& out, std::int64_t images, std::int64_t cycles) const = 0;
  virtual void shift(std::int64_t images, std::int64_t period) = 0;

 protected:
  void base_state(std::vector<std::int64_t>& out, std::int64_t cycles) const {
    out.insert(out.end(), {cycle - cycles, finished, at_limit, reinterpret_cast<std::intptr_t>(waits_empty),
                           reinterpret_cast<std::intptr_t>(waits_full)});
  }
};

class Simulation {
 public:
  std::vector<std::unique_ptr<Channel>> channels;
  std::vector<std::unique_ptr<Process>> procs;
  std::vector<Process*> ready;  // a stack: see the run loop
  std::int64_t delivered = 0, expected = 0;

  void wake(Process* p) {
    if (p && !p->queued && !p->finished) {
      p->queued = true;
      ready.push_back(p);
    }
  }
  void push(Channel& ch, std::int64_t c);
  void pop(Channel& ch, std::int64_t c);
};

// A kernel engine replaying its schedule.
struct KernelProcess : Process {
  std::shared_ptr<const EngineSchedule> s;
  std::vector<Channel*> in, out;
  std::int64_t T = 0;        // logical ticks of the run
  std::int64_t stop = 0;     // the phase's last tick + 1 (T + latency: the run's end)
  std::int64_t tick = 0;     // ticks advanced
  size_t pos = 0;            // next step of the schedule
  std::int64_t base = 0;     // first tick of the frame `pos` is in
  std::int64_t stall_in = 0, stall_out = 0;
  std::int64_t phase_stall_in = 0, phase_stall_out = 0;  // at the current phase's start

  void limit_to(std::int64_t images) override {
    stop = std::min(T + s->latency, images * s->ticks_per_image);
    phase_stall_in = stall_in, phase_stall_out = stall_out;
  }
  std::int64_t uniform_images() const override { return tick >= s->latency ? kAlways : 0; }
  void state(std::vector<std::int64_t>& out, std::int64_t images, std::int64_t cycles) const override {
    base_state(out, cycles);
    out.insert(out.end(), {tick - images * s->ticks_per_image, static_cast<std::int64_t>(pos), base - images * s->ticks_per_image});
  }
  // (Each image moved over stalls as the phase just run did.)
  void shift(std::int64_t images, std::int64_t period) override {
    tick += images * s->ticks_per_image, base += images * s->ticks_per_image;
    cycle += images * period;
    stall_in += images * (stall_in - phase_stall_in), stall_out += images * (stall_out - phase_stall_out);
  }

  void step(Simulation& sim) override {
    // Most kernels have one input and one output: their loop without the port masks' loops.
    if (in.size() == 1 && out.size() == 1) run<true>(sim);
    else run<false>(sim);
  }

  template <bool kOneEach>
  void run(Simulation& sim) {
    waits_empty = waits_full = nullptr;
    at_limit = false;
    const std::int64_t L = s->latency, end = stop, period = s->period;
    const EngineSchedule::Step* const steps = s->steps.data();
    const size_t n_steps = s->steps.size();
    // The loop's state in locals (the rings' stores could otherwise alias the members), stored
    // back when it stops.
    std::int64_t tk = tick, cy = cycle, b = base, s_in = stall_in, s_out = stall_out;
    size_t ps = pos;
    auto save = [&] { tick = tk, cycle = cy, base = b, stall_in = s_in, stall_out = s_out, pos = ps; };
    // Calls f(i) for each port i of mask m until one returns false.
    auto each = [](std::uint32_t m, auto&& f) {
      if constexpr (kOneEach) {
        if (m) return f(0);
      } else {
        for (; m; m &= m - 1)
          if (!f(std::countr_zero(m))) return false;
      }
      return true;
    };
    for (;;) {
      // The next tick that moves an element, with the run's start and end applied.
      std::int64_t at = end;
      std::uint32_t im = 0, om = 0;
      while (n_steps) {
        const EngineSchedule::Step& st = steps[ps];
        const std::int64_t t = b + st.tick;
        if (t >= end) break;
        if (t >= L && t < T) {  // the run's middle: every step moves its ports
          im = st.in, om = st.out, at = t;
          break;
        }
        im = t < T ? st.in : 0;
        om = t >= L ? st.out : 0;
        if (im | om) {
          at = t;
          break;
        }
        if (++ps == n_steps) ps = 0, b += period;
      }
      cy += at - tk;  // free ticks: one cycle each
      tk = at;
      if (tk == end) {
        if (end == T + L) finished = true;
        else at_limit = true;
        return save();
      }
      std::int64_t rin = cy, rout = cy;
      const bool inputs_ready = each(im, [&](int i) {
        Channel& ch = *in[static_cast<size_t>(i)];
        if (ch.popped >= ch.pushed) {
          ch.consumer_waits = true;
          waits_empty = &ch;
          return false;
        }
        rin = std::max(rin, ch.push_time(ch.popped) + 1);
        return true;
      });
      if (!inputs_ready) return save();
      const bool outputs_ready = each(om, [&](int j) {
        Channel& ch = *out[static_cast<size_t>(j)];
        const std::int64_t k = ch.pushed - ch.cap;
        if (k < 0) return true;
        if (ch.popped <= k) {
          ch.producer_waits = true;
          waits_full = &ch;
          return false;
        }
        rout = std::max(rout, ch.pop_time(k) + ch.delta);
        return true;
      });
      if (!outputs_ready) return save();
      const std::int64_t go = std::max(rin, rout);
      s_in += rin - cy;
      s_out += go - rin;
      cy = go;
      // The pops and pushes may run a FIFO beside, which reads nothing of this process's loop state.
      each(im, [&](int i) {
        sim.pop(*in[static_cast<size_t>(i)], go);
        return true;
      });
      each(om, [&](int j) {
        sim.push(*out[static_cast<size_t>(j)], go);
        return true;
      });
      ++tk;
      ++cy;
      if (++ps == n_steps) ps = 0, b += period;
    }
  }
};

// The stream FIFO of engines/fifo.hpp: element m is taken from the input in cycle a(m) when it
// is visible, one per cycle, and the memory of `depth` has room (the load of element m - depth
// happened before a(m)); it is loaded into the output register in cycle
// load(m) = max(a(m) + 1, pop(m - 1)) and visible from load(m) + 1.
//
// These rules read only the neighbours' cycles, so the FIFO takes what it can whenever its
// producer pushes or its consumer pops (advance): the kernels on its two sides each run up to the
// FIFO's capacity ahead of the other, rather than handing over to the FIFO for every element. Its
// output channel holds a(m) + 1 as element m's push, and Channel::push_time applies the load rule.
struct FifoProcess : Process {
  Channel* in = nullptr;
  Channel* out = nullptr;
  std::int64_t depth = 0, total = 0, per_image = 0;
  std::int64_t limit = 0;  // the phase's last element + 1
  std::int64_t taken = 0, last_take = -1;
  bool advancing = false, again = false;
  // The peak occupancy, merged from take and pop cycles as they become final, so that the logs
  // hold only a window of elements rather than the whole run.
  CycleQueue take_log, pop_log;
  std::int64_t occupancy = 0, peak_occupancy = 0;

  explicit FifoProcess(std::int64_t d) : depth(d) {}

  void step(Simulation& sim) override { advance(sim); }
  void limit_to(std::int64_t images) override { limit = std::min(total, images * per_image); }
  std::int64_t uniform_images() const override { return taken > depth ? kAlways : 0; }
  void state(std::vector<std::int64_t>& out, std::int64_t images, std::int64_t cycles) const override {
    base_state(out, cycles);
    out.insert(out.end(), {taken - images * per_image, last_take - cycles, occupancy, take_log.size(), pop_log.size()});
    for (std::int64_t c : take_log) out.push_back(c - cycles);
    for (std::int64_t c : pop_log) out.push_back(c - cycles);
  }
  void shift(std::int64_t images, std::int64_t period) override {
    const std::int64_t cycles = images * period;
    taken += images * per_image;
    last_take += cycles, cycle += cycles;
    for (std::int64_t& c : take_log) c += cycles;
    for (std::int64_t& c : pop_log) c += cycles;
  }

  // Takes every element it can now. Re-entered (a FIFO feeding a FIFO), it leaves the rest to the
  // call in progress.
  void advance(Simulation& sim) {
    if (advancing) {
      again = true;
      return;
    }
    advancing = true;
    do {
      again = false;
      // Room for element m: the load of m - depth, known once the element before it was popped.
      while (taken < limit && in->pushed > taken && (taken < depth || out->popped >= taken - depth)) {
        std::int64_t c = std::max(in->push_time(taken) + 1, last_take + 1);
        if (taken >= depth) c = std::max(c, out->push_time(taken - depth) + 1);
        last_take = c;
        take_log.push_back(c);
        merge_occupancy(false);
        ++taken;
        sim.pop(*in, c);
        sim.push(*out, c + 1);
      }
    } while (again);
    advancing = false;
    waits_empty = waits_full = nullptr;
    at_limit = false;
    if (taken == total) finished = true;
    else if (taken == limit) at_limit = true;
    else if (in->pushed == taken) waits_empty = in;
    else waits_full = out;
    cycle = last_take;
  }

  // Counts each take at cycle t after the pops in cycles up to t. Pops come in cycle order, so
  // once a pop after t is recorded every pop up to t is: a take is merged then (or at the end).
  void merge_occupancy(bool run_over) {
    while (!take_log.empty() && (run_over || (!pop_log.empty() && pop_log.back() > take_log.front()))) {
      const std::int64_t t = take_log.front();
      take_log.pop_front();
      while (!pop_log.empty() && pop_log.front() <= t) pop_log.pop_front(), --occupancy;
      peak_occupancy = std::max(peak_occupancy, ++occupancy);
    }
  }
  std::int64_t peak() {
    merge_occupancy(true);
    return peak_occupancy;
  }
};

inline void Simulation::push(Channel& ch, std::int64_t c) {
  ch.pushes[ch.pushed++] = c;
  if (ch.consumer_waits) {
    ch.consumer_waits = false;
    wake(ch.consumer);
  }
  if (ch.into_fifo) ch.into_fifo->advance(*this);
}

inline void Simulation::pop(Channel& ch, std::int64_t c) {
  ch.pops[ch.popped++] = c;
  if (ch.pop_log) ch.pop_log->push_back(c);
  if (ch.producer_waits) {
    ch.producer_waits = false;
    wake(ch.producer);
  }
  if (ch.watcher_waits) {
    ch.watcher_waits = false;
    wake(ch.pop_watcher);
  }
  // A pop frees room: it matters to a FIFO only when an element waits for room.
  if (ch.out_of_fifo && ch.out_of_fifo->in->pushed > ch.out_of_fifo->taken) ch.out_of_fifo->advance(*this);
}

// A process that moves one stream's elements over a link whose timing is `Model` (LinkModel,
// engines::RingStreamTiming): its phases and steady state are the model's.
template <class Model>
struct LinkedProcess : Process {
  Model model;
  std::int64_t total = 0, per_image = 0;
  std::int64_t limit = 0;  // the phase's last element + 1

  template <class... Args>
  explicit LinkedProcess(Args&&... args) : model(std::forward<Args>(args)...) {}

  void limit_to(std::int64_t images) override { limit = std::min(total, images * per_image); }
  std::int64_t uniform_images() const override { return model.uniform_images(per_image); }
  void state(std::vector<std::int64_t>& out, std::int64_t images, std::int64_t cycles) const override {
    base_state(out, cycles);
    model.state(out, images * per_image, cycles);
  }
  void shift(std::int64_t images, std::int64_t period) override {
    model.shift(per_image, images, period);
    cycle += images * period;
  }
};

// A link: takes elements from `from` (none: the host, which always has the next one) and
// delivers them to `to` (none: the host, which takes each as it arrives).
struct LinkProcess : LinkedProcess<LinkModel> {
  Channel* from = nullptr;
  Channel* to = nullptr;
  HostTimes* times = nullptr;
  std::vector<std::int64_t> phase_log;  // the cycles it gave `times` in the current phase

  explicit LinkProcess(LinkParams p) : LinkedProcess(std::move(p)) {}

  void step(Simulation& sim) override {
    waits_empty = waits_full = nullptr;
    at_limit = false;
    for (;;) {
      // Credits: the receiver's takes so far.
      if (to)
        while (model.received() < to->popped) model.receive(to->pop_time(model.received()));
      const std::int64_t i = model.sent();
      if (i == limit) {
        if (limit == total) finished = true;
        else at_limit = true;
        return;
      }
      std::int64_t c = cycle;
      if (from) {
        if (from->pushed <= i) {
          from->consumer_waits = true;
          waits_empty = from;
          return;
        }
        c = std::max(c, from->push_time(i) + 1);
      }
      const std::int64_t t = model.earliest_send(c);
      if (t == kNever) {  // waits for the receiver to take an element
        to->producer_waits = true;
        waits_full = to;
        return;
      }
      model.send(t);
      cycle = t + 1;
      const std::int64_t arrive = t + model.params().latency;
      if (from) {
        sim.pop(*from, t);
      } else {
        times->sent(t);
        phase_log.push_back(t);
      }
      if (to) {
        sim.push(*to, arrive - 1);  // visible from `arrive`
      } else {
        model.receive(arrive);
        times->received(arrive);
        phase_log.push_back(arrive);
        ++sim.delivered;
      }
    }
  }
};

// One stream of a ring link (engines/ring_link.hpp; streams are independent): takes elements
// from `from` on the sending FPGA, delivers them to `to`, the input of the link FIFO on the
// receiving FPGA, and gets a credit back for each element taken from that FIFO's output.
struct RingStreamProcess : LinkedProcess<engines::RingStreamTiming> {
  Channel* from = nullptr;
  Channel* to = nullptr;
  Channel* fifo_out = nullptr;

  RingStreamProcess(const engines::RingLinkConfig& c, int k) : LinkedProcess(c, k) {}

  void step(Simulation& sim) override {
    waits_empty = waits_full = nullptr;
    at_limit = false;
    for (;;) {
      while (model.consumed() < fifo_out->popped) model.consume(fifo_out->pop_time(model.consumed()));
      const std::int64_t i = model.sent();
      if (i == limit) {
        if (limit == total) finished = true;
        else at_limit = true;
        return;
      }
      if (from->pushed <= i) {
        from->consumer_waits = true;
        waits_empty = from;
        return;
      }
      const std::int64_t t = model.earliest_take(std::max(cycle, from->push_time(i) + 1));
      if (t == engines::kRingNever) {  // waits for a credit
        fifo_out->watcher_waits = true;
        waits_full = fifo_out;
        return;
      }
      const std::int64_t arrive = model.take(t);
      cycle = t + 1;
      sim.pop(*from, t);
      sim.push(*to, arrive - 1);  // visible to the link FIFO from `arrive`
    }
  }
};

std::string describe_wait(const Process& p) {
  if (p.waits_empty)
    return fmt::format("{} waits for element {} on stream {} (empty)", p.name, p.waits_empty->pushed, p.waits_empty->name);
  if (p.waits_full)
    return fmt::format("{} waits for room on stream {} (full: {} elements not taken, {} taken so far)", p.name,
                       p.waits_full->name, p.waits_full->pushed - p.waits_full->popped, p.waits_full->popped);
  return p.name + (p.finished ? " has finished" : " is ready");
}

}  // namespace

SimResult simulate(const manager::Plan& plan, const std::vector<std::vector<std::int64_t>>& images, const SimOptions& opt) {
  const auto t0 = Clock::now();
  const manager::EngineGraph& g = plan.graph;
  SimResult res;
  res.clock_mhz = plan.clock_mhz;
  const int n_images = opt.timing_only && images.empty() ? opt.images : static_cast<int>(images.size());
  if (n_images < 1) throw UserError("a simulation needs at least one image");

  // Values first: the functional models, images in parallel (each into its own slot, so the
  // outputs do not depend on the thread count).
  if (!opt.timing_only) {
    res.outputs.resize(images.size());
    parallel_for(static_cast<int>(images.size()), resolve_threads(opt.threads),
                 [&](int i) { res.outputs[static_cast<size_t>(i)] = graph_forward(g, images[static_cast<size_t>(i)]); });
    res.value_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  // The kernels' tick schedules, traced in parallel (each once per configuration: a cache).
  {
    const auto ts = Clock::now();
    parallel_for(static_cast<int>(g.engines.size()), resolve_threads(opt.threads), [&](int id) {
      const manager::Engine& e = g.engines[static_cast<size_t>(id)];
      if (!engines::is_buffer(e.config)) engine_schedule(g, e);
    });
    res.schedule_seconds = std::chrono::duration<double>(Clock::now() - ts).count();
  }

  res.times = HostTimes(g.streams[static_cast<size_t>(g.input_stream)].elements, g.streams[static_cast<size_t>(g.output_stream)].elements);
  Simulation sim;
  // Where each stream is cut by a ring link: the link's index and the stream's in it; the credits
  // of the link FIFO at its end, whose output channel keeps that many pop cycles.
  std::vector<std::pair<int, int>> ring_of(g.streams.size(), {-1, -1});
  std::vector<std::int64_t> keep(g.streams.size(), 1);
  for (size_t l = 0; l < plan.links.size(); ++l) {
    const manager::LinkUse& u = plan.links[l];
    if (u.kind != "ring") continue;
    for (size_t k = 0; k < u.streams.size(); ++k) {
      const auto s = static_cast<size_t>(u.streams[k]);
      ring_of[s] = {static_cast<int>(l), static_cast<int>(k)};
      const int fifo = g.streams[s].to;
      keep.at(static_cast<size_t>(g.engines.at(static_cast<size_t>(fifo)).outputs.at(0))) = u.ring.streams[k].credits;
    }
  }
  const LinkParams host_in = host_link_params(plan, plan.links.front()), host_out = host_link_params(plan, plan.links.back());

  // Channels: one per stream, two where a ring link cuts it (the sender's side and the
  // receiver's); the host links' streams have their host side in the link process.
  auto producer_rule = [&](int from) -> std::pair<int, int> {
    if (from < 0) return {0, 0};
    return engines::is_buffer(g.engines[static_cast<size_t>(from)].config) ? std::pair{1, 0} : std::pair{2, 1};
  };
  std::vector<Channel*> send_side(g.streams.size()), recv_side(g.streams.size());
  auto make_channel = [&](const std::string& name, std::pair<int, int> rule, std::int64_t in_flight, std::int64_t per_image) {
    sim.channels.push_back(std::make_unique<Channel>(name, rule.first, rule.second, in_flight, per_image));
    return sim.channels.back().get();
  };
  for (size_t s = 0; s < g.streams.size(); ++s) {
    const manager::StreamEdge& st = g.streams[s];
    std::pair<int, int> rule = producer_rule(st.from);
    std::int64_t in_flight = std::max<std::int64_t>(rule.first, keep[s]);
    // A FIFO runs up to its capacity ahead of its consumer (FifoProcess).
    if (st.from >= 0 && engines::is_buffer(g.engines[static_cast<size_t>(st.from)].config))
      in_flight = std::max<std::int64_t>(in_flight, engines::buffer_depth(g.engines[static_cast<size_t>(st.from)].config) + 1);
    if (st.from < 0) in_flight = host_in.credits;
    send_side[s] = make_channel(st.name, rule, in_flight, st.elements);
    recv_side[s] = send_side[s];
    if (ring_of[s].first >= 0) {
      const manager::LinkUse& u = plan.links[static_cast<size_t>(ring_of[s].first)];
      recv_side[s] = make_channel(st.name + "@" + u.name, {0, 0}, u.ring.streams[static_cast<size_t>(ring_of[s].second)].credits, st.elements);
    }
  }

  const std::int64_t n = n_images;
  std::vector<KernelProcess*> kernels(g.engines.size(), nullptr);
  std::vector<FifoProcess*> fifos(g.engines.size(), nullptr);
  for (size_t id = 0; id < g.engines.size(); ++id) {
    const manager::Engine& e = g.engines[id];
    std::unique_ptr<Process> p;
    std::vector<Channel*> ins, outs;
    for (int s : e.inputs) ins.push_back(recv_side[static_cast<size_t>(s)]);
    for (int s : e.outputs) outs.push_back(send_side[static_cast<size_t>(s)]);
    if (engines::is_buffer(e.config)) {
      auto f = std::make_unique<FifoProcess>(engines::buffer_depth(e.config));
      f->in = ins.at(0);
      f->out = outs.at(0);
      f->per_image = e.cycles_per_image;
      f->total = f->per_image * n;
      f->out->pop_log = &f->pop_log;
      f->in->into_fifo = f.get();
      f->out->out_of_fifo = f.get();
      fifos[id] = f.get();
      p = std::move(f);
    } else {
      auto k = std::make_unique<KernelProcess>();
      k->s = engine_schedule(g, e);
      k->in = ins;
      k->out = outs;
      k->T = k->s->ticks_per_image * n;
      kernels[id] = k.get();
      p = std::move(k);
    }
    p->name = fmt::format("engine {}", e.name);
    p->fpga = e.fpga;
    for (Channel* c : ins) c->consumer = p.get();
    for (Channel* c : outs) c->producer = p.get();
    sim.procs.push_back(std::move(p));
  }
  // The host links, and each ring link as one process per stream.
  std::vector<LinkProcess*> host_links;
  std::vector<std::vector<RingStreamProcess*>> ring_links(plan.links.size());
  for (size_t l = 0; l < plan.links.size(); ++l) {
    const manager::LinkUse& u = plan.links[l];
    if (u.kind == "ring") {
      for (size_t k = 0; k < u.streams.size(); ++k) {
        const auto s = static_cast<size_t>(u.streams[k]);
        auto rp = std::make_unique<RingStreamProcess>(u.ring, static_cast<int>(k));
        rp->name = fmt::format("link {} stream {}", u.name, g.streams[s].name);
        rp->fpga = u.from_fpga;
        rp->per_image = g.streams[s].elements;
        rp->total = rp->per_image * n;
        rp->from = send_side[s];
        rp->to = recv_side[s];
        rp->fifo_out = send_side[static_cast<size_t>(g.engines[static_cast<size_t>(g.streams[s].to)].outputs.at(0))];
        rp->from->consumer = rp.get();
        rp->to->producer = rp.get();
        rp->fifo_out->pop_watcher = rp.get();
        ring_links[l].push_back(rp.get());
        sim.procs.push_back(std::move(rp));
      }
      continue;
    }
    const auto s = static_cast<size_t>(u.streams.at(0));
    auto lp = std::make_unique<LinkProcess>(l == 0 ? host_in : host_out);
    lp->name = fmt::format("link {}", u.name);
    lp->times = &res.times;
    lp->per_image = g.streams[s].elements;
    lp->total = lp->per_image * n;
    if (u.to_fpga >= 0) lp->to = recv_side[s];
    else lp->from = send_side[s];
    if (lp->from) lp->from->consumer = lp.get();
    if (lp->to) lp->to->producer = lp.get();
    host_links.push_back(lp.get());
    sim.procs.push_back(std::move(lp));
  }
  sim.expected = g.streams[static_cast<size_t>(g.output_stream)].elements * n;

  // Run in phases of one image: in phase p no process moves an element of an image after p (its
  // own count of elements or ticks per image decides which), and the phase ends when every
  // process has finished, sleeps, or has reached that limit. The order does not change any cycle,
  // so the phases change none either; what they give is a state that is the same function of the
  // design at every image boundary. When the state at the end of a phase is the state at the end
  // of the phase before moved on by one image (counts) and P cycles (times), and that earlier
  // state was already past every rule that counts from the run's start, then every phase after is
  // the same again, P cycles later, as long as no process reaches the run's end: the run is in
  // its steady state, and it moves on to the end of the last image but one at once (k images and
  // k x P cycles), giving the host the cycles those images would have given it. The end of the run
  // (the last images drain with nothing behind them) is simulated as it comes.
  LinkProcess* const host_in_link = host_links.front();
  LinkProcess* const host_out_link = host_links.back();
  struct PhaseEnd {
    std::vector<std::int64_t> state;
    std::int64_t cycle = 0;
    std::int64_t uniform = kAlways;  // images from here that every process keeps to the same rules for
  };
  auto phase_end = [&](std::int64_t images) {
    PhaseEnd e;
    e.cycle = host_in_link->cycle;
    for (const auto& p : sim.procs) {
      p->state(e.state, images, e.cycle);
      e.uniform = std::min(e.uniform, p->uniform_images());
    }
    for (const auto& c : sim.channels) {
      c->state(e.state, images, e.cycle);
      e.uniform = std::min(e.uniform, c->uniform_images());
    }
    return e;
  };
  std::optional<PhaseEnd> before;
  std::int64_t steps = 0;
  for (std::int64_t phase = 0;; ++phase) {
    for (const auto& p : sim.procs) {
      p->limit_to(phase + 1);
      if (phase == 0 || p->at_limit) sim.wake(p.get());
    }
    host_in_link->phase_log.clear();
    host_out_link->phase_log.clear();
    while (!sim.ready.empty()) {
      Process* p = sim.ready.back();  // the last woken first: its elements are still in cache
      sim.ready.pop_back();
      p->queued = false;
      p->step(sim);
      ++steps;
      if (opt.max_cycles > 0 && p->cycle > opt.max_cycles)
        throw UserError(fmt::format("the simulation of {} ({} images) passed its cycle limit, --max-cycles {}: {} reached cycle {} with {} "
                                    "of {} output elements delivered; raise --max-cycles, or run fewer images",
                                    g.net, n, opt.max_cycles, p->name, p->cycle, sim.delivered, sim.expected));
      if (opt.progress && (steps & 0xfff) == 0) opt.progress(static_cast<double>(sim.delivered) / static_cast<double>(sim.expected));
    }
    if (std::none_of(sim.procs.begin(), sim.procs.end(), [](const auto& p) { return p->at_limit; })) break;  // finished, or stuck
    // Moving on by k images is safe while the phases moved over end before the run's last image,
    // where a process first counts to its end (phase + k <= n - 2), and every process keeps to the
    // same rules through them and the phase just simulated (k + 1 <= before->uniform).
    if (!opt.steady_state_skip || phase + 2 >= n) continue;
    PhaseEnd now = phase_end(phase + 1);
    if (before && before->uniform >= 2 && now.state == before->state && now.cycle > before->cycle) {
      const std::int64_t k = std::min(n - 2 - phase, before->uniform - 1), P = now.cycle - before->cycle;
      for (const auto& p : sim.procs) p->shift(k, P);
      for (const auto& c : sim.channels) c->shift(k, P);
      // The host's cycles of the images moved over: those of this phase, P cycles later each time.
      for (std::int64_t m = 1; m <= k; ++m) {
        for (std::int64_t c : host_in_link->phase_log) res.times.sent(c + m * P);
        for (std::int64_t c : host_out_link->phase_log) res.times.received(c + m * P);
      }
      sim.delivered += k * host_out_link->per_image;
      res.images_moved += k;
      phase += k;
      before.reset();  // the next phase's state is compared with its own successor's
      continue;
    }
    before = std::move(now);
  }
  for (const auto& c : sim.channels) res.events += c->pushed;  // every element moved, once each

  std::vector<Process*> stuck;
  for (auto& p : sim.procs)
    if (!p->finished) stuck.push_back(p.get());
  if (!stuck.empty()) {
    // Follow the waits from a sleeping process to the cycle they form.
    auto next = [](const Process* p) -> Process* {
      if (p->waits_empty) return p->waits_empty->producer;
      if (p->waits_full) return p->waits_full->consumer;
      return nullptr;
    };
    std::vector<Process*> chain;
    Process* p = stuck.front();
    while (p && std::find(chain.begin(), chain.end(), p) == chain.end()) {
      chain.push_back(p);
      p = next(p);
    }
    std::vector<Process*> loop;
    if (p) loop.assign(std::find(chain.begin(), chain.end(), p), chain.end());
    else loop = chain;
    std::int64_t at = 0;
    for (const Process* q : stuck) at = std::max(at, q->cycle);
    std::string msg = fmt::format("deadlock in {} at cycle {} ({} of {} output elements delivered): {}\n", g.net, at,
                                  sim.delivered, sim.expected,
                                  p ? "these wait for each other in a cycle" : "these wait on each other");
    for (const Process* q : loop) {
      msg += "  " + describe_wait(*q);
      for (size_t id = 0; id < g.engines.size(); ++id)
        if (fifos[id] == q)
          msg += fmt::format(" [FIFO {}: holds {} of its capacity {}]", g.engines[id].name,
                             fifos[id]->taken - fifos[id]->out->popped, fifos[id]->depth + 1);
      msg += "\n";
    }
    msg += "A FIFO in this cycle is too small for the elements one branch must hold while the other fills; make it deeper.";
    throw DeadlockError(msg);
  }

  res.timing = res.times.timing();
  res.fps = res.timing.cycles_per_image > 0 ? plan.clock_mhz * 1e6 / res.timing.cycles_per_image : 0;
  const double total = static_cast<double>(std::max<std::int64_t>(res.timing.total_cycles, 1));
  for (size_t id = 0; id < g.engines.size(); ++id) {
    const manager::Engine& e = g.engines[id];
    EngineStats st{e.name, std::string(e.kind()), e.fpga, 0, 0, 0};
    if (const KernelProcess* k = kernels[id]) {
      st.busy = static_cast<double>(k->tick) / total;
      st.stalled_input = static_cast<double>(k->stall_in) / total;
      st.stalled_output = static_cast<double>(k->stall_out) / total;
    } else {
      FifoProcess* f = fifos[id];
      st.busy = static_cast<double>(f->taken) / total;
      res.fifos.push_back({e.name, f->depth + 1, f->peak()});
    }
    res.engines.push_back(st);
  }
  for (size_t l = 0, h = 0; l < plan.links.size(); ++l) {
    if (plan.links[l].kind != "ring") {
      const LinkProcess* lp = host_links.at(h++);
      res.links.push_back({lp->model.params().name, lp->model.busy_cycles() / total, lp->model.sent()});
      continue;
    }
    double busy = 0;
    std::int64_t sent = 0;
    for (const RingStreamProcess* rp : ring_links[l]) busy += static_cast<double>(rp->model.flit_cycles()), sent += rp->model.sent();
    res.links.push_back({plan.links[l].name, busy / total, sent});
  }
  if (opt.progress) opt.progress(1.0);
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

}  // namespace qdf::sim
