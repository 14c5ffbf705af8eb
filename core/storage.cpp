// Storage: aligned, zero-filled memory; see storage.h.
#include "core/storage.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace minigrad {

namespace {
constexpr std::size_t kAlignment = 64;  // one cache line, and a whole AVX-512 register
}

Storage::Storage(std::size_t nbytes, bool zero_fill) : nbytes_(nbytes) {
  // aligned_alloc wants a size that is a multiple of the alignment, and at least one line so
  // that an empty tensor still has a valid, unique pointer.
  const std::size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data_ == nullptr) throw std::bad_alloc();
  if (zero_fill) std::memset(data_, 0, nbytes);
}

Storage::~Storage() { std::free(data_); }

}  // namespace minigrad
