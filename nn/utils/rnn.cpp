// Packing and padding, and their backward. rnn.h describes the packed form and its worked example.
//
// Everything rests on one correspondence. Row i of step t of the packed data is element
// (t, order[i]) of the padded batch, where order is sorted_indices (0, 1, 2, … for a batch that
// came sorted):
//   data[offset_t + i] = padded[t][order[i]]      for i < batch_sizes[t]
// Packing reads the padded batch through it; padding writes the packed rows back through it,
// over a tensor filled with the padding value. Both only move elements, each at most once, so
// the backward of each moves the gradient the other way: the gradient of packing is padding
// with zeros, and the gradient of padding is packing. pack_rows and pad_rows below are each
// other's backward, and do the work of every public function here with one copy of the data.
//
// pad_sequence and unpad_sequence are the same idea for a list of separate tensors: sequence b
// is the block padded[0 : L_b, b], copied in or out, and the backward of each is the other.
// Read after rnn.h.
#include "nn/utils/rnn.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>

#include "core/autograd.h"

namespace minigrad::nn::utils::rnn {

namespace {

// Which packed row is which padded element: the batch size of each step, and the batch column
// that each slot of a step holds.
struct Layout {
  std::vector<std::int64_t> batch_sizes;  // (T)
  std::vector<std::int64_t> order;        // (B): sorted_indices, or 0, 1, 2, …
};

// The number of elements in one row: the product of the dimensions after the first `skip`.
std::int64_t row_numel(const Shape& shape, std::size_t skip) {
  return std::accumulate(shape.begin() + static_cast<std::ptrdiff_t>(skip), shape.end(),
                         std::int64_t{1}, std::multiplies<>());
}

// Calls body(packed, padded) with the element offsets where each packed row and the padded row
// it corresponds to begin, in packed order. Both tensors are contiguous, so a row is F
// consecutive elements in each, F the product of the trailing dimensions *:
//   packed row (t, i) begins at (offset_t + i)·F
//   padded row (t, b) begins at (t·B + b)·F in a time-major (T, B, *) tensor,
//                           and at (b·T + t)·F in a batch-first (B, T, *) one.
template <class Body>
void for_each_row(const Layout& layout, const Shape& padded_shape, bool batch_first, Body&& body) {
  const std::int64_t features = row_numel(padded_shape, 2);
  const std::int64_t step_stride = (batch_first ? 1 : padded_shape[1]) * features;
  const std::int64_t batch_stride = (batch_first ? padded_shape[1] : 1) * features;
  std::int64_t packed = 0;
  for (std::size_t t = 0; t < layout.batch_sizes.size(); ++t) {
    const std::int64_t step = static_cast<std::int64_t>(t) * step_stride;
    for (std::int64_t i = 0; i < layout.batch_sizes[t]; ++i, packed += features)
      body(packed, step + layout.order[static_cast<std::size_t>(i)] * batch_stride);
  }
}

Tensor pad_rows(const Tensor& data, const std::shared_ptr<const Layout>& layout, bool batch_first,
                std::int64_t total_length, double padding_value);

// data = the packed rows of a contiguous padded batch
//   padded (T_in, B, *) or (B, T_in, *)  ->  data (N, *)
Tensor pack_rows(const Tensor& padded, const std::shared_ptr<const Layout>& layout,
                 bool batch_first) {
  Shape shape_out{std::reduce(layout->batch_sizes.begin(), layout->batch_sizes.end())};
  shape_out.insert(shape_out.end(), padded.shape().begin() + 2, padded.shape().end());
  Tensor data = empty(shape_out, padded.dtype());
  const std::int64_t features = row_numel(padded.shape(), 2);
  dispatch(padded.dtype(), [&]<class T>() {
    const T* from = padded.data_ptr<T>();
    T* to = data.data_ptr<T>();
    for_each_row(*layout, padded.shape(), batch_first, [&](std::int64_t row, std::int64_t at) {
      std::copy_n(from + at, features, to + row);
    });
  });
  // The forward was data[offset_t + i] = padded[t][order[i]], a copy of some elements of padded,
  // each at most once. So grad_padded[t][order[i]] = grad_data[offset_t + i], and grad_padded is
  // zero at the elements no row came from: that is pad_rows of grad_data with padding 0, to
  // padded's length T_in. Saves only the layout.
  const std::int64_t time = padded.size(batch_first ? 1 : 0);
  return record("PackPaddedSequenceBackward0", {padded}, data,
                [layout, batch_first, time](const Tensor& grad) {
                  return grads(pad_rows(grad.contiguous(), layout, batch_first, time, 0.0));
                });
}

// padded = the packed rows of `data` in their places, padding_value everywhere else
//   data (N, *)  ->  padded (total_length, B, *) or (B, total_length, *)
Tensor pad_rows(const Tensor& data, const std::shared_ptr<const Layout>& layout, bool batch_first,
                std::int64_t total_length, double padding_value) {
  const auto batch = static_cast<std::int64_t>(layout->order.size());
  Shape shape_out = batch_first ? Shape{batch, total_length} : Shape{total_length, batch};
  shape_out.insert(shape_out.end(), data.shape().begin() + 1, data.shape().end());
  Tensor padded = full(shape_out, padding_value, data.dtype());
  const std::int64_t features = row_numel(data.shape(), 1);
  dispatch(data.dtype(), [&]<class T>() {
    const T* from = data.data_ptr<T>();
    T* to = padded.data_ptr<T>();
    for_each_row(*layout, shape_out, batch_first, [&](std::int64_t row, std::int64_t at) {
      std::copy_n(from + row, features, to + at);
    });
  });
  // The forward was padded[t][order[i]] = data[offset_t + i] (the rest a constant), so every
  // element of data went to one place: grad_data[offset_t + i] = grad_padded[t][order[i]],
  // which is pack_rows of grad_padded. Saves only the layout.
  return record("PadPackedSequenceBackward0", {data}, padded,
                [layout, batch_first](const Tensor& grad) {
                  return grads(pack_rows(grad.contiguous(), layout, batch_first));
                });
}

std::vector<std::int64_t> identity(std::int64_t n) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  return order;
}

// The batch columns by decreasing length. PyTorch takes them from torch.sort(lengths,
// descending=True), which on the CPU runs std::sort over (length, index) pairs comparing the
// lengths alone. std::sort is not stable: where it leaves equal lengths depends on its exact
// sequence of moves, which depends only on the outcomes of the comparisons. The same algorithm
// (libstdc++'s introsort, which Debian's PyTorch is built with) given the same comparisons
// therefore leaves ties in the same order, and sorted_indices match PyTorch's exactly.
// tests/fixtures/packing.txt pins this with batches of 30 and 100 sequences of few distinct
// lengths (below 17 elements std::sort is an insertion sort, stable, so small batches cannot).
std::vector<std::int64_t> sorted_order(const std::vector<std::int64_t>& lengths) {
  std::vector<std::int64_t> order = identity(static_cast<std::int64_t>(lengths.size()));
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return lengths[static_cast<std::size_t>(a)] > lengths[static_cast<std::size_t>(b)];
  });
  return order;
}

