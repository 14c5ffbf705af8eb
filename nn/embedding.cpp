// nn::Embedding: the table lookup and its scatter-add backward, one autograd node.
//
// The lookup is written here rather than as weight.index_select(0, index) because of the
// padding row: its gradient must be dropped, while its value (whatever the user set it to)
// must still be read. Read after embedding.h.
#include "nn/embedding.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "core/autograd.h"
#include "nn/init.h"

namespace minigrad::nn {

namespace {

// The options with a negative padding_idx turned into its row number, after PyTorch's check.
EmbeddingOptions wrapped(EmbeddingOptions options) {
  if (const auto& padding = options.padding_idx()) {
    const std::int64_t n = options.num_embeddings();
    check(*padding >= -n && *padding < n, "Padding_idx must be within num_embeddings");
    if (*padding < 0) options.padding_idx(*padding + n);
  }
  return options;
}

// What PyTorch calls the type of a tensor it refuses as indices.
std::string_view index_type_name(Dtype dtype) {
  switch (dtype) {
    case kFloat32: return "torch.FloatTensor";
    case kFloat64: return "torch.DoubleTensor";
    case kBool: return "CPUBoolType";
    case kInt64: return "torch.LongTensor";
  }
  return "?";
}

}  // namespace

Embedding::Embedding(const EmbeddingOptions& options)
    : Module("Embedding"),
      options(wrapped(options)),
      weight(register_parameter("weight",
                                empty({options.num_embeddings(), options.embedding_dim()}))) {
  reset_parameters();
}

void Embedding::reset_parameters() {
  init::normal_(weight);
  if (const auto& padding = options.padding_idx()) {
    NoGradGuard no_grad;
    weight.select(0, *padding).zero_();
  }
}

// y[p] = W[index[p]]
//   index (*) int64   W (N, D)   ->   y (*, D)
Tensor Embedding::forward(const Tensor& index) const {
  check(index.dtype() == kInt64,
        "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
        "Long, Int; but got {} instead (while checking arguments for embedding)",
        index_type_name(index.dtype()));
  const std::int64_t n = weight.size(0), dim = weight.size(1);
  const Tensor ids = index.contiguous();  // (*), read flat
  const std::int64_t* id = ids.data_ptr<std::int64_t>();
  check(std::all_of(id, id + ids.numel(), [n](std::int64_t i) { return i >= 0 && i < n; }),
        "index out of range in self");

  Shape shape_out = index.shape();
  shape_out.push_back(dim);
  Tensor out = empty(shape_out, weight.dtype());
  const Tensor table = weight.detach().contiguous();  // (N, D)
  dispatch_floating(weight.dtype(), "embedding", [&]<class T>() {
    const T* w = table.data_ptr<T>();
    T* y = out.data_ptr<T>();
    for (std::int64_t p = 0; p < ids.numel(); ++p) std::copy_n(w + id[p] * dim, dim, y + p * dim);
  });

  // The forward was y[p] = W[index[p]], a copy of one row of W per position p, so
  // ∂y[p]/∂W[r] is the identity where r = index[p] and zero elsewhere: grad_W starts at zeros
  // and each grad_y[p] is added into row index[p] (rows read twice get the sum), except into the
  // padding row, which by definition gets no gradient. Saves the ids, not W.
  return record("EmbeddingBackward0", {weight}, out,
                [ids = save(ids), n, dim, padding = options.padding_idx()](const Tensor& grad) {
                  const Tensor g = grad.contiguous();  // (*, D)
                  const Tensor used = ids.unpack();    // (*)
                  const std::int64_t* id = used.data_ptr<std::int64_t>();
                  Tensor grad_weight = zeros({n, dim}, g.dtype());  // (N, D)
                  dispatch_floating(g.dtype(), "embedding_backward", [&]<class T>() {
                    const T* src = g.data_ptr<T>();
                    T* dst = grad_weight.data_ptr<T>();
                    for (std::int64_t p = 0; p < used.numel(); ++p) {
                      if (id[p] == padding) continue;
                      for (std::int64_t k = 0; k < dim; ++k)
                        dst[id[p] * dim + k] += src[p * dim + k];
                    }
                  });
                  return grads(grad_weight);
                });
}

std::string Embedding::extra_repr() const {
  std::string text = fmt::format("{}, {}", options.num_embeddings(), options.embedding_dim());
  if (const auto& padding = options.padding_idx())
    text += fmt::format(", padding_idx={}", *padding);
  return text;
}

}  // namespace minigrad::nn
