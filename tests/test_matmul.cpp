// Matrix products: the gemm wrapper against its naive twin, mg::matmul's values for every rank
// combination against an explicit loop, its gradients, its errors, and the thread setting.
#define BOOST_TEST_MODULE matmul
#include <cmath>
#include <limits>

#include "core/blas.h"
#include "core/packed_gemm.h"
#include "support.h"

namespace {

// |x| elementwise, through to_vector (this test needs no op beyond the product under test).
mg::Tensor abs_of(const mg::Tensor& x) {
  std::vector<double> values = x.to(mg::kFloat64).to_vector<double>();
  for (double& v : values) v = std::abs(v);
  return mg::from_vector(values, x.shape());
}

// Runs gemm(a, b, c, alpha, beta) and checks c against gemm_naive computed in float64 from
// c's old values. Both results are within the rounding-error bound of a k-term dot product
// followed by the alpha and beta scalings, |error| ≤ (k + 2)·eps·(|alpha|·Σ_p |a_ip|·|b_pj| +
// |beta|·|c_ij|), eps of the tensors' dtype, so they may differ by twice that and no more: a
// misread stride or a wrong transpose flag is off by far more.
void check_gemm(const mg::Tensor& a, const mg::Tensor& b, const mg::Tensor& c, double alpha,
                double beta, const std::string& what) {
  const double eps = c.dtype() == mg::kFloat32 ? std::numeric_limits<float>::epsilon()
                                               : std::numeric_limits<double>::epsilon();
  const std::int64_t m = c.size(0), n = c.size(1), k = a.size(1);
  const mg::Tensor c_before = c.to(mg::kFloat64).clone();
  mg::Tensor expected = c_before.clone();
  mg::gemm_naive(a.to(mg::kFloat64), b.to(mg::kFloat64), expected, alpha, beta);
  mg::Tensor bound = abs_of(c_before);
  mg::gemm_naive(abs_of(a), abs_of(b), bound, std::abs(alpha), std::abs(beta));

  mg::gemm(a, b, c, alpha, beta);
  BOOST_REQUIRE(c.shape() == (mg::Shape{m, n}));
  const auto got = c.to(mg::kFloat64).to_vector<double>();
  const auto want = expected.to_vector<double>();
  const auto limit = bound.to_vector<double>();
  int wrong = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double tolerance = 2 * static_cast<double>(k + 2) * eps * limit[i];
    if (!(std::abs(got[i] - want[i]) <= tolerance) && wrong++ < 5)
      BOOST_ERROR(what << ": element " << i << " is " << got[i] << ", expected " << want[i]
                       << " within " << tolerance);
  }
  BOOST_CHECK_MESSAGE(wrong == 0, what << ": " << wrong << " elements differ");
}