// batch_sizes[t] = how many sequences are longer than t, for t below the longest length.
std::vector<std::int64_t> batch_sizes_of(const std::vector<std::int64_t>& lengths) {
  std::vector<std::int64_t> batch_sizes(
      static_cast<std::size_t>(*std::max_element(lengths.begin(), lengths.end())), 0);
  // First count the sequences that end at each step, then sum those counts from the end.
  for (std::int64_t length : lengths) ++batch_sizes[static_cast<std::size_t>(length - 1)];
  for (std::size_t t = batch_sizes.size() - 1; t > 0; --t) batch_sizes[t - 1] += batch_sizes[t];
  return batch_sizes;
}

// The reverse: the length of the sequence in each slot. Slots batch_sizes[t + 1] up to
// batch_sizes[t] − 1 are the sequences whose last step is t.
std::vector<std::int64_t> lengths_of(const std::vector<std::int64_t>& batch_sizes) {
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(batch_sizes[0]));
  for (std::size_t t = 0; t < batch_sizes.size(); ++t) {
    const std::int64_t next = t + 1 < batch_sizes.size() ? batch_sizes[t + 1] : 0;
    for (std::int64_t i = next; i < batch_sizes[t]; ++i)
      lengths[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(t) + 1;
  }
  return lengths;
}

