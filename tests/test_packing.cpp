// Variable-length sequences (nn/utils/rnn.h): packing and padding against PyTorch 1.13's
// answers (tests/fixtures/packing.txt, written by tests/make_packing_fixtures.py, which lists the
// cases), round trips, gradients by gradcheck, inputs left untouched, and every error.
// Packing only moves elements, so every comparison with PyTorch here is exact.
#define BOOST_TEST_MODULE packing
#include <algorithm>
#include <cstring>

#include "fixtures.h"
#include "support.h"

namespace rnn = mg::nn::utils::rnn;

namespace {

const test::Fixtures& fixtures() {
  static const test::Fixtures fx("packing.txt");
  return fx;
}

// Checks that `actual` equals PyTorch's `expected` exactly: shape, dtype and every element.
void check_equal(const mg::Tensor& actual, const mg::Tensor& expected, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(actual.defined(), what << ": undefined");
  BOOST_CHECK_MESSAGE(actual.dtype() == expected.dtype(),
                      what << ": dtype " << mg::dtype_repr(actual.dtype()) << ", PyTorch has "
                           << mg::dtype_repr(expected.dtype()));
  test::check_close(actual, expected, 0, 0, what);
}

bool flag(const std::string& name) { return fixtures().tensor(name).item<std::int64_t>() != 0; }

std::vector<std::int64_t> lengths_of(const std::string& name) {
  return fixtures().tensor(name).to_vector<std::int64_t>();
}

std::vector<mg::Tensor> sequences_of(const std::string& c) {
  std::vector<mg::Tensor> sequences;
  for (std::int64_t i = 0; i < fixtures().tensor(c + "/count").item<std::int64_t>(); ++i)
    sequences.push_back(fixtures().tensor(c + "/seq" + std::to_string(i)));
  return sequences;
}

// Checks a packed sequence against PyTorch's fields stored under `c`; the indices exist only
// for a batch packed with enforce_sorted = false.
void check_packed(const rnn::PackedSequence& packed, const std::string& c, bool enforce_sorted) {
  const auto& fx = fixtures();
  check_equal(packed.data(), fx.tensor(c + "/data"), c + " data");
  check_equal(packed.batch_sizes(), fx.tensor(c + "/batch_sizes"), c + " batch_sizes");
  BOOST_CHECK(packed.batch_size_list() == fx.tensor(c + "/batch_sizes").to_vector<std::int64_t>());
  BOOST_CHECK_EQUAL(packed.sorted_indices().defined(), !enforce_sorted);
  BOOST_CHECK_EQUAL(packed.unsorted_indices().defined(), !enforce_sorted);
  if (enforce_sorted) return;
  check_equal(packed.sorted_indices(), fx.tensor(c + "/sorted_indices"), c + " sorted_indices");
  check_equal(packed.unsorted_indices(), fx.tensor(c + "/unsorted_indices"),
              c + " unsorted_indices");
}

// Checks that `t` has the same shape, strides, offset and values as `before`, bit for bit.
void check_untouched(const mg::Tensor& t, const mg::Tensor& before, const mg::Shape& strides,
                     const std::string& what) {
  BOOST_CHECK_MESSAGE(t.shape() == before.shape(), what << ": shape changed");
  BOOST_CHECK_MESSAGE(t.strides() == strides, what << ": strides changed");
  const auto a = t.to(mg::kFloat64).to_vector<double>();
  const auto b = before.to(mg::kFloat64).to_vector<double>();
  BOOST_CHECK_MESSAGE(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0,
                      what << ": values changed");
}

// The packed data of a float64 batch as one tensor, for gradcheck.
mg::Tensor packed_data(const mg::Tensor& x, const std::vector<std::int64_t>& lengths,
                       bool batch_first) {
  return rnn::pack_padded_sequence(x, lengths, batch_first, /*enforce_sorted=*/false).data();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_worked_example) {
  // Sequences abc and x pack to data a x b c with batch_sizes [2, 1, 1] (rnn.h).
  const auto a = std::int64_t{'a'}, b = std::int64_t{'b'}, c = std::int64_t{'c'},
             x = std::int64_t{'x'};
  const mg::Tensor padded = mg::from_vector<std::int64_t>({a, x, b, 0, c, 0}, {3, 2});  // (T, B)
  const rnn::PackedSequence packed = rnn::pack_padded_sequence(padded, {3, 1});
  check_equal(packed.data(), mg::from_vector<std::int64_t>({a, x, b, c}), "data");
  check_equal(packed.batch_sizes(), mg::from_vector<std::int64_t>({2, 1, 1}), "batch_sizes");
  BOOST_CHECK(!packed.sorted_indices().defined());
  BOOST_CHECK(!packed.unsorted_indices().defined());

  const rnn::PackedSequence from_list = rnn::pack_sequence(
      {mg::from_vector<std::int64_t>({a, b, c}), mg::from_vector<std::int64_t>({x})});
  check_equal(from_list.data(), packed.data(), "pack_sequence data");
  check_equal(from_list.batch_sizes(), packed.batch_sizes(), "pack_sequence batch_sizes");

  const auto [back, lengths] = rnn::pad_packed_sequence(packed);
  check_equal(back, padded, "padded");
  check_equal(lengths, mg::from_vector<std::int64_t>({3, 1}), "lengths");
}

BOOST_AUTO_TEST_CASE(pack_padded_sequence_matches_pytorch) {
  // PackedSequence pack_padded_sequence(input, lengths, batch_first, enforce_sorted)
  // Both overloads of lengths; sorted and unsorted batches with ties (30 and 100 sequences pin
  // the order of ties), trailing dims of rank 0, 1 and 2, float32, float64, int64; and the
  // gradient of (data ⊙ upstream).sum() against PyTorch's.
  const auto& fx = fixtures();
  const std::vector<std::string> cases = fx.cases("pack_padded");
  BOOST_REQUIRE_EQUAL(cases.size(), 10u);
  for (const std::string& name : cases) {
    const std::string c = "pack_padded/" + name;
    const bool batch_first = flag(c + "/batch_first");
    const bool enforce_sorted = flag(c + "/enforce_sorted");
    mg::Tensor x = fx.tensor(c + "/x");
    if (mg::is_floating(x.dtype())) x.requires_grad_();
    const rnn::PackedSequence packed =
        rnn::pack_padded_sequence(x, lengths_of(c + "/lengths"), batch_first, enforce_sorted);
    check_packed(packed, c, enforce_sorted);
    const rnn::PackedSequence from_tensor =
        rnn::pack_padded_sequence(x, fx.tensor(c + "/lengths"), batch_first, enforce_sorted);
    check_packed(from_tensor, c, enforce_sorted);
    if (!mg::is_floating(x.dtype())) continue;
    packed.data().backward(fx.tensor(c + "/upstream"));
    check_equal(x.grad(), fx.tensor(c + "/grad_x"), c + " grad_x");
  }
}

BOOST_AUTO_TEST_CASE(pad_packed_sequence_matches_pytorch) {
  // std::tuple<Tensor, Tensor> pad_packed_sequence(sequence, batch_first, padding_value,
  //                                                total_length)
  const auto& fx = fixtures();
  for (const std::string& name : fx.cases("pack_padded")) {
    const std::string c = "pack_padded/" + name;
    const bool batch_first = flag(c + "/batch_first");
    const rnn::PackedSequence packed =
        rnn::pack_padded_sequence(fx.tensor(c + "/x"), lengths_of(c + "/lengths"), batch_first,
                                  flag(c + "/enforce_sorted"));
    const auto [padded, lengths] = rnn::pad_packed_sequence(packed, batch_first);
    check_equal(padded, fx.tensor(c + "/padded"), c + " padded");
    BOOST_CHECK(padded.is_contiguous());
    check_equal(lengths, fx.tensor(c + "/padded_lengths"), c + " lengths");
    const auto [padded_total, lengths_total] = rnn::pad_packed_sequence(
        packed, batch_first, fx.tensor(c + "/padding_value").item<double>(),
        fx.tensor(c + "/total_length").item<std::int64_t>());
    check_equal(padded_total, fx.tensor(c + "/padded_total"), c + " padded_total");
    check_equal(lengths_total, fx.tensor(c + "/padded_lengths"), c + " lengths (total_length)");
  }
}

BOOST_AUTO_TEST_CASE(pad_sequence_matches_pytorch) {
  // Tensor pad_sequence(sequences, batch_first, padding_value)
  const auto& fx = fixtures();
  BOOST_REQUIRE_EQUAL(fx.cases("pad_sequence").size(), 3u);
  for (const std::string& name : fx.cases("pad_sequence")) {
    const std::string c = "pad_sequence/" + name;
    const mg::Tensor padded = rnn::pad_sequence(sequences_of(c), flag(c + "/batch_first"),
                                                fx.tensor(c + "/padding_value").item<double>());
    check_equal(padded, fx.tensor(c + "/padded"), c + " padded");
  }
}

BOOST_AUTO_TEST_CASE(pack_sequence_and_unpack_sequence) {
  // PackedSequence pack_sequence(sequences, enforce_sorted)
  // std::vector<Tensor> unpack_sequence(sequence): the sequences back, in the caller's order.
  const auto& fx = fixtures();
  BOOST_REQUIRE_EQUAL(fx.cases("pack_sequence").size(), 2u);
  for (const std::string& name : fx.cases("pack_sequence")) {
    const std::string c = "pack_sequence/" + name;
    const bool enforce_sorted = flag(c + "/enforce_sorted");
    const std::vector<mg::Tensor> sequences = sequences_of(c);
    const rnn::PackedSequence packed = rnn::pack_sequence(sequences, enforce_sorted);
    check_packed(packed, c, enforce_sorted);
    const std::vector<mg::Tensor> unpacked = rnn::unpack_sequence(packed);
    BOOST_REQUIRE_EQUAL(unpacked.size(), sequences.size());
    for (std::size_t b = 0; b < sequences.size(); ++b)
      check_equal(unpacked[b], sequences[b], c + " sequence " + std::to_string(b));
  }
}

BOOST_AUTO_TEST_CASE(round_trips) {
  // pack_padded_sequence -> pad_packed_sequence gives back the input up to each length and the
  // padding value after it; pad_sequence -> pack_padded_sequence -> unpack_sequence and
  // pad_sequence -> unpad_sequence give back the sequences. Both layouts, sorted and unsorted.
  const std::vector<std::vector<std::int64_t>> all_lengths = {{5, 5, 3, 1}, {2, 5, 1, 5}};
  for (bool batch_first : {false, true}) {
    for (const auto& lengths : all_lengths) {
      const bool sorted = std::is_sorted(lengths.rbegin(), lengths.rend());
      const mg::Tensor x = batch_first ? mg::randn({4, 5, 2, 3}) : mg::randn({5, 4, 2, 3});
      const rnn::PackedSequence packed =
          rnn::pack_padded_sequence(x, lengths, batch_first, /*enforce_sorted=*/sorted);
      const auto [padded, out_lengths] =
          rnn::pad_packed_sequence(packed, batch_first, /*padding_value=*/2.5, /*total_length=*/7);
      check_equal(out_lengths, mg::from_vector(lengths), "lengths");
      const std::int64_t batch_dim = batch_first ? 0 : 1;
      std::vector<mg::Tensor> sequences;
      for (std::size_t b = 0; b < lengths.size(); ++b) {
        const auto i = static_cast<std::int64_t>(b), length = lengths[b];
        sequences.push_back(x.select(batch_dim, i).narrow(0, 0, length));
        const mg::Tensor column = padded.select(batch_dim, i);  // (7, 2, 3)
        check_equal(column.narrow(0, 0, length), sequences.back(), "values up to the length");
        check_equal(column.narrow(0, length, 7 - length), mg::full({7 - length, 2, 3}, 2.5),
                    "padding after the length");
      }
      const mg::Tensor repadded = rnn::pad_sequence(sequences, batch_first);
      const std::vector<mg::Tensor> unpacked = rnn::unpack_sequence(
          rnn::pack_padded_sequence(repadded, lengths, batch_first, /*enforce_sorted=*/false));
      const std::vector<mg::Tensor> unpadded = rnn::unpad_sequence(
          repadded, mg::from_vector(lengths), batch_first);
      for (std::size_t b = 0; b < lengths.size(); ++b) {
        check_equal(unpacked[b], sequences[b], "unpack_sequence");
        check_equal(unpadded[b], sequences[b], "unpad_sequence");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unpad_and_unpack_leave_their_inputs_untouched) {
  // std::vector<Tensor> unpad_sequence(padded, lengths, batch_first)
  // PyTorch 1.13's unpad_sequence transposes its input in place when batch_first is false.
  // Here the input keeps its shape, strides and values, and the results are fresh tensors.
  for (bool batch_first : {false, true}) {
    const mg::Tensor padded = mg::randn({3, 4, 2});
    const mg::Tensor before = padded.clone();
    const mg::Shape strides = padded.strides();
    const mg::Tensor lengths = mg::from_vector<std::int64_t>(
        batch_first ? std::vector<std::int64_t>{4, 0, 2} : std::vector<std::int64_t>{3, 1, 0, 2});
    std::vector<mg::Tensor> sequences = rnn::unpad_sequence(padded, lengths, batch_first);
    check_untouched(padded, before, strides, "unpad_sequence input");
    for (mg::Tensor& s : sequences) s.fill_(7.0);
    check_untouched(padded, before, strides, "unpad_sequence input after writing the results");
  }
  const rnn::PackedSequence packed =
      rnn::pack_padded_sequence(mg::randn({4, 3, 2}), {2, 4, 1}, false, false);
  const mg::Tensor before = packed.data().clone();
  std::vector<mg::Tensor> sequences = rnn::unpack_sequence(packed);
  for (mg::Tensor& s : sequences) s.fill_(7.0);
  check_untouched(packed.data(), before, packed.data().strides(), "unpack_sequence data");
}

BOOST_AUTO_TEST_CASE(packed_sequence_constructor) {
  // PackedSequence(data, batch_sizes, sorted_indices = {}, unsorted_indices = {})
  // unsorted_indices is the inverse of sorted_indices when left out; bad parts are refused.
  const mg::Tensor data = mg::randn({4, 2});
  const mg::Tensor batch_sizes = mg::from_vector<std::int64_t>({2, 1, 1});
  const rnn::PackedSequence packed(data, batch_sizes, mg::from_vector<std::int64_t>({1, 0}));
  check_equal(packed.unsorted_indices(), mg::from_vector<std::int64_t>({1, 0}), "inverse");
  const rnn::PackedSequence three(mg::randn({5}), mg::from_vector<std::int64_t>({3, 2}),
                                  mg::from_vector<std::int64_t>({2, 0, 1}));
  check_equal(three.unsorted_indices(), mg::from_vector<std::int64_t>({1, 2, 0}), "inverse of 3");
  BOOST_CHECK(three.batch_size_list() == (std::vector<std::int64_t>{3, 2}));

  using rnn::PackedSequence;
  const auto ints = [](std::vector<std::int64_t> v) { return mg::from_vector(v); };
  test::check_error([&] { PackedSequence(data, ints({1, 2, 1})); },
                    "expected batch_sizes to be positive and non-increasing, got [1, 2, 1]");
  test::check_error([&] { PackedSequence(data, ints({4, 0})); }, "positive and non-increasing");
  test::check_error([&] { PackedSequence(data, mg::ones({4})); },
                    "expected batch_sizes to be a non-empty 1-D int64 tensor, got a Float");
  test::check_error([&] { PackedSequence(data, ints({2, 1})); },
                    "expected data of shape (N, *) with N = sum(batch_sizes) = 3, got [4, 2]");
  test::check_error([&] { PackedSequence(data, batch_sizes, ints({0, 0})); },
                    "expected sorted_indices to be a permutation of 0..1, got [0, 0]");
  test::check_error([&] { PackedSequence(data, batch_sizes, ints({0, 1, 2})); },
                    "expected sorted_indices to be a 1-D int64 tensor of batch_sizes[0] = 2");
  test::check_error([&] { PackedSequence(data, batch_sizes, ints({1, 0}), ints({0, 1})); },
                    "expected unsorted_indices [0, 1] to be the inverse of sorted_indices [1, 0]");
  test::check_error([&] { PackedSequence(data, batch_sizes, mg::Tensor(), ints({0, 1})); },
                    "unsorted_indices given without sorted_indices");
}

BOOST_AUTO_TEST_CASE(gradients_of_packing_and_padding) {
  // gradcheck (float64, random upstream gradient) through every function that moves data.
  // pack_padded_sequence: unsorted lengths with a tie, batch_first, a non-contiguous input
  // (a transposed view), and the same input packed twice (its gradients add).
  const mg::Tensor x = test::leaf({5, 4, 3});  // read as (B, T, I) = (4, 5, 3) after transpose
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        const mg::Tensor batch_major = in[0].transpose(0, 1);  // (4, 5, 3), not contiguous
        return mg::cat({packed_data(batch_major, {2, 5, 2, 4}, true),
                        packed_data(in[0], {5, 3, 3, 1}, false)});
      },
      {x});

  // pad_packed_sequence: from the packed data, with sorted_indices, a padding value and
  // total_length, in both layouts.
  const mg::Tensor data = test::leaf({9, 2, 3});  // batch_sizes [3, 3, 2, 1]
  for (bool batch_first : {false, true}) {
    test::check_gradients(
        [batch_first](const std::vector<mg::Tensor>& in) {
          const rnn::PackedSequence packed(in[0], mg::from_vector<std::int64_t>({3, 3, 2, 1}),
                                           mg::from_vector<std::int64_t>({1, 2, 0}));
          return std::get<0>(rnn::pad_packed_sequence(packed, batch_first, -1.0, 6));
        },
        {data});
  }

  // pad_sequence: one sequence used twice, one non-contiguous; pack_sequence unsorted.
  const mg::Tensor a = test::leaf({3, 2}), b = test::leaf({2, 4}), c = test::leaf({1, 2});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return rnn::pad_sequence({in[0], in[1].t(), in[0], in[2]}, true, 0.5);
      },
      {a, b, c});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        return rnn::pack_sequence({in[2], in[0], in[1].t()}, false).data();
      },
      {a, b, c});

  // unpad_sequence and unpack_sequence: several outputs, one of them empty, joined for the
  // check; the outputs not used by the sum still get their (zero) share.
  const mg::Tensor padded = test::leaf({4, 3, 2});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        const std::vector<mg::Tensor> s = rnn::unpad_sequence(in[0], {3, 0, 4}, false);
        return mg::cat({s[0], s[1], s[2] * s[2]});
      },
      {padded});
  test::check_gradients(
      [](const std::vector<mg::Tensor>& in) {
        const std::vector<mg::Tensor> s = rnn::unpack_sequence(rnn::PackedSequence(
            in[0], mg::from_vector<std::int64_t>({3, 3, 2, 1}),
            mg::from_vector<std::int64_t>({2, 0, 1})));
        return mg::cat({s[2], s[0]});
      },
      {data});
}

