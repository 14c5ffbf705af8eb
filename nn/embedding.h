// nn::Embedding: a lookup table, turning token ids into vectors.
//
// Its weight is a (num_embeddings, embedding_dim) table; the forward pass reads row index[p]
// for every position p of an int64 index tensor of any shape, so ids (B, T) become vectors
// (B, T, D). The backward pass is the reverse: each output row's gradient is added into the row
// it was read from (a scatter-add), so an id used twice gets both gradients. With a padding_idx
// that row gets no gradient at all, as in PyTorch: padding tokens never learn, and the row
// stays at its initial zeros unless set otherwise. With W the table:
//
// $$ y_p = W_{\text{index}_p}, \qquad
// \frac{\partial \ell}{\partial W_i} =
// \sum_{p : \text{index}_p = i} \frac{\partial \ell}{\partial y_p} $$
//
//   mg::nn::Embedding embed(mg::nn::EmbeddingOptions(10, 3).padding_idx(0));
//   mg::Tensor vectors = embed(mg::from_vector<std::int64_t>({0, 4, 4, 9}, {2, 2}));  // (2, 2, 3)
//
// Read after nn/linear.h; nn/dropout.h comes next.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nn/module.h"

namespace minigrad::nn {

class EmbeddingOptions {
 public:
  EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  // The row that gets no gradient; a negative value counts from the end (−1 is the last row).
  EmbeddingOptions& padding_idx(std::optional<std::int64_t> index) {
    padding_idx_ = index;
    return *this;
  }
  std::int64_t num_embeddings() const { return num_embeddings_; }
  std::int64_t embedding_dim() const { return embedding_dim_; }
  const std::optional<std::int64_t>& padding_idx() const { return padding_idx_; }

 private:
  std::int64_t num_embeddings_;
  std::int64_t embedding_dim_;
  std::optional<std::int64_t> padding_idx_;
};

class Embedding : public Module {
 public:
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : Embedding(EmbeddingOptions(num_embeddings, embedding_dim)) {}
  explicit Embedding(const EmbeddingOptions& options);

  // y[p] = W[index[p]]:  index (*) int64  ->  y (*, embedding_dim)
  Tensor forward(const Tensor& index) const;
  Tensor operator()(const Tensor& index) const { return forward(index); }

  // PyTorch's default: W ~ N(0, 1), then the padding row set to zeros.
  void reset_parameters();

  std::string extra_repr() const override;

  const EmbeddingOptions options;  // padding_idx already wrapped into [0, num_embeddings)
  Tensor& weight;                  // (num_embeddings, embedding_dim)
};

}  // namespace minigrad::nn