// PyTorch's check of a lengths tensor.
std::vector<std::int64_t> lengths_vector(const Tensor& lengths) {
  check(lengths.defined(), "expected a defined lengths tensor");
  check(lengths.dim() == 1 && lengths.dtype() == kInt64,
        "'lengths' argument should be a 1D CPU int64 tensor, but got {}D cpu {} tensor",
        lengths.dim(), dtype_name(lengths.dtype()));
  return lengths.to_vector<std::int64_t>();
}

// What packing needs of the lengths: one per sequence of the batch, each in [1, steps], and with
// enforce_sorted, none longer than the one before. PyTorch reads past the end of the input for a
// length above `steps` (its issues #144207, #146744); here that is an error.
void check_lengths(const std::vector<std::int64_t>& lengths, std::int64_t batch,
                   std::int64_t steps, bool enforce_sorted, const char* op) {
  check(static_cast<std::int64_t>(lengths.size()) == batch,
        "Expected `len(lengths)` to be equal to batch_size, but got {} (batch_size={})",
        lengths.size(), batch);
  for (std::size_t b = 0; b < lengths.size(); ++b) {
    check(lengths[b] > 0,
          "Length of all samples has to be greater than 0, but found an element in 'lengths' "
          "that is <= 0");
    check(lengths[b] <= steps,
          "{}: length {} of sequence {} is longer than the padded input's time dimension ({})",
          op, lengths[b], b, steps);
  }
  for (std::size_t b = 1; enforce_sorted && b < lengths.size(); ++b)
    check(lengths[b] <= lengths[b - 1],
          "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
          "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
          "sidestep this requirement if you do not need ONNX exportability.");
}

// What pad_sequence and pack_sequence need of a list of sequences (L_b, *): at least one, each
// at least 1-D, all with the trailing dimensions * of the first. PyTorch has no message for
// the last; it broadcasts mismatched trailing dimensions where it can.
void check_sequences(const std::vector<Tensor>& sequences, const char* op) {
  check(!sequences.empty(), "received an empty list of sequences");
  for (std::size_t b = 0; b < sequences.size(); ++b) {
    const Tensor& s = sequences[b];
    check(s.defined(), "{}: sequence {} is an undefined tensor", op, b);
    check(s.dim() >= 1, "{}: Dimension specified as 0 but tensor has no dimensions (sequence {})",
          op, b);
    const Shape& first = sequences[0].shape();
    check(std::equal(s.shape().begin() + 1, s.shape().end(), first.begin() + 1, first.end()),
          "{}: every sequence must have the trailing dimensions of sequence 0, whose shape is "
          "{}, but sequence {} has shape {}",
          op, first, b, s.shape());
  }
}

// The values of a permutation of 0..n−1 held in `indices`, checked.
std::vector<std::int64_t> permutation_values(const Tensor& indices, std::int64_t n,
                                             const char* name) {
  check(indices.dim() == 1 && indices.dtype() == kInt64 && indices.size(0) == n,
        "PackedSequence: expected {} to be a 1-D int64 tensor of batch_sizes[0] = {} elements, "
        "got a {} tensor of shape {}",
        name, n, dtype_name(indices.dtype()), indices.shape());
  std::vector<std::int64_t> values = indices.to_vector<std::int64_t>();
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  for (std::int64_t v : values) {
    check(v >= 0 && v < n && !seen[static_cast<std::size_t>(v)],
          "PackedSequence: expected {} to be a permutation of 0..{}, got {}", name, n - 1, values);
    seen[static_cast<std::size_t>(v)] = true;
  }
  return values;
}

}  // namespace

