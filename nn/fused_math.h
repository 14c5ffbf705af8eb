// σ and tanh for the fused recurrent layers' pointwise loops, written so that the compiler can
// vectorise them: no branch, no library call, only arithmetic, comparisons and bit operations.
//
// Why: the gate math of a GRU evaluates 3·H of these per token, and std::exp is a library call
// that stops gcc from vectorising the loop around it; with it, a 2-layer H = 256 GRU step
// (T = 100, B = 64) spends tens of milliseconds on activations alone, a large part of the GEMMs'
// own time. Written as below, gcc -O3 turns the loop into 4-wide (SSE2) or 8-wide (AVX2) code.
//
// The float versions, for x ≤ 0 first (σ and tanh only ever need e^y for y = −|x| or −2|x|):
//   y = k·ln2 + r      k = round(y / ln2), |r| ≤ ln2 / 2; ln2 in two parts (Cody–Waite) so that
//                      k·ln2_hi is exact and r keeps all its bits
//   e^r − 1 ≈ p(r)     Taylor to r⁷: the first term left out, r⁸/8!, is below 5·10⁻⁹ for |r| ≤ 0.35
//   e^y = 2^k·(1 + p)  2^k built from its bits: exponent field k + 127
//   e^y − 1 = 2^k·p + (2^k − 1)   which keeps full relative precision for small |y| (k = 0)
// and then
//   σ(x)    = 1 / (1 + e^−|x|)  for x ≥ 0,   e^−|x| / (1 + e^−|x|)  for x < 0
//   tanh(x) = sign(x) · (−m / (2 + m)),  m = e^(−2|x|) − 1
// Accuracy, against double-precision std:: functions: relative error below 3·2⁻²⁴ = 1.8·10⁻⁷
// (under 3 float32 ulps anywhere) wherever the result is a normal float; the largest seen over
// every 7th float in [−200, 200] was 2.98·2⁻²⁴ for σ near x = −10.4 and 2.93·2⁻²⁴ for tanh near
// x = −0.15. tests/test_fused.cpp checks every 4099th float of that range and ±inf, NaN, ±0,
// ±1e30, subnormals. σ(x) for x < ln(FLT_MIN) ≈ −87.34, where the true value is subnormal (below
// 1.2·10⁻³⁸), returns 0. σ(±inf) = 1, 0; tanh(±inf) = ±1; NaN gives NaN; tanh(±0) = ±0. The
// double versions call std::exp and std::tanh: float64 is for gradient checks, where exactness
// matters more than speed.
//
// Read with nn/fused_recurrent.cpp, the only user.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace minigrad::nn::fused_math {

// c ? a : b without a branch. gcc does not vectorise a float `?:` whose result feeds more
// arithmetic (it must assume the comparison may raise a floating-point exception on one path
// only, -ftrapping-math); as a bit mask the select is plain integer arithmetic.
inline float select(bool c, float a, float b) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(c);  // all ones if c
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & mask) |
                              (std::bit_cast<std::uint32_t>(b) & ~mask));
}

// e^y as 2^k·(1 + p), returned as its two parts, for y ≤ 0 down to ln(FLT_MIN) ≈ −87.34 (below
// that, and for −inf, the parts are meaningless and the callers select their limit instead).
struct ExpParts {
  float scale;  // 2^k
  float p;      // e^r − 1
};

inline ExpParts exp_parts(float y) {
  // k = round(y / ln2): adding 1.5·2²³ pushes the fraction out of the float, leaving k in the low
  // bits of the sum's representation (the float `k` is the same number, as a float).
  constexpr float kRound = 12582912.0f;  // 1.5·2²³
  const float shifted = y * 1.44269504f + kRound;  // 1/ln2
  const float k = shifted - kRound;
  const float r = (y - k * 0.693359375f) - k * -2.12194440e-4f;  // ln2_hi + ln2_lo = ln2
  const std::uint32_t k_bits = std::bit_cast<std::uint32_t>(shifted) -
                               std::bit_cast<std::uint32_t>(kRound);  // k modulo 2³²
  const float scale = std::bit_cast<float>((k_bits + 127u) << 23);  // 2^k, −126 ≤ k ≤ 0
  const float p = r + r * r * (1.f / 2 + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 +
                                r * (1.f / 720 + r * (1.f / 5040))))));  // Horner, to r⁷/7!
  return {scale, p};
}

// ln(FLT_MIN): below it e^y is subnormal.
inline constexpr float kLogMinFloat = -87.33654f;

inline float sigmoid(float x) {
  const float y = -std::fabs(x);
  const ExpParts e_parts = exp_parts(y);
  // e^−|x|, or 0 where it would be subnormal
  const float e = select(y < kLogMinFloat, 0.f, e_parts.scale + e_parts.scale * e_parts.p);
  return select(x >= 0, 1.f, e) / (1.f + e);
}

inline float tanh(float x) {
  const float y = -2 * std::fabs(x);
  const ExpParts e_parts = exp_parts(y);
  const float m =
      select(y < kLogMinFloat, -1.f, e_parts.scale * e_parts.p + (e_parts.scale - 1));  // e^y − 1
  const float magnitude = m / (-2 - m);  // tanh|x| = −m / (2 + m)
  // |magnitude| with the sign of x (so that tanh(−0) = −0).
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(magnitude) & 0x7fffffffu) |
                              (std::bit_cast<std::uint32_t>(x) & 0x80000000u));
}

inline double select(bool c, double a, double b) { return c ? a : b; }

// σ as unary.cpp computes it: e is never raised to a positive power.
inline double sigmoid(double x) {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1 + e);
}

inline double tanh(double x) { return std::tanh(x); }

}  // namespace minigrad::nn::fused_math
