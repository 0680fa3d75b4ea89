// A cache of values computed once per key, also when several threads ask for the same key at
// once: the first to ask computes, the others wait for its result. An error reaches everyone
// waiting, and a later call computes again. Used where planning and simulation meet the same
// engines many times over (their prices, their tick schedules).
#pragma once

#include <future>
#include <map>
#include <mutex>
#include <string>

namespace qdf::dsl {

template <class V>
class OnceCache {
 public:
  template <class Compute>
  V get(const std::string& key, Compute&& compute) {
    std::promise<V> mine;
    std::shared_future<V> result;
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      auto it = values_.find(key);
      if (it == values_.end()) {
        it = values_.emplace(key, mine.get_future().share()).first;
        first = true;
      }
      result = it->second;
    }
    if (first) {
      try {
        mine.set_value(compute());
      } catch (...) {
        mine.set_exception(std::current_exception());
        std::lock_guard lock(mutex_);
        values_.erase(key);
      }
    }
    return result.get();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_future<V>> values_;
};

}  // namespace qdf::dsl