// torch.matmul by its definition, in float64, with explicit loops: a vector is a one-row (a)
// or one-column (b) matrix, batch dimensions broadcast, and out_ij = Σ_p a_ip·b_pj.
mg::Tensor reference_matmul(const mg::Tensor& a, const mg::Tensor& b) {
  mg::Shape sa = a.shape(), sb = b.shape();
  if (a.dim() == 1) sa.insert(sa.begin(), 1);
  if (b.dim() == 1) sb.push_back(1);
  const mg::Shape batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
  const mg::Shape batch = mg::broadcast_shapes(batch_a, batch_b);
  const std::int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  const auto x = a.to(mg::kFloat64).to_vector<double>();
  const auto y = b.to(mg::kFloat64).to_vector<double>();
  const std::int64_t count = mg::shape_numel(batch);
  std::vector<double> out(static_cast<std::size_t>(count * m * n), 0.0);
  for (std::int64_t i = 0; i < count; ++i) {
    // The matrix of a and of b that batch element i reads: a size-1 dimension is index 0.
    std::int64_t rest = i, ia = 0, ib = 0, step_a = 1, step_b = 1;
    for (std::size_t back = 0; back < batch.size(); ++back) {
      const std::int64_t size = batch[batch.size() - 1 - back], coord = rest % size;
      rest /= size;
      if (back < batch_a.size()) {
        const std::int64_t own = batch_a[batch_a.size() - 1 - back];
        ia += (own == 1 ? 0 : coord) * step_a;
        step_a *= own;
      }
      if (back < batch_b.size()) {
        const std::int64_t own = batch_b[batch_b.size() - 1 - back];
        ib += (own == 1 ? 0 : coord) * step_b;
        step_b *= own;
      }
    }
    for (std::int64_t r = 0; r < m; ++r)
      for (std::int64_t c = 0; c < n; ++c)
        for (std::int64_t p = 0; p < k; ++p)
          out[static_cast<std::size_t>((i * m + r) * n + c)] +=
              x[static_cast<std::size_t>((ia * m + r) * k + p)] *
              y[static_cast<std::size_t>((ib * k + p) * n + c)];
  }
  mg::Shape shape = batch;
  if (a.dim() > 1) shape.push_back(m);
  if (b.dim() > 1) shape.push_back(n);
  return mg::from_vector(out, shape).to(a.dtype());
}

mg::Tensor matmul_of(const std::vector<mg::Tensor>& in) { return mg::matmul(in[0], in[1]); }

// Every rank combination: {shape of a, shape of b, shape of the result}.
struct Case {
  mg::Shape a, b, out;
};
const std::vector<Case> kCases = {
    {{3}, {3}, {}},                       // dot
    {{2, 3}, {3}, {2}},                   // matrix · vector
    {{3}, {3, 4}, {4}},                   // vector · matrix
    {{2, 3}, {3, 4}, {2, 4}},             // matrix · matrix
    {{2, 3, 4}, {4}, {2, 3}},             // batch · vector (folded)
    {{2, 3, 4}, {4, 5}, {2, 3, 5}},       // batch · matrix (folded)
    {{4}, {2, 4, 5}, {2, 5}},             // vector · batch
    {{3, 4}, {2, 4, 5}, {2, 3, 5}},       // matrix · batch (a broadcast)
    {{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},    // batch · batch
    {{2, 1, 3, 4}, {5, 4, 2}, {2, 5, 3, 2}},  // broadcast on both sides
    {{3, 1, 2, 4}, {1, 2, 4, 3}, {3, 2, 2, 3}},
    {{0, 3}, {3, 2}, {0, 2}},             // empty results and an empty sum
    {{2, 0}, {0, 2}, {2, 2}},
    {{0}, {0}, {}},
    {{2, 0, 3, 4}, {4, 5}, {2, 0, 3, 5}},
};

}  // namespace

BOOST_AUTO_TEST_CASE(gemm_naive_by_hand) {
  // gemm_naive(a, b, c): [[1, 2], [3, 4]]·[[5, 6], [7, 8]] = [[19, 22], [43, 50]]
  const mg::Tensor a = mg::from_vector<double>({1, 2, 3, 4}, {2, 2});
  const mg::Tensor b = mg::from_vector<double>({5, 6, 7, 8}, {2, 2});
  mg::Tensor c = mg::ones({2, 2}, mg::kFloat64);
  mg::gemm_naive(a, b, c);
  test::check_close(c, mg::from_vector<double>({19, 22, 43, 50}, {2, 2}), 0, 0, "a·b");
  mg::gemm_naive(a.t(), b, c, 2, -1);  // c = 2·aᵀ·b − c, aᵀ = [[1, 3], [2, 4]]
  test::check_close(c, mg::from_vector<double>({33, 38, 33, 38}, {2, 2}), 0, 0, "2·aᵀ·b − c");
  mg::Tensor ci = mg::zeros({2, 2}, mg::kInt64);
  mg::gemm_naive(a.to(mg::kInt64), b.to(mg::kInt64), ci);
  BOOST_CHECK(ci.to_vector<std::int64_t>() == (std::vector<std::int64_t>{19, 22, 43, 50}));
}