// ---- The packed form ----------------------------------------------------------------------------

PackedSequence::PackedSequence(Tensor data, Tensor batch_sizes, Tensor sorted_indices,
                               Tensor unsorted_indices)
    : data_(std::move(data)),
      batch_sizes_(std::move(batch_sizes)),
      sorted_indices_(std::move(sorted_indices)),
      unsorted_indices_(std::move(unsorted_indices)) {
  check(data_.defined() && batch_sizes_.defined(),
        "PackedSequence: expected defined data and batch_sizes tensors");
  check(batch_sizes_.dim() == 1 && batch_sizes_.dtype() == kInt64 && batch_sizes_.numel() > 0,
        "PackedSequence: expected batch_sizes to be a non-empty 1-D int64 tensor, got a {} "
        "tensor of shape {}",
        dtype_name(batch_sizes_.dtype()), batch_sizes_.shape());
  batch_size_list_ = batch_sizes_.to_vector<std::int64_t>();
  const std::vector<std::int64_t>& sizes = batch_size_list_;
  for (std::size_t t = 0; t < sizes.size(); ++t)
    check(sizes[t] > 0 && (t == 0 || sizes[t] <= sizes[t - 1]),
          "PackedSequence: expected batch_sizes to be positive and non-increasing, got {}", sizes);
  const std::int64_t rows = std::reduce(sizes.begin(), sizes.end());
  check(data_.dim() >= 1 && data_.size(0) == rows,
        "PackedSequence: expected data of shape (N, *) with N = sum(batch_sizes) = {}, got {}",
        rows, data_.shape());
  check(sorted_indices_.defined() || !unsorted_indices_.defined(),
        "PackedSequence: unsorted_indices given without sorted_indices");
  if (!sorted_indices_.defined()) return;
  const std::vector<std::int64_t> sorted =
      permutation_values(sorted_indices_, sizes[0], "sorted_indices");
  if (!unsorted_indices_.defined()) {
    std::vector<std::int64_t> inverse(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i)
      inverse[static_cast<std::size_t>(sorted[i])] = static_cast<std::int64_t>(i);
    unsorted_indices_ = from_vector(inverse);
    return;
  }
  const std::vector<std::int64_t> unsorted =
      permutation_values(unsorted_indices_, sizes[0], "unsorted_indices");
  for (std::size_t i = 0; i < sorted.size(); ++i)
    check(unsorted[static_cast<std::size_t>(sorted[i])] == static_cast<std::int64_t>(i),
          "PackedSequence: expected unsorted_indices {} to be the inverse of sorted_indices {}",
          unsorted, sorted);
}

// ---- Packing and padding a batch ----------------------------------------------------------------

// data = the rows of input up to each sequence's length, step by step, longest sequence first
//   input (T, B, *) or (B, T, *)  ->  data (N, *), batch_sizes (T_max)
PackedSequence pack_padded_sequence(const Tensor& input, const std::vector<std::int64_t>& lengths,
                                    bool batch_first, bool enforce_sorted) {
  check(input.defined(), "pack_padded_sequence: expected a defined input tensor");
  check(input.dim() >= 2,
        "pack_padded_sequence: expected an input of shape {} with at least 2 dimensions, got a "
        "{}-D tensor",
        batch_first ? "(B, T, *)" : "(T, B, *)", input.dim());
  check(input.numel() > 0, "Cannot pack empty tensors.");
  const std::int64_t steps = input.size(batch_first ? 1 : 0);
  const std::int64_t batch = input.size(batch_first ? 0 : 1);
  check_lengths(lengths, batch, steps, enforce_sorted, "pack_padded_sequence");

  auto layout = std::make_shared<Layout>();
  layout->batch_sizes = batch_sizes_of(lengths);
  layout->order = enforce_sorted ? identity(batch) : sorted_order(lengths);
  // The sorting is folded into the copy (no reordered copy of the input is made); a
  // non-contiguous input is made contiguous first, a copy the gradient flows back through.
  const Tensor data = pack_rows(input.contiguous(), layout, batch_first);  // (N, *)
  const Tensor batch_sizes = from_vector(layout->batch_sizes);                // (T)
  if (enforce_sorted) return PackedSequence(data, batch_sizes);
  return PackedSequence(data, batch_sizes, from_vector(layout->order));
}

