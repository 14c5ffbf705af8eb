// nn::init: the distributions, the fans, the gains, and a Householder QR for orthogonal_.
//
// Every initialiser ends in fill(): it draws one number per element, in row-major order, from
// minigrad's generator (core/random.h), converts it to the tensor's dtype and copies it in
// under NoGradGuard. Checks come first, so a refused call draws nothing and writes nothing.
// Read after init.h.
#include "nn/init.h"

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/random.h"

namespace minigrad::nn::init {

namespace {

// Writes draw() into every element of `tensor`, row-major, and returns the tensor. `op` is
// PyTorch's kernel name, which its error for a non-floating tensor carries.
template <class Draw>
Tensor fill(Tensor tensor, const char* op, Draw draw) {
  Tensor values = empty(tensor.shape(), tensor.dtype());
  dispatch_floating(tensor.dtype(), op, [&]<class T>() {
    T* data = values.data_ptr<T>();
    for (std::int64_t i = 0; i < values.numel(); ++i) data[i] = convert<T>(draw());
  });
  NoGradGuard no_grad;
  tensor.copy_(values);
  return tensor;
}

// The fan that `mode` names.
std::int64_t fan_for(const Tensor& tensor, FanMode mode) {
  check(mode == kFanIn || mode == kFanOut,
        "Mode {} not supported, please use one of ['fan_in', 'fan_out']", static_cast<int>(mode));
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return mode == kFanIn ? fan_in : fan_out;
}

// PyTorch's refusal to draw floats into a tensor of another dtype, in the words of its kernel `op`.
void check_floating(const Tensor& tensor, const char* op) {
  check(is_floating(tensor.dtype()), "\"{}\" not implemented for '{}'", op,
        dtype_name(tensor.dtype()));
}

bool has_zero_size(const Tensor& tensor) {
  for (std::int64_t size : tensor.shape())
    if (size == 0) return true;
  return false;
}

// The Q of A = QR for an m×n matrix A (row-major, m >= n), with R's diagonal made positive:
// the unique such factorisation, and so the same Q as LAPACK's followed by PyTorch's sign
// correction. Householder's method: for k = 0 … n−1, the reflection H_k = I − 2 v vᵀ (‖v‖ = 1)
// maps column k of A, from row k down, onto α·e_k with |α| = its norm; α takes the sign opposite
// to the column's first entry, so that v = x − α e_k never cancels. After n reflections A is R
// (R_kk = α_k) and Q = H_0 H_1 ⋯ H_{n−1} restricted to its first n columns, built by applying
// the reflections to those columns of the identity in reverse order. Finally Q's column j is
// multiplied by sign(R_jj) (PyTorch's d.sign(), 0 for a zero R_jj, which a normal matrix gives
// with probability 0). Orthonormal to rounding: reflections lose no orthogonality.
std::vector<double> orthonormal_columns(std::vector<double> a, std::int64_t m, std::int64_t n) {
  std::vector<std::vector<double>> reflectors;  // v_k, of length m − k
  std::vector<double> diagonal;                 // R_kk
  for (std::int64_t k = 0; k < n; ++k) {
    std::vector<double> v(static_cast<std::size_t>(m - k));
    double norm2 = 0;
    for (std::int64_t i = k; i < m; ++i) {
      v[static_cast<std::size_t>(i - k)] = a[i * n + k];
      norm2 += a[i * n + k] * a[i * n + k];
    }
    const double alpha = v[0] > 0 ? -std::sqrt(norm2) : std::sqrt(norm2);
    v[0] -= alpha;
    double v_norm2 = 0;
    for (double x : v) v_norm2 += x * x;
    if (v_norm2 > 0) {
      const double inv_norm = 1 / std::sqrt(v_norm2);
      for (double& x : v) x *= inv_norm;
    }
    // A[k:, k:] −= 2 v (vᵀ A[k:, k:]); a zero v (a zero column) reflects nothing.
    for (std::int64_t j = k; j < n; ++j) {
      double dot = 0;
      for (std::int64_t i = k; i < m; ++i) dot += v[static_cast<std::size_t>(i - k)] * a[i * n + j];
      for (std::int64_t i = k; i < m; ++i)
        a[i * n + j] -= 2 * dot * v[static_cast<std::size_t>(i - k)];
    }
    diagonal.push_back(alpha);
    reflectors.push_back(std::move(v));
  }
  // Q = H_0 ⋯ H_{n−1} [I_n; 0], one reflection at a time from the last. (m, n), row-major.
  std::vector<double> q(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t j = 0; j < n; ++j) q[j * n + j] = 1;
  for (std::int64_t k = n; k-- > 0;) {
    const std::vector<double>& v = reflectors[static_cast<std::size_t>(k)];
    for (std::int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (std::int64_t i = k; i < m; ++i) dot += v[static_cast<std::size_t>(i - k)] * q[i * n + j];
      for (std::int64_t i = k; i < m; ++i)
        q[i * n + j] -= 2 * dot * v[static_cast<std::size_t>(i - k)];
    }
  }
  for (std::int64_t j = 0; j < n; ++j) {
    const double r = diagonal[static_cast<std::size_t>(j)];
    const double sign = r > 0 ? 1.0 : (r < 0 ? -1.0 : 0.0);
    for (std::int64_t i = 0; i < m; ++i) q[i * n + j] *= sign;
  }
  return q;
}

}  // namespace

std::string_view name(Nonlinearity nonlinearity) {
  switch (nonlinearity) {
    case kLinear: return "linear";
    case kConv1D: return "conv1d";
    case kConv2D: return "conv2d";
    case kConv3D: return "conv3d";
    case kConvTranspose1D: return "conv_transpose1d";
    case kConvTranspose2D: return "conv_transpose2d";
    case kConvTranspose3D: return "conv_transpose3d";
    case kSigmoid: return "sigmoid";
    case kTanh: return "tanh";
    case kReLU: return "relu";
    case kLeakyReLU: return "leaky_relu";
    case kSELU: return "selu";
  }
  throw Error(fmt::format("Unsupported nonlinearity {}", static_cast<int>(nonlinearity)));
}

std::string_view name(FanMode mode) {
  switch (mode) {
    case kFanIn: return "fan_in";
    case kFanOut: return "fan_out";
  }
  throw Error(fmt::format("Mode {} not supported, please use one of ['fan_in', 'fan_out']",
                          static_cast<int>(mode)));
}

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case kLinear:
    case kConv1D:
    case kConv2D:
    case kConv3D:
    case kConvTranspose1D:
    case kConvTranspose2D:
    case kConvTranspose3D:
    case kSigmoid: return 1;
    case kTanh: return 5.0 / 3;
    case kReLU: return std::sqrt(2.0);
    case kLeakyReLU: {
      const double negative_slope = param.value_or(0.01);
      return std::sqrt(2.0 / (1 + negative_slope * negative_slope));
    }
    case kSELU: return 3.0 / 4;  // found empirically by PyTorch (its pull request 50664)
  }
  throw Error(fmt::format("Unsupported nonlinearity {}", static_cast<int>(nonlinearity)));
}

