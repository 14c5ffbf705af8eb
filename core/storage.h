// Storage: the raw memory behind one or more tensors, and its version counter.
//
// A tensor and all of its views share one Storage. The buffer is 64-byte aligned so that the
// BLAS and the compiler's vector loads work on whole cache lines.
// Freed buffers of 128 KB or more are kept and handed to the next Storage of the same size
// (storage.cpp says why: a training step would otherwise pay a page fault per 4 KB).
//
// The version counter counts in-place writes (copy_, fill_, zero_, a gradient accumulating).
// Autograd records the version of every tensor it saves for backward; if the number has moved
// by the time backward runs, the saved values are no longer the ones the forward used, and
// backward refuses with a clear error instead of computing a wrong gradient. Views share the
// counter because they share the memory. Read after shape.h; tensor.h comes next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace minigrad {

class Storage {
 public:
  // Allocates `nbytes` bytes. They are zero-filled unless the caller is about to overwrite every
  // one of them (a kernel's output), so that no tensor ever exposes stale memory.
  explicit Storage(std::size_t nbytes, bool zero_fill = true);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }

  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  std::uint64_t version_ = 0;
};

}  // namespace minigrad