BOOST_AUTO_TEST_CASE(gemm_matches_naive) {
  // gemm(a, b, c, alpha, beta) on odd shapes, transposed, narrowed and expanded views
  for (mg::Dtype dtype : {mg::kFloat32, mg::kFloat64}) {
    const std::string name = dtype == mg::kFloat32 ? "float32 " : "float64 ";
    for (const mg::Shape& mkn : std::vector<mg::Shape>{
             {1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {1, 9, 1}, {64, 129, 31}, {2, 300, 3}}) {
      const std::int64_t m = mkn[0], k = mkn[1], n = mkn[2];
      const std::string shape = name + mg::shape_str(mkn);
      check_gemm(mg::randn({m, k}, dtype), mg::randn({k, n}, dtype), mg::randn({m, n}, dtype), 1,
                 0, shape + " plain");
      // Transposed views of a and of b: unit stride along dim 0, read with CblasTrans.
      const mg::Tensor at = mg::randn({k, m}, dtype).t(), bt = mg::randn({n, k}, dtype).t();
      check_gemm(at, mg::randn({k, n}, dtype), mg::randn({m, n}, dtype), 1, 0, shape + " aᵀ");
      check_gemm(mg::randn({m, k}, dtype), bt, mg::randn({m, n}, dtype), 1, 0, shape + " bᵀ");
      check_gemm(at, bt, mg::randn({m, n}, dtype), -0.5, 2, shape + " aᵀ bᵀ alpha beta");
      // Narrowed: leading dimensions larger than the rows, in both orientations.
      const mg::Tensor an = mg::randn({m, k + 3}, dtype).narrow(1, 2, k);
      const mg::Tensor bn = mg::randn({n + 4, k}, dtype).narrow(0, 1, n).t();
      check_gemm(an, bn, mg::randn({m, n}, dtype), 1.5, 1, shape + " narrowed");
      // Neither stride is 1 (every other element), or a stride is 0: copied first.
      const mg::Tensor as = mg::randn({m, k, 2}, dtype).select(2, 1);
      const mg::Tensor be = mg::randn({1, n}, dtype).expand({k, n});
      check_gemm(as, be, mg::randn({m, n}, dtype), 1, 0.5, shape + " strided, expanded");
      // c column-major (computed as cᵀ = bᵀ·aᵀ), and c with no unit stride (via a temporary,
      // which must leave the other elements of its buffer alone).
      check_gemm(an, bt, mg::randn({n, m}, dtype).t(), 1, 1, shape + " column-major c");
      const mg::Tensor buffer = mg::randn({m, n, 2}, dtype);
      const mg::Tensor untouched = buffer.select(2, 0).clone();
      check_gemm(at, bn, buffer.select(2, 1), 2, -1, shape + " strided c");
      test::check_close(buffer.select(2, 0), untouched, 0, 0, shape + " rest of c's buffer");
    }
  }
}

BOOST_AUTO_TEST_CASE(gemm_zero_sizes_and_beta_zero) {
  // gemm with m, n or k = 0, and beta = 0 overwriting NaN as BLAS does
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (mg::Dtype dtype : {mg::kFloat32, mg::kFloat64}) {
    check_gemm(mg::randn({0, 3}, dtype), mg::randn({3, 4}, dtype), mg::randn({0, 4}, dtype), 1, 1,
               "m = 0");
    check_gemm(mg::randn({2, 3}, dtype), mg::randn({3, 0}, dtype), mg::randn({2, 0}, dtype), 1, 1,
               "n = 0");
    check_gemm(mg::randn({2, 0}, dtype), mg::randn({0, 4}, dtype), mg::randn({2, 4}, dtype), 1, 1,
               "k = 0, beta = 1");
    check_gemm(mg::randn({2, 0}, dtype), mg::randn({0, 4}, dtype), mg::randn({2, 4}, dtype), 1, 3,
               "k = 0, beta = 3");
    mg::Tensor c = mg::full({2, 4}, nan, dtype);
    mg::gemm(mg::randn({2, 0}, dtype), mg::randn({0, 4}, dtype), c, 1, 0);
    test::check_close(c, mg::zeros({2, 4}, dtype), 0, 0, "k = 0, beta = 0 over NaN");
    const mg::Tensor a = mg::randn({3, 5}, dtype), b = mg::randn({5, 2}, dtype);
    mg::Tensor fast = mg::full({3, 2}, nan, dtype), naive = mg::full({3, 2}, nan, dtype);
    mg::gemm(a, b, fast);
    mg::gemm_naive(a, b, naive);
    test::check_close(fast, reference_matmul(a, b), 1e-5, 1e-5, "gemm, beta = 0 over NaN");
    test::check_close(naive, reference_matmul(a, b), 1e-5, 1e-5, "gemm_naive, beta = 0 over NaN");
  }
}

BOOST_AUTO_TEST_CASE(gemm_errors) {
  // gemm and gemm_naive refuse bad operands before writing anything
  const mg::Tensor a = mg::randn({2, 3}), b = mg::randn({3, 4});
  mg::Tensor c = mg::zeros({2, 4});
  test::check_error([&] { mg::gemm(a, b, mg::zeros({8})); }, "gemm: expected 2-D tensors");
  test::check_error([&] { mg::gemm(a, mg::randn({4, 4}), c); },
                    "gemm: expected a (m×k), b (k×n) and c (m×n), got a [2, 3], b [4, 4] and c "
                    "[2, 4]");
  test::check_error([&] { mg::gemm(a, b, mg::zeros({3, 4})); },
                    "got a [2, 3], b [3, 4] and c [3, 4]");
  test::check_error([&] { mg::gemm(a, b.to(mg::kFloat64), c); },
                    "gemm: expected a, b and c of one dtype, got Float, Double and Float");
  test::check_error([&] { mg::gemm(a.to(mg::kInt64), b.to(mg::kInt64), c.to(mg::kInt64)); },
                    "\"gemm\" not implemented for 'Long'");
  test::check_error([&] { mg::gemm(a, b, mg::zeros({1, 4}).expand({2, 4})); },
                    "gemm: c is an expanded view (stride 0 along dimension 0)");
  const mg::Tensor square = mg::randn({3, 3});
  test::check_error([&] { mg::gemm(square, mg::randn({3, 3}), square); },
                    "gemm: the output c shares memory with the input a");
  test::check_error([&] { mg::gemm(mg::randn({3, 3}), square, square.t()); },
                    "gemm: the output c shares memory with the input b");
  test::check_error(
      [&] { mg::gemm_naive(a.to(mg::kBool), b.to(mg::kBool), mg::zeros({2, 4}, mg::kBool)); },
      "\"gemm_naive\" not implemented for 'Bool'");
  test::check_error(
      [&] { mg::gemm_naive(a.to(mg::kInt64), b.to(mg::kInt64), c.to(mg::kInt64), 0.5); },
      "gemm_naive: int64 tensors need whole-number alpha and beta, got 0.5 and 0");
  test::check_close(c, mg::zeros({2, 4}), 0, 0, "c after the errors");
}

BOOST_AUTO_TEST_CASE(matmul_values) {
  // matmul(a, b) for every rank combination, float32, float64 and int64
  for (const Case& shapes : kCases) {
    for (mg::Dtype dtype : {mg::kFloat32, mg::kFloat64}) {
      const mg::Tensor a = mg::randn(shapes.a, dtype), b = mg::randn(shapes.b, dtype);
      const mg::Tensor y = mg::matmul(a, b);
      BOOST_CHECK_MESSAGE(y.shape() == shapes.out, mg::shape_str(shapes.a) << "·"
                                                       << mg::shape_str(shapes.b) << " gave "
                                                       << mg::shape_str(y.shape()));
      BOOST_CHECK(y.dtype() == dtype);
      test::check_close(y, reference_matmul(a, b), 1e-5, 1e-5,
                        mg::shape_str(shapes.a) + "·" + mg::shape_str(shapes.b));
    }
    const mg::Tensor a = (mg::randn(shapes.a) * 10).to(mg::kInt64);
    const mg::Tensor b = (mg::randn(shapes.b) * 10).to(mg::kInt64);
    const mg::Tensor y = mg::matmul(a, b);
    BOOST_CHECK(y.dtype() == mg::kInt64);
    test::check_close(y, reference_matmul(a, b), 0, 0, "int64 " + mg::shape_str(shapes.a));
  }
  // Non-contiguous operands: transposed, and a batch whose dimensions cannot be folded by a view.
  const mg::Tensor x = mg::randn({4, 3}), w = mg::randn({5, 4});
  test::check_close(mg::matmul(x.t(), w.t()), reference_matmul(x.t(), w.t()), 1e-5, 1e-5, "xᵀ·wᵀ");
  const mg::Tensor batch = mg::randn({3, 2, 4}).transpose(0, 1);  // (2, 3, 4)
  test::check_close(mg::matmul(batch, w.t()), reference_matmul(batch, w.t()), 1e-5, 1e-5,
                    "transposed batch · wᵀ");
}

BOOST_AUTO_TEST_CASE(matmul_gradients) {
  // matmul(a, b) backward, in float64 for every rank combination
  for (const Case& shapes : kCases)
    test::check_gradients(matmul_of, {test::leaf(shapes.a), test::leaf(shapes.b)});
  // Transposed (non-contiguous) operands, and a batch that has to be copied to fold.
  test::check_gradients([](const auto& in) { return mg::matmul(in[0].t(), in[1].t()); },
                        {test::leaf({4, 3}), test::leaf({5, 4})});
  test::check_gradients(
      [](const auto& in) { return mg::matmul(in[0].transpose(0, 1), in[1].transpose(-2, -1)); },
      {test::leaf({3, 2, 4}), test::leaf({2, 5, 4})});
  test::check_gradients([](const auto& in) { return mg::matmul(in[0].transpose(0, 1), in[1]); },
                        {test::leaf({3, 2, 4}), test::leaf({4, 5})});
  // One tensor as both operands: x·xᵀ, batched too.
  test::check_gradients([](const auto& in) { return mg::matmul(in[0], in[0].t()); },
                        {test::leaf({3, 4})});
  test::check_gradients([](const auto& in) { return mg::matmul(in[0], in[0].transpose(1, 2)); },
                        {test::leaf({2, 3, 4})});
  // Only one operand needs a gradient: the other's is skipped.
  mg::Tensor constant = mg::randn({4, 2}, mg::kFloat64);
  test::check_gradients(matmul_of, {test::leaf({3, 4}), constant});
  test::check_gradients(matmul_of, {mg::randn({2, 3, 4}, mg::kFloat64), test::leaf({2, 4, 5})});
  // An upstream gradient with stride 0 (the backward of sum is an expand).
  test::check_gradients([](const auto& in) { return mg::matmul(in[0], in[1]).sum(); },
                        {test::leaf({3, 4}), test::leaf({4, 2})});
}

BOOST_AUTO_TEST_CASE(matmul_records_one_product_node) {
  // matmul's graph: MmBackward0 for 2-D, BmmBackward0 for batched; a constant gets no grad
  const mg::Tensor a = test::leaf({2, 3}), b = mg::randn({3, 4}, mg::kFloat64);
  const mg::Tensor y = mg::matmul(a, b);
  BOOST_REQUIRE(y.grad_fn());
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "MmBackward0");
  y.backward(mg::ones({2, 4}, mg::kFloat64));
  BOOST_CHECK(a.grad().defined());
  BOOST_CHECK(!b.grad().defined());
  const mg::Tensor z = mg::matmul(test::leaf({2, 2, 3}), test::leaf({2, 3, 4}));
  BOOST_REQUIRE(z.grad_fn());
  BOOST_CHECK_EQUAL(z.grad_fn()->name(), "BmmBackward0");
  mg::NoGradGuard no_grad;
  BOOST_CHECK(!mg::matmul(a, test::leaf({3, 4})).requires_grad());
}

