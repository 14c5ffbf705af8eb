// mg::Tensor: an n-dimensional array that can remember how it was computed.
//
// A Tensor is a cheap handle, like torch::Tensor: copying it shares the same TensorImpl, so two
// handles see the same values, the same gradient and the same history. The TensorImpl holds
//   - where the values are: a shared Storage, the dtype, the shape, the strides and an offset;
//   - what autograd needs: for a leaf, whether it requires grad and its accumulated grad(); for
//     the result of an op, grad_fn, the node of the graph that will backpropagate through it.
// Views (transpose, narrow, ...) are new TensorImpls over the same Storage.
//
// The methods below are declared here and defined next to their backward, one op family per
// file: views.cpp, elementwise.cpp, unary.cpp, compare.cpp, reduce.cpp, indexing.cpp,
// matmul.cpp, softmax.cpp. Read after storage.h; autograd.h comes next.
//
//   auto x = mg::randn({3, 4}).requires_grad_();
//   auto loss = (x * x).sum();
//   loss.backward();            // x.grad() is now 2x
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"

namespace minigrad {

class Node;
class Tensor;

struct TensorImpl {
  // Where the values are.
  std::shared_ptr<Storage> storage;
  Dtype dtype = kFloat32;
  Shape shape;
  Shape strides;
  std::int64_t offset = 0;  // in elements, not bytes

  // What autograd needs. A tensor is a leaf unless grad_fn is set.
  bool requires_grad = false;            // set on leaves by requires_grad_()
  std::shared_ptr<Node> grad_fn;         // the node that produced this tensor, if any
  int output_nr = 0;                     // which output of grad_fn this tensor is
  std::shared_ptr<TensorImpl> grad;      // a leaf's accumulated gradient
  std::weak_ptr<Node> grad_accumulator;  // the node that adds into `grad` (see autograd.cpp)
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // ---- Shape and type (inline: kernels and the fused layers call these in their loops) -------
  Dtype dtype() const { return checked().dtype; }
  const Shape& shape() const { return checked().shape; }
  const Shape& sizes() const { return shape(); }
  std::int64_t size(std::int64_t dim) const;  // negative dims count from the end
  std::int64_t dim() const { return static_cast<std::int64_t>(checked().shape.size()); }
  std::int64_t numel() const { return shape_numel(checked().shape); }
  const Shape& strides() const { return checked().strides; }
  std::int64_t stride(std::int64_t dim) const;
  std::int64_t storage_offset() const { return checked().offset; }
  bool is_contiguous() const;

  // ---- Raw data (for kernels) ---------------------------------------------------------------
  // A pointer to element (0, 0, ..., 0); throws if T is not the tensor's element type.
  template <class T>
  T* data_ptr() const;

  // ---- Copies out ---------------------------------------------------------------------------
  // The values in row-major order; throws if T does not match the dtype.
  template <class T>
  std::vector<T> to_vector() const;
  // The value of a one-element tensor.
  template <class T>
  T item() const;

  Tensor to(Dtype dtype) const;  // differentiable between floating dtypes
  Tensor clone() const;          // a contiguous copy, differentiable
  Tensor contiguous() const;     // itself if already contiguous, else a contiguous copy

  // ---- Views (views.cpp): share storage with this tensor, all differentiable ----------------
  Tensor view(const Shape& shape) const;  // one size may be -1
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor t() const;  // transpose of a 1-D or 2-D tensor
  Tensor permute(const Shape& dims) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a size
  // Consecutive pieces along `dim` of the given sizes (which must sum to size(dim)), as views with
  // one backward node: the gradient is put back together with one cat.
  std::vector<Tensor> split_with_sizes(const Shape& sizes, std::int64_t dim = 0) const;
  // Pieces of split_size along `dim` (the last one smaller if size(dim) is not a multiple).
  std::vector<Tensor> split(std::int64_t split_size, std::int64_t dim = 0) const;
  Tensor expand_as(const Tensor& other) const;

