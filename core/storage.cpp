// Storage: aligned, zero-filled memory; see storage.h.
//
// Large blocks are recycled. A training step allocates the same large buffers every time: at
// S5 of the benchmark, a GRU layer's gates alone are 52 MB. Freed, such a block goes back to the
// kernel (glibc maps anything over 32 MB on its own, and trims the heap above smaller ones), and
// the next step's block of the same size arrives as fresh pages, each one a page fault and a page
// of zeros written by the kernel: about a tenth of a step's time before this cache. So a freed
// block of 128 KB or more (glibc's first threshold for mapping a block on its own) is kept, up to
// kCacheBytes in all, and the next request of the same rounded size takes it back. In a training
// loop, where the same sizes come back every step, the cache holds what the step will ask for
// again and the peak memory stays what it was. The price is paid by a program whose large sizes
// keep changing: up to kCacheBytes of blocks it no longer uses stay resident, as with PyTorch's
// caching GPU allocator. Under AddressSanitizer the cache is off, so that a use after free is
// still caught.
#include "core/storage.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

namespace minigrad {

namespace {

constexpr std::size_t kAlignment = 64;                 // one cache line, and an AVX-512 register
constexpr std::size_t kCachedFrom = std::size_t{1} << 17;  // blocks this large are recycled
constexpr std::size_t kCacheBytes = std::size_t{1} << 30;  // at most this much is kept unused

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheOn = false;
#else
constexpr bool kCacheOn = true;
#endif

// Freed large blocks by size. Shared by every thread, so every access holds the mutex.
class BlockCache {
 public:
  // A cached block of exactly `size` bytes, or nullptr.
  void* take(std::size_t size) {
    const std::lock_guard lock(mutex_);
    const auto found = blocks_.find(size);
    if (found == blocks_.end()) return nullptr;
    void* block = found->second;
    blocks_.erase(found);
    bytes_ -= size;
    return block;
  }

  // Keeps the block if there is room, else frees it.
  void give(void* block, std::size_t size) {
    {
      const std::lock_guard lock(mutex_);
      if (bytes_ + size <= kCacheBytes) {
        blocks_.emplace(size, block);
        bytes_ += size;
        return;
      }
    }
    std::free(block);
  }

 private:
  std::mutex mutex_;
  std::multimap<std::size_t, void*> blocks_;
  std::size_t bytes_ = 0;
};

// Never destroyed: a tensor in a static variable may die after any other static, and its
// storage comes back here.
BlockCache& cache() {
  static BlockCache* const instance = new BlockCache;
  return *instance;
}

// aligned_alloc wants a size that is a multiple of the alignment, and at least one line so that
// an empty tensor still has a valid, unique pointer.
std::size_t rounded_size(std::size_t nbytes) {
  return nbytes == 0 ? kAlignment : (nbytes + kAlignment - 1) / kAlignment * kAlignment;
}

}  // namespace

Storage::Storage(std::size_t nbytes, bool zero_fill) : nbytes_(nbytes) {
  const std::size_t rounded = rounded_size(nbytes);
  if (kCacheOn && rounded >= kCachedFrom) data_ = cache().take(rounded);
  if (data_ == nullptr) data_ = std::aligned_alloc(kAlignment, rounded);
  if (data_ == nullptr) throw std::bad_alloc();
  if (zero_fill) std::memset(data_, 0, nbytes);
}

Storage::~Storage() {
  const std::size_t rounded = rounded_size(nbytes_);
  if (kCacheOn && rounded >= kCachedFrom) cache().give(data_, rounded);
  else std::free(data_);
}

}  // namespace minigrad
