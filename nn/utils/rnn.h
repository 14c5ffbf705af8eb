// Variable-length sequences: the packed form that recurrent layers read, and the functions that
// pack and unpack it.
//
// A batch of sequences of different lengths is usually stored padded: a (T, B, *) tensor (or
// (B, T, *) with batch_first) with every sequence cut off at its length and the rest filled with
// padding. A recurrent layer running over the padding would waste work and, worse, carry its
// state past the end of the shorter sequences. The packed form keeps only the real elements,
// time step by time step, longest sequence first:
//
//   sequences abc and x, padded (T, B) = (3, 2):    packed:
//            b=0  b=1
//     t=0     a    x                                  data        = a x b c
//     t=1     b    ·                                  batch_sizes = [2, 1, 1]
//     t=2     c    ·
//
// Step t holds batch_sizes[t] rows, the first batch_sizes[t] sequences of the batch, so a layer
// processes step t as one (batch_sizes[t], *) block: rows data[offset_t, offset_t + bs_t) with
// offset_t = batch_sizes[0] + … + batch_sizes[t − 1]. That needs the sequences sorted by length,
// longest first. A batch in any other order is packed with enforce_sorted = false, which sorts it
// and remembers the permutation: slot i of every step holds sequence sorted_indices[i] of the
// caller's batch, and unsorted_indices is the inverse permutation, which pad_packed_sequence
// uses to give the sequences back in the caller's order. With enforce_sorted = true (the
// default) both are undefined tensors, as in PyTorch, where they are None.
//
//   namespace rnn = mg::nn::utils::rnn;
//   mg::Tensor x = mg::randn({5, 3, 8});                        // (T, B, I), padded
//   auto packed = rnn::pack_padded_sequence(x, {2, 5, 3}, /*batch_first=*/false,
//                                           /*enforce_sorted=*/false);
//   auto [packed_output, h_n] = gru(packed);
//   auto [output, lengths] = rnn::pad_packed_sequence(packed_output);  // (5, 3, H), [2, 5, 3]
//
// Gradients flow through all of it: packing and padding only move elements, so each one's
// backward is the other (rnn.cpp derives it). Legend for the shapes below: T time steps (the
// longest length), B batch, * any trailing feature dimensions, N = Σ lengths packed rows.
//
// Read after nn/serialize.h; docs/packing.md draws the layout and follows it through the layer's
// loop. The recurrent layers, which consume the packed form, come next (nn/recurrent.h).
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include "core/tensor.h"

namespace minigrad::nn::utils::rnn {

// The packed form of a batch of sequences. Built by pack_padded_sequence and pack_sequence; the
// recurrent layers build one for their output from their packed input's batch sizes and indices.
class PackedSequence {
 public:
  // Checks that the parts fit together and throws Error if they do not:
  //   data (N, *) of any dtype, with N = Σ batch_sizes;
  //   batch_sizes (T) int64, every entry positive, none larger than the one before;
  //   sorted_indices (B = batch_sizes[0]) int64, a permutation of 0..B−1, or undefined;
  //   unsorted_indices its inverse; computed from sorted_indices when left undefined.
  explicit PackedSequence(Tensor data, Tensor batch_sizes, Tensor sorted_indices = Tensor(),
                          Tensor unsorted_indices = Tensor());

  const Tensor& data() const { return data_; }                          // (N, *)
  const Tensor& batch_sizes() const { return batch_sizes_; }            // (T) int64
  const Tensor& sorted_indices() const { return sorted_indices_; }      // (B) int64 or undefined
  const Tensor& unsorted_indices() const { return unsorted_indices_; }  // (B) int64 or undefined
  // batch_sizes as a vector, read once at construction: the loop bounds of a recurrent layer.
  const std::vector<std::int64_t>& batch_size_list() const { return batch_size_list_; }

 private:
  Tensor data_;
  Tensor batch_sizes_;
  Tensor sorted_indices_;
  Tensor unsorted_indices_;
  std::vector<std::int64_t> batch_size_list_;
};

// Packs a padded batch: input (T, B, *), or (B, T, *) with batch_first, and the length of each
// sequence, lengths[b] for column b. Lengths must be positive and at most T; with
// enforce_sorted they must not increase (the longest sequence first), otherwise the batch is
// sorted here and the permutation kept in sorted_indices. PyTorch sorts with an unstable sort;
// among equal lengths the order here is the same as PyTorch's (rnn.cpp says how).
//   pack_padded_sequence(x (5, 3, 2), {5, 3, 1}).data() is (9, 2), batch_sizes [3, 2, 2, 1, 1]
PackedSequence pack_padded_sequence(const Tensor& input, const std::vector<std::int64_t>& lengths,
                                    bool batch_first = false, bool enforce_sorted = true);
// The same with lengths as a 1-D int64 tensor.
PackedSequence pack_padded_sequence(const Tensor& input, const Tensor& lengths,
                                    bool batch_first = false, bool enforce_sorted = true);

// The inverse: the padded batch (T, B, *), or (B, T, *) with batch_first, with padding_value
// after each sequence's end, and the lengths (B) int64, both in the caller's original order.
// T is the longest length, or total_length if given (which must not be shorter).
//   auto [padded, lengths] = pad_packed_sequence(packed, true);
std::tuple<Tensor, Tensor> pad_packed_sequence(const PackedSequence& sequence,
                                               bool batch_first = false,
                                               double padding_value = 0.0,
                                               std::optional<std::int64_t> total_length =
                                                   std::nullopt);

// Stacks sequences of shapes (L_b, *) into one padded tensor (T, B, *), or (B, T, *) with
// batch_first, T the longest L_b. Every sequence must have the same trailing dimensions *;
// lengths may be 0. The result has the first sequence's dtype.
Tensor pad_sequence(const std::vector<Tensor>& sequences, bool batch_first = false,
                    double padding_value = 0.0);

// The inverse of pad_sequence: sequence b is padded[0 : lengths[b], b] (or padded[b, 0 :
// lengths[b]] with batch_first), as a fresh tensor (L_b, *). Lengths lie in [0, T]. Unlike
// PyTorch 1.13's, this leaves `padded` as it was (PyTorch transposes it in place).
std::vector<Tensor> unpad_sequence(const Tensor& padded, const Tensor& lengths,
                                   bool batch_first = false);
std::vector<Tensor> unpad_sequence(const Tensor& padded, const std::vector<std::int64_t>& lengths,
                                   bool batch_first = false);

// Packs a list of sequences (L_b, *), L_b > 0: pad_sequence then pack_padded_sequence.
PackedSequence pack_sequence(const std::vector<Tensor>& sequences, bool enforce_sorted = true);

// The inverse of pack_sequence: the sequences (L_b, *) in the caller's original order.
std::vector<Tensor> unpack_sequence(const PackedSequence& sequence);

}  // namespace minigrad::nn::utils::rnn