BOOST_AUTO_TEST_CASE(matmul_errors) {
  // matmul(a, b) refuses what torch.matmul refuses, in PyTorch 1.13's words
  const auto f32 = [](const mg::Shape& s) { return mg::ones(s); };
  const auto f64 = [](const mg::Shape& s) { return mg::ones(s, mg::kFloat64); };
  const auto i64 = [](const mg::Shape& s) { return mg::ones(s, mg::kInt64); };
  const auto bit = [](const mg::Shape& s) { return mg::ones(s, mg::kBool); };
  const auto fails = [](const mg::Tensor& a, const mg::Tensor& b, const std::string& message) {
    test::check_error([&] { mg::matmul(a, b); }, message);
  };
  fails(mg::scalar_tensor(1.0), f32({2, 3}),
        "both arguments to matmul need to be at least 1D, but they are 0D and 2D");
  fails(f32({2}), mg::scalar_tensor(1.0),
        "both arguments to matmul need to be at least 1D, but they are 1D and 0D");
  // Shapes.
  fails(f32({3}), f32({4}),
        "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
        "elements, but got 3 and 4 elements respectively");
  fails(f32({2, 3}), f32({4}), "size mismatch, got 2, 2x3,4");
  fails(f32({2, 3}), f32({4, 5}), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
  fails(f32({3}), f32({4, 5}), "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)");
  fails(f32({2, 2, 3}), f32({4}), "size mismatch, got 4, 4x3,4");
  fails(f32({2, 2, 3}), f32({4, 5}), "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)");
  fails(f32({3}), f32({2, 4, 5}), "size mismatch, got 10, 10x4,3");
  fails(f32({2, 3}), f32({2, 4, 5}), "mat1 and mat2 shapes cannot be multiplied (10x4 and 3x2)");
  fails(f32({2, 2, 3}), f32({2, 4, 5}),
        "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].");
  fails(f32({5, 2, 3}), f32({1, 4, 5}),
        "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but got: [5, 4].");
  fails(f32({2, 2, 3}), f32({3, 3, 4}),
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton "
        "dimension 0");
  fails(f32({2, 3, 2, 3}), f32({4, 3, 2}),
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton "
        "dimension 1");
  // Dtypes: mixed, and bool, which has no product.
  fails(f32({2, 3}), f64({3, 2}), "expected scalar type Float but found Double");
  fails(f32({3}), f64({3}),
        "dot : expected both vectors to have same dtype, but found Float and Double");
  fails(f64({2, 3}), f32({3}), "expected scalar type Double but found Float");
  fails(f32({2, 2, 3}), f64({2, 3, 5}), "expected scalar type Float but found Double");
  fails(f32({3}), f64({2, 3, 5}), "expected scalar type Double but found Float");
  fails(i64({2, 3}), bit({3, 2}), "expected scalar type Long but found Bool");
  fails(bit({3}), bit({3}), "\"dot\" not implemented for 'Bool'");
  fails(bit({2, 3}), bit({3}), "\"addmv_impl_cpu\" not implemented for 'Bool'");
  fails(bit({2, 3}), f64({3, 2}), "\"addmm_impl_cpu_\" not implemented for 'Bool'");
  fails(bit({2, 2, 3}), bit({2, 3, 2}), "\"bmm\" not implemented for 'Bool'");
  // Shapes are checked before dtypes, except by dot.
  fails(f32({2, 3}), f64({4, 5}), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
  fails(bit({3}), f32({4}),
        "dot : expected both vectors to have same dtype, but found Bool and Float");
}

BOOST_AUTO_TEST_CASE(num_threads) {
  // set_num_threads(n), get_num_threads(): one setting, and gemm agrees with itself under it
  const int before = mg::get_num_threads();
  const mg::Tensor a = mg::randn({64, 129}), b = mg::randn({129, 31});
  mg::set_num_threads(1);
  BOOST_CHECK_EQUAL(mg::get_num_threads(), 1);
  check_gemm(a, b, mg::zeros({64, 31}), 1, 0, "one thread");
  mg::set_num_threads(2);
  BOOST_CHECK_EQUAL(mg::get_num_threads(), 2);
  check_gemm(a, b, mg::zeros({64, 31}), 1, 0, "two threads");
  test::check_error([] { mg::set_num_threads(0); }, "set_num_threads expects a positive integer");
  mg::set_num_threads(before);
  BOOST_CHECK_EQUAL(mg::get_num_threads(), before);
}

BOOST_AUTO_TEST_CASE(packed_matrix_equals_the_triple_loop) {
  // PackedMatrix (core/packed_gemm.h), the kernel of the fused layer's per-step products:
  // c = a · B and c += a · B for B packed as is and as a transpose, against gemm_naive in double.
  // The sizes cross every edge of the kernel: rows of A in blocks of 6 (1, 5, 6, 7, 13), columns
  // of B in panels of 16 (1, 15, 16, 17, 40), and k = 0 (an empty sum), 1 and 37. Rows of a and
  // c lie further apart than their length, as a step's rows do in the layer's buffers.
  if (!mg::PackedMatrix::available()) {
    BOOST_TEST_MESSAGE("this CPU has no AVX2 and FMA: PackedMatrix is not used here");
    return;
  }
  mg::manual_seed(11);
  for (const std::int64_t m : {1, 5, 6, 7, 13})
    for (const std::int64_t k : {0, 1, 37})
      for (const std::int64_t n : {1, 15, 16, 17, 40})
        for (const bool transposed : {false, true})
          for (const bool accumulate : {false, true}) {
            // B (k × n) as is, or as the transpose of a stored (n × k) matrix.
            const mg::Tensor stored = transposed ? mg::randn({n, k}) : mg::randn({k, n});
            const mg::Tensor b = transposed ? stored.t() : stored;
            const mg::PackedMatrix packed(stored.data_ptr<float>(), k, n, transposed ? 1 : n,
                                          transposed ? k : 1);
            const std::int64_t lda = k + 3, ldc = n + 5;
            const mg::Tensor a_wide = mg::randn({m, lda}), c_wide = mg::randn({m, ldc});
            const mg::Tensor a = a_wide.narrow(1, 0, k), c0 = c_wide.narrow(1, 0, n).clone();
            const mg::Tensor padding = c_wide.narrow(1, n, ldc - n).clone();
            packed.multiply(m, a_wide.data_ptr<float>(), lda, c_wide.data_ptr<float>(), ldc,
                            accumulate);
            mg::Tensor expected = c0.to(mg::kFloat64);
            mg::gemm_naive(a.to(mg::kFloat64), b.to(mg::kFloat64), expected, 1.0,
                           accumulate ? 1.0 : 0.0);
            BOOST_TEST_CONTEXT("m " << m << " k " << k << " n " << n << " transposed "
                                    << transposed << " accumulate " << accumulate) {
              test::check_close(c_wide.narrow(1, 0, n), expected, 1e-5, 1e-5, "c");
              // The columns past n, padding in c's rows, are left alone.
              BOOST_CHECK(test::identical(c_wide.narrow(1, n, ldc - n), padding));
            }
          }
}
