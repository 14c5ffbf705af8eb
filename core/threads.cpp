// The thread setting and the pool behind parallel_parts; see parallel.h for why minigrad runs
// its own threads and keeps OpenBLAS on one.
//
// The pool is a fixed set of threads. A region publishes its body and part count under the mutex
// and bumps a generation number; worker w runs part w if w < parts, then counts itself done; the
// caller runs part 0, then waits until the count says every part has returned.
//
// Waiting is first spinning, then sleeping. On a virtual machine a sleeping thread can take a
// tenth of a millisecond to wake — the host has to reschedule its virtual core — and a training
// step at the benchmark's S1 starts a region every millisecond or two. So a thread that runs out
// of work first watches for the next region (or, the caller, for the last part to finish) for
// kSpin, pausing the core between looks, and only then sleeps on a condition variable. kSpin is
// short on purpose: OpenBLAS's own threads spin for up to a tenth of a second, which is the waste
// this pool exists to avoid (parallel.h). Regions are for work of a millisecond or so (parts_for
// decides), never for one time step of a recurrent layer: the fused layer hands each thread all
// the steps of its own sequences at once.
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/parallel.h"
#include "core/tensor.h"

namespace minigrad {

namespace {

// How long a thread out of work watches for more before it sleeps.
constexpr std::chrono::microseconds kSpin{50};

// Watches `done` until it holds or kSpin has passed; true if it holds.
template <class Done>
bool spin_until(const Done& done) {
  const auto give_up = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();  // tells the core this is a spin loop: less power, no misprediction
#endif
    }
    if (std::chrono::steady_clock::now() > give_up) return false;
  }
}

// Whether this thread is running a part; a region started there runs inline.
thread_local bool inside_part = false;

class Pool {
 public:
  // The thread count starts as OpenBLAS's own default (every core, or OPENBLAS_NUM_THREADS),
  // read before OpenBLAS is told to use one thread from now on.
  Pool() : threads_(std::max(1, openblas_get_num_threads())) { openblas_set_num_threads(1); }

  ~Pool() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  int threads() const { return threads_.load(); }

  // Only the count changes here; workers are started when a region first needs them, and extra
  // ones from a larger earlier setting stay asleep.
  void set_threads(int n) { threads_.store(n); }

  void run(int parts, const std::function<void(int)>& body) {
    {
      const std::lock_guard lock(mutex_);
      while (static_cast<int>(workers_.size()) < parts - 1) {
        const int part = static_cast<int>(workers_.size()) + 1;
        workers_.emplace_back([this, part] { work(part); });
      }
      body_ = &body;
      parts_ = parts;
      error_ = nullptr;
      unfinished_.store(parts - 1);
      generation_.fetch_add(1);
    }
    wake_.notify_all();

    run_part(0, body);

    const auto all_done = [this] { return unfinished_.load() == 0; };
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!spin_until(all_done)) {
      lock.lock();
      done_.wait(lock, all_done);
    } else {
      lock.lock();  // for error_, written under the mutex
    }
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Runs one part, keeping the first exception of the region for the caller.
  void run_part(int part, const std::function<void(int)>& body) {
    inside_part = true;
    try {
      body(part);
    } catch (...) {
      const std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    inside_part = false;
  }

  // Worker `part`'s life: wait for a new region (or the end), run its part if the region has
  // one for it, report, wait again.
  void work(int part) {
    std::uint64_t seen = 0;
    const auto news = [&] { return generation_.load() != seen; };
    for (;;) {
      std::unique_lock lock(mutex_, std::defer_lock);
      if (spin_until(news)) {
        lock.lock();
      } else {
        lock.lock();
        wake_.wait(lock, news);
      }
      if (stopping_) return;
      seen = generation_.load();
      if (part >= parts_) continue;
      const std::function<void(int)>& body = *body_;
      lock.unlock();
      run_part(part, body);
      // The last part to finish wakes the caller, under the mutex, so that the wake cannot
      // fall between the caller's last look at the count and its sleep.
      if (unfinished_.fetch_sub(1) == 1) {
        lock.lock();
        lock.unlock();
        done_.notify_one();
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::atomic<int> threads_;
  // The current region. body_, parts_, error_ and stopping_ are guarded by mutex_; the two
  // counters are atomic so that spinning threads can watch them without it.
  const std::function<void(int)>* body_ = nullptr;
  int parts_ = 0;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> unfinished_{0};
};

Pool& pool() {
  static Pool instance;
  return instance;
}

// Only one region runs at a time: two user threads calling into minigrad at once take turns.
std::mutex region_mutex;

}  // namespace

void set_num_threads(int n) {
  check(n > 0, "set_num_threads expects a positive integer, got {}", n);
  pool().set_threads(n);
}

int get_num_threads() { return pool().threads(); }

int parts_for(double work, double grain) {
  if (inside_part) return 1;
  const double most = grain > 0 ? work / grain : work;
  return static_cast<int>(std::clamp(most, 1.0, static_cast<double>(get_num_threads())));
}

void parallel_ranges(std::int64_t count, int parts,
                     const std::function<void(int, std::int64_t, std::int64_t)>& body) {
  parallel_parts(parts, [&](int part) {
    body(part, count * part / parts, count * (part + 1) / parts);
  });
}

void parallel_parts(int parts, const std::function<void(int)>& body) {
  check(parts >= 1 && parts <= get_num_threads(),
        "parallel_parts: expected between 1 and {} parts (get_num_threads()), got {}",
        get_num_threads(), parts);
  if (parts == 1 || inside_part) {
    for (int part = 0; part < parts; ++part) body(part);
    return;
  }
  const std::lock_guard region(region_mutex);
  pool().run(parts, body);
}

}  // namespace minigrad