// fan_in = size(1) · receptive field, fan_out = size(0) · receptive field, where the receptive
// field is the product of the sizes after the first two (1 for a matrix).
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  check(tensor.dim() >= 2,
        "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
  std::int64_t receptive_field = 1;
  for (std::int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= tensor.size(d);
  return {tensor.size(1) * receptive_field, tensor.size(0) * receptive_field};
}

// x = a + (b − a)·u with u ~ U[0, 1)
Tensor uniform_(Tensor tensor, double a, double b) {
  check_floating(tensor, "check_uniform_bounds");
  check(a <= b, "uniform_ expects to return a [from, to) range, but found from={} > to={}", a, b);
  return fill(tensor, "check_uniform_bounds", [&] { return a + (b - a) * next_uniform(); });
}

// x = mean + std·z with z ~ N(0, 1)
Tensor normal_(Tensor tensor, double mean, double std) {
  check(std >= 0.0, "normal expects std >= 0.0, but found std {}", std);
  return fill(tensor, "normal_kernel_cpu", [&] { return mean + std * next_normal(); });
}

// x = value
Tensor constant_(Tensor tensor, Scalar value) {
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}

Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0); }
Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1); }

// x ~ U(−a, a), a = √3 · gain · √(2 / (fan_in + fan_out))   (a uniform of std s spans ±√3·s)
Tensor xavier_uniform_(Tensor tensor, double gain) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double a = std::sqrt(3.0) * std;
  return uniform_(std::move(tensor), -a, a);
}

// x ~ N(0, std²), std = gain · √(2 / (fan_in + fan_out))
Tensor xavier_normal_(Tensor tensor, double gain) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return normal_(std::move(tensor), 0, std);
}

// x ~ U(−bound, bound), bound = √3 · gain / √fan. With a = √5 on a Linear weight (out, in):
// gain = √(2 / (1 + 5)) = 1/√3, so bound = 1/√in.
Tensor kaiming_uniform_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  if (has_zero_size(tensor))
    return tensor;  // PyTorch warns "Initializing zero-element tensors is a no-op"
  const double fan = static_cast<double>(fan_for(tensor, mode));
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(fan);
  const double bound = std::sqrt(3.0) * std;
  return uniform_(std::move(tensor), -bound, bound);
}

// x ~ N(0, std²), std = gain / √fan
Tensor kaiming_normal_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  if (has_zero_size(tensor))
    return tensor;  // PyTorch warns "Initializing zero-element tensors is a no-op"
  const double fan = static_cast<double>(fan_for(tensor, mode));
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(fan);
  return normal_(std::move(tensor), 0, std);
}

// x = gain · Q, Q from the QR of a (rows, cols) standard normal matrix (transposed first when
// it is wide, so that QR sees a tall one), drawn row-major as PyTorch draws it.
Tensor orthogonal_(Tensor tensor, double gain) {
  check(tensor.dim() >= 2, "Only tensors with 2 or more dimensions are supported");
  if (tensor.numel() == 0) return tensor;
  check_floating(tensor, "normal_kernel_cpu");
  const std::int64_t rows = tensor.size(0);
  const std::int64_t cols = tensor.numel() / rows;
  const bool wide = rows < cols;
  const std::int64_t m = wide ? cols : rows;  // the tall matrix is (m, n), m >= n
  const std::int64_t n = wide ? rows : cols;
  std::vector<double> drawn(static_cast<std::size_t>(rows * cols));  // (rows, cols)
  for (double& x : drawn) x = next_normal();
  std::vector<double> tall(drawn.size());  // (m, n): drawn, or its transpose
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      tall[wide ? c * n + r : r * n + c] = drawn[r * cols + c];
  const std::vector<double> q = orthonormal_columns(std::move(tall), m, n);  // (m, n)
  std::vector<double> result(q.size());  // (rows, cols): gain · Q, or gain · Qᵀ
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      result[r * cols + c] = gain * q[wide ? c * n + r : r * n + c];
  NoGradGuard no_grad;
  tensor.copy_(from_vector(result, tensor.shape()));
  return tensor;
}

}  // namespace minigrad::nn::init
