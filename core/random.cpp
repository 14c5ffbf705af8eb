// Random numbers: one seeded generator, so that the same seed gives the same tensors every run.
//
// The generator is the 64-bit Mersenne Twister, whose output the C++ standard fixes bit for bit,
// and the transforms from its integers to floats are written out here rather than taken from
// <random>'s distributions, whose algorithms differ between standard libraries. The numbers are
// minigrad's own: the same seed does not give PyTorch's numbers (tests that compare with PyTorch
// load their inputs from fixtures instead).
#include "core/random.h"

#include <cmath>
#include <numbers>

#include "core/tensor.h"

namespace minigrad {

namespace {
std::mt19937_64& engine() {
  static std::mt19937_64 generator(5489u);  // the standard's default seed
  return generator;
}
}  // namespace

std::mt19937_64& generator() { return engine(); }

void manual_seed(std::uint64_t seed) { engine().seed(seed); }

double next_uniform() {
  // The top 53 bits make a double in [0, 1) with every value equally likely.
  return static_cast<double>(engine()() >> 11) * 0x1.0p-53;
}

double next_normal() {
  // Box–Muller: for u1, u2 uniform in (0, 1], sqrt(−2 ln u1) · cos(2π u2) is N(0, 1).
  const double u1 = 1.0 - next_uniform();
  const double u2 = next_uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

namespace {
template <class Draw>
Tensor random_tensor(const Shape& shape, Dtype dtype, const char* op, Draw draw) {
  Tensor out = empty(shape, dtype);
  dispatch_floating(dtype, op, [&]<class T>() {
    T* data = out.data_ptr<T>();
    for (std::int64_t i = 0; i < out.numel(); ++i) data[i] = static_cast<T>(draw());
  });
  return out;
}
}  // namespace

Tensor randn(const Shape& shape, Dtype dtype) { return random_tensor(shape, dtype, "normal_kernel_cpu", next_normal); }
Tensor rand(const Shape& shape, Dtype dtype) { return random_tensor(shape, dtype, "check_uniform_bounds", next_uniform); }

}  // namespace minigrad