PackedSequence pack_padded_sequence(const Tensor& input, const Tensor& lengths, bool batch_first,
                                    bool enforce_sorted) {
  return pack_padded_sequence(input, lengths_vector(lengths), batch_first, enforce_sorted);
}

// padded[t][order[i]] = data[offset_t + i], padding_value elsewhere; lengths[order[i]] = the
// length of slot i
//   data (N, *)  ->  padded (T, B, *) or (B, T, *), lengths (B)
std::tuple<Tensor, Tensor> pad_packed_sequence(const PackedSequence& sequence, bool batch_first,
                                               double padding_value,
                                               std::optional<std::int64_t> total_length) {
  const std::vector<std::int64_t>& batch_sizes = sequence.batch_size_list();
  const auto longest = static_cast<std::int64_t>(batch_sizes.size());
  check(total_length.value_or(longest) >= longest,
        "Expected total_length to be at least the length of the longest sequence in input, but "
        "got total_length={} and max sequence length being {}",
        total_length.value_or(longest), longest);

  auto layout = std::make_shared<Layout>();
  layout->batch_sizes = batch_sizes;
  layout->order = sequence.sorted_indices().defined()
                      ? sequence.sorted_indices().to_vector<std::int64_t>()
                      : identity(batch_sizes[0]);
  const Tensor padded = pad_rows(sequence.data().contiguous(), layout, batch_first,
                                 total_length.value_or(longest), padding_value);
  const std::vector<std::int64_t> slot_lengths = lengths_of(batch_sizes);
  std::vector<std::int64_t> lengths(slot_lengths.size());
  for (std::size_t i = 0; i < slot_lengths.size(); ++i)
    lengths[static_cast<std::size_t>(layout->order[i])] = slot_lengths[i];
  return {padded, from_vector(lengths)};
}

// ---- Lists of sequences -------------------------------------------------------------------------

// padded[t][b] = sequence_b[t] for t < L_b, padding_value after
//   sequence_b (L_b, *)  ->  padded (T, B, *) or (B, T, *), T = max L_b
Tensor pad_sequence(const std::vector<Tensor>& sequences, bool batch_first, double padding_value) {
  check_sequences(sequences, "pad_sequence");
  const Dtype dtype = sequences[0].dtype();
  std::vector<Tensor> inputs;  // converted to the first one's dtype; recorded: grads convert back
  std::vector<std::int64_t> lengths;
  for (const Tensor& s : sequences) {
    inputs.push_back(s.to(dtype));
    lengths.push_back(s.size(0));
  }
  const auto batch = static_cast<std::int64_t>(sequences.size());
  const std::int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  Shape shape_out = batch_first ? Shape{batch, longest} : Shape{longest, batch};
  shape_out.insert(shape_out.end(), sequences[0].shape().begin() + 1, sequences[0].shape().end());
  Tensor padded = full(shape_out, padding_value, dtype);
  const std::int64_t batch_dim = batch_first ? 0 : 1;
  {
    NoGradGuard no_grad;  // the copies are the forward of the one node recorded below
    for (std::size_t b = 0; b < inputs.size(); ++b)
      padded.select(batch_dim, static_cast<std::int64_t>(b))
          .narrow(0, 0, lengths[b])
          .copy_(inputs[b]);
  }
  // The forward was padded[t][b] = sequence_b[t] for t < L_b (the rest a constant), so each
  // sequence's gradient is the block of grad_padded it was copied to: grad_padded[0 : L_b, b],
  // a view. Saves only the lengths.
  return record("PadSequenceBackward0", inputs, padded,
                [batch_dim, lengths](const Tensor& grad, const NeedsGrad& needs) {
                  std::vector<Tensor> grad_sequences;
                  for (std::size_t b = 0; b < lengths.size(); ++b)
                    grad_sequences.push_back(
                        needs[b] ? grad.select(batch_dim, static_cast<std::int64_t>(b))
                                       .narrow(0, 0, lengths[b])
                                 : Tensor());
                  return grad_sequences;
                });
}