  // ---- Elementwise (elementwise.cpp, unary.cpp) ---------------------------------------------
  Tensor pow(Scalar exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor neg() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;

  // ---- Comparisons and masks (compare.cpp): comparisons give bool tensors -------------------
  Tensor eq(const Tensor& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor le(const Tensor& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor masked_fill(const Tensor& mask, Scalar value) const;

  // ---- Reductions (reduce.cpp) ---------------------------------------------------------------
  Tensor sum() const;
  Tensor sum(std::int64_t dim, bool keepdim = false) const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(std::int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  std::tuple<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false) const;  // values, indices
  Tensor argmax(std::int64_t dim, bool keepdim = false) const;

  // ---- Indexing (indexing.cpp) -----------------------------------------------------------------
  Tensor index_select(std::int64_t dim, const Tensor& index) const;
  Tensor gather(std::int64_t dim, const Tensor& index) const;

  // ---- In place: change the values, bump the version, never recorded by autograd -----------
  Tensor& copy_(const Tensor& src);  // src broadcasts to this shape; dtypes convert
  Tensor& fill_(Scalar value);
  Tensor& zero_();

  // ---- Autograd (autograd.cpp) -----------------------------------------------------------------
  // Makes this leaf tensor record the ops it feeds, so backward() reaches it.
  Tensor& requires_grad_(bool requires_grad = true);
  bool requires_grad() const;
  bool is_leaf() const;
  // The accumulated gradient: undefined until a backward reaches this leaf.
  Tensor grad() const;
  // Sets or clears (with an undefined tensor) the accumulated gradient.
  void set_grad(const Tensor& grad);
  const std::shared_ptr<Node>& grad_fn() const;
  // Backpropagates from this tensor: loss.backward() for a one-element tensor, otherwise
  // t.backward(grad_t) with the gradient of some scalar with respect to t.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  // The same values, cut off from the graph: a leaf that does not require grad.
  Tensor detach() const;
  // The version counter of the storage (see storage.h).
  std::uint64_t version() const;

 private:
  const TensorImpl& checked() const {
    if (!impl_) [[unlikely]]
      throw_undefined();
    return *impl_;
  }
  [[noreturn]] static void throw_undefined();
  std::shared_ptr<TensorImpl> impl_;
};

// ---- Factories (factory.cpp, random.cpp) --------------------------------------------------------
Tensor empty(const Shape& shape, Dtype dtype = kFloat32);  // uninitialised values
Tensor zeros(const Shape& shape, Dtype dtype = kFloat32);
Tensor ones(const Shape& shape, Dtype dtype = kFloat32);
Tensor full(const Shape& shape, Scalar value, Dtype dtype = kFloat32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(std::int64_t n, Dtype dtype = kInt64);
Tensor scalar_tensor(Scalar value, Dtype dtype = kFloat32);  // 0-d
Tensor randn(const Shape& shape, Dtype dtype = kFloat32);    // N(0, 1)
Tensor rand(const Shape& shape, Dtype dtype = kFloat32);     // U[0, 1)
void manual_seed(std::uint64_t seed);

// Copies `values` into a new tensor of `shape` (a 1-D tensor of values.size() if shape is left
// out); the dtype follows T: float, double, int64_t or bool.
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape);
template <class T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{static_cast<std::int64_t>(values.size())});
}

// ---- Free functions with PyTorch's names --------------------------------------------------------
// The dtype a binary op on a and b computes in (elementwise.cpp).
Dtype result_type(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor pow(const Tensor& x, Scalar exponent);
Tensor pow(const Tensor& x, const Tensor& exponent);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);

// ---- Operators ------------------------------------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator+(Scalar a, const Tensor& b);
Tensor operator-(Scalar a, const Tensor& b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(Scalar a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, Scalar b);
Tensor operator!=(const Tensor& a, Scalar b);
Tensor operator<(const Tensor& a, Scalar b);
Tensor operator<=(const Tensor& a, Scalar b);
Tensor operator>(const Tensor& a, Scalar b);
Tensor operator>=(const Tensor& a, Scalar b);
Tensor operator==(Scalar a, const Tensor& b);
Tensor operator!=(Scalar a, const Tensor& b);
Tensor operator<(Scalar a, const Tensor& b);
Tensor operator<=(Scalar a, const Tensor& b);
Tensor operator>(Scalar a, const Tensor& b);
Tensor operator>=(Scalar a, const Tensor& b);

// ---- Threads (threads.cpp) ------------------------------------------------------------------------
// The size of minigrad's thread pool, the calling thread included (core/parallel.h); OpenBLAS
// runs on one thread inside each. The default is every core (or OPENBLAS_NUM_THREADS).
void set_num_threads(int n);
int get_num_threads();

// ---- Template definitions -------------------------------------------------------------------------
template <class T>
T* Tensor::data_ptr() const {
  const TensorImpl& self = checked();
  check(self.dtype == dtype_of<T>(), "data_ptr: expected scalar type {} but found {}",
        dtype_name(dtype_of<T>()), dtype_name(self.dtype));
  return static_cast<T*>(self.storage->data()) + self.offset;
}

}  // namespace minigrad