BOOST_AUTO_TEST_CASE(errors_in_pytorchs_words) {
  // Every bad input throws mg::Error before anything is done, in PyTorch 1.13's words where it
  // has any.
  const mg::Tensor x = mg::randn({5, 3, 2});
  test::check_error([&] { rnn::pack_padded_sequence(x, {2, 5, 1}); },
                    "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                    "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                    "pack_sequence to sidestep this requirement if you do not need ONNX "
                    "exportability.");
  for (std::int64_t bad : {0, -1})
    test::check_error([&] { rnn::pack_padded_sequence(x, {5, 2, bad}, false, false); },
                      "Length of all samples has to be greater than 0, but found an element in "
                      "'lengths' that is <= 0");
  test::check_error([&] { rnn::pack_sequence({mg::randn({2}), mg::randn({0})}); },
                    "Length of all samples has to be greater than 0");
  test::check_error([&] { rnn::pack_padded_sequence(x, {5, 2}); },
                    "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)");
  test::check_error([&] { rnn::pack_padded_sequence(x, {5, 2}, false, false); },
                    "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)");
  test::check_error([&] { rnn::pack_padded_sequence(x, {5, 7, 1}, false, false); },
                    "pack_padded_sequence: length 7 of sequence 1 is longer than the padded "
                    "input's time dimension (5)");
  test::check_error([&] { rnn::pack_padded_sequence(x, {3, 6, 1, 1, 1}, true, false); },
                    "length 6 of sequence 1 is longer than the padded input's time dimension (3)");
  test::check_error([&] { rnn::pack_padded_sequence(mg::randn({0, 3}), {1, 1, 1}); },
                    "Cannot pack empty tensors.");
  const std::vector<std::int64_t> no_lengths;
  test::check_error([&] { rnn::pack_padded_sequence(mg::randn({5, 0}), no_lengths); },
                    "Cannot pack empty tensors.");
  test::check_error([&] { rnn::pack_padded_sequence(mg::randn({5}), {5}); },
                    "pack_padded_sequence: expected an input of shape (T, B, *) with at least 2 "
                    "dimensions, got a 1-D tensor");
  test::check_error([&] { rnn::pack_padded_sequence(x, mg::from_vector<double>({5, 2, 1})); },
                    "'lengths' argument should be a 1D CPU int64 tensor, but got 1D cpu Double "
                    "tensor");
  test::check_error(
      [&] { rnn::pack_padded_sequence(x, mg::from_vector<std::int64_t>({5, 2, 1}, {1, 3})); },
      "'lengths' argument should be a 1D CPU int64 tensor, but got 2D cpu Long tensor");
  test::check_error([&] { rnn::pack_padded_sequence(x, mg::scalar_tensor(5, mg::kInt64)); },
                    "'lengths' argument should be a 1D CPU int64 tensor, but got 0D cpu Long "
                    "tensor");

  const rnn::PackedSequence packed = rnn::pack_padded_sequence(x, {5, 2, 1});
  test::check_error([&] { rnn::pad_packed_sequence(packed, false, 0.0, 3); },
                    "Expected total_length to be at least the length of the longest sequence in "
                    "input, but got total_length=3 and max sequence length being 5");

  test::check_error([&] { rnn::pad_sequence({}); }, "received an empty list of sequences");
  test::check_error([&] { rnn::pack_sequence({}); }, "received an empty list of sequences");
  test::check_error([&] { rnn::pad_sequence({mg::randn({2}), mg::scalar_tensor(1.0)}); },
                    "Dimension specified as 0 but tensor has no dimensions (sequence 1)");
  test::check_error([&] { rnn::pad_sequence({mg::randn({2, 2}), mg::randn({3, 1})}); },
                    "pad_sequence: every sequence must have the trailing dimensions of sequence "
                    "0, whose shape is [2, 2], but sequence 1 has shape [3, 1]");
  test::check_error([&] { rnn::pack_sequence({mg::randn({2, 2}), mg::randn({3})}); },
                    "pack_sequence: every sequence must have the trailing dimensions");

  const mg::Tensor padded = mg::randn({5, 3, 2});
  test::check_error([&] { rnn::unpad_sequence(padded, mg::from_vector<std::int64_t>({5, 2})); },
                    "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)");
  test::check_error([&] { rnn::unpad_sequence(padded, {5, 6, 1}); },
                    "unpad_sequence: length 6 of sequence 1 is not in [0, 5]");
  test::check_error([&] { rnn::unpad_sequence(padded, {2, 3, 1, 1, 4}, true); },
                    "unpad_sequence: length 4 of sequence 4 is not in [0, 3]");
  test::check_error([&] { rnn::unpad_sequence(padded, {5, -1, 1}); },
                    "length -1 of sequence 1 is not in [0, 5]");
  test::check_error([&] { rnn::unpad_sequence(padded, mg::from_vector<double>({5, 2, 1})); },
                    "'lengths' argument should be a 1D CPU int64 tensor, but got 1D cpu Double");
  test::check_error([&] { rnn::unpad_sequence(mg::randn({5}), {5}); },
                    "unpad_sequence: expected a padded tensor of shape (T, B, *) with at least 2 "
                    "dimensions, got a 1-D tensor");
}