// sequence_b = padded[0 : L_b, b], a fresh tensor
//   padded (T, B, *) or (B, T, *)  ->  sequence_b (L_b, *)
std::vector<Tensor> unpad_sequence(const Tensor& padded, const std::vector<std::int64_t>& lengths,
                                   bool batch_first) {
  check(padded.defined(), "unpad_sequence: expected a defined padded tensor");
  check(padded.dim() >= 2,
        "unpad_sequence: expected a padded tensor of shape {} with at least 2 dimensions, got a "
        "{}-D tensor",
        batch_first ? "(B, T, *)" : "(T, B, *)", padded.dim());
  const std::int64_t batch_dim = batch_first ? 0 : 1;
  const std::int64_t steps = padded.size(1 - batch_dim);
  check(static_cast<std::int64_t>(lengths.size()) == padded.size(batch_dim),
        "Expected `len(lengths)` to be equal to batch_size, but got {} (batch_size={})",
        lengths.size(), padded.size(batch_dim));
  for (std::size_t b = 0; b < lengths.size(); ++b)
    check(lengths[b] >= 0 && lengths[b] <= steps,
          "unpad_sequence: length {} of sequence {} is not in [0, {}], {} being the padded "
          "input's time dimension",
          lengths[b], b, steps, steps);

  std::vector<Tensor> sequences;
  {
    NoGradGuard no_grad;  // the copies are the forward of the one node recorded below
    for (std::size_t b = 0; b < lengths.size(); ++b)
      sequences.push_back(
          padded.select(batch_dim, static_cast<std::int64_t>(b)).narrow(0, 0, lengths[b]).clone());
  }
  // The forward was sequence_b[t] = padded[t][b] for t < L_b, each element of padded read at
  // most once, so grad_padded is grad_sequence_b on the block padded[0 : L_b, b] and zero on the
  // padding. Saves only the shape and the lengths.
  return record_node("UnpadSequenceBackward0", {padded}, sequences,
                     [shape = padded.shape(), dtype = padded.dtype(), batch_dim, lengths](
                         const std::vector<Tensor>& grad_sequences, const NeedsGrad&) {
                       Tensor grad_padded = zeros(shape, dtype);
                       for (std::size_t b = 0; b < lengths.size(); ++b)
                         grad_padded.select(batch_dim, static_cast<std::int64_t>(b))
                             .narrow(0, 0, lengths[b])
                             .copy_(grad_sequences[b]);
                       return grads(grad_padded);
                     });
}

std::vector<Tensor> unpad_sequence(const Tensor& padded, const Tensor& lengths, bool batch_first) {
  return unpad_sequence(padded, lengths_vector(lengths), batch_first);
}

PackedSequence pack_sequence(const std::vector<Tensor>& sequences, bool enforce_sorted) {
  check_sequences(sequences, "pack_sequence");
  std::vector<std::int64_t> lengths;
  for (const Tensor& s : sequences) lengths.push_back(s.size(0));
  const std::int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  check_lengths(lengths, static_cast<std::int64_t>(lengths.size()), longest, enforce_sorted,
                "pack_sequence");
  return pack_padded_sequence(pad_sequence(sequences), lengths, false, enforce_sorted);
}

std::vector<Tensor> unpack_sequence(const PackedSequence& sequence) {
  const auto [padded, lengths] = pad_packed_sequence(sequence, /*batch_first=*/true);
  return unpad_sequence(padded, lengths, /*batch_first=*/true);
}

}  // namespace minigrad::nn::utils::rnn
