// nn::Sequential: running the chain, and indexing it. Read after sequential.h.
#include "nn/sequential.h"

namespace minigrad::nn {

// y = f_n(… f_1(f_0(x))); an empty Sequential returns its input.
Tensor Sequential::forward(const Tensor& input) const {
  Tensor x = input;
  for (const auto& forward_i : forwards_) x = forward_i(x);
  return x;
}

Module& Sequential::operator[](std::int64_t index) const {
  const auto n = static_cast<std::int64_t>(modules_.size());
  check(index >= -n && index < n, "index {} is out of range", index);
  return *modules_[static_cast<std::size_t>(index < 0 ? index + n : index)];
}

}  // namespace minigrad::nn
