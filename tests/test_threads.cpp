// minigrad's threads (core/parallel.h) and what relies on them:
//   - parallel_parts runs every part once, at the same time on different threads; rethrows the
//     first exception only after every part has finished; runs a region inside a part inline;
//     refuses a part count it cannot run;
//   - parts_for: one part below the grain, never more than the threads, one inside a part;
//   - OpenBLAS runs on one thread, so there is one pool only;
//   - gemm() split in row blocks and in column blocks over two threads equals gemm_naive, for
//     every transpose of its operands, a column-major output, and beta ≠ 0;
//   - a large block recycled by the storage cache (core/storage.cpp) still comes back zeroed.
// tests/test_fused.cpp checks the fused layer's scan split over threads. Read after
// core/parallel.h.
#define BOOST_TEST_MODULE threads
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/blas.h"
#include "core/parallel.h"
#include "support.h"

namespace {

// Sets the thread count for one test and restores it after.
struct Threads {
  int before = mg::get_num_threads();
  explicit Threads(int n) { mg::set_num_threads(n); }
  ~Threads() { mg::set_num_threads(before); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_part_runs_once_on_its_own_thread) {
  const Threads threads(2);
  for (int round = 0; round < 100; ++round) {  // regions back to back: the workers keep up
    std::vector<int> runs(2, 0);
    std::vector<std::thread::id> ids(2);
    std::atomic<int> arrived{0};
    mg::parallel_parts(2, [&](int part) {
      ++runs[static_cast<std::size_t>(part)];
      ids[static_cast<std::size_t>(part)] = std::this_thread::get_id();
      // Both parts are running at once: each waits here for the other.
      ++arrived;
      while (arrived.load() < 2) std::this_thread::yield();
    });
    BOOST_REQUIRE_EQUAL(runs[0], 1);
    BOOST_REQUIRE_EQUAL(runs[1], 1);
    BOOST_REQUIRE(ids[0] == std::this_thread::get_id());  // part 0 is the caller's
    BOOST_REQUIRE(ids[1] != ids[0]);
  }
}

BOOST_AUTO_TEST_CASE(an_exception_comes_back_after_every_part_has_finished) {
  const Threads threads(2);
  for (const int thrower : {0, 1}) {
    std::atomic<bool> other_finished{false};
    try {
      mg::parallel_parts(2, [&](int part) {
        if (part == thrower) throw std::runtime_error("part failed");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        other_finished = true;
      });
      BOOST_ERROR("parallel_parts did not rethrow");
    } catch (const std::runtime_error& e) {
      BOOST_CHECK_EQUAL(std::string(e.what()), "part failed");
      BOOST_CHECK(other_finished.load());
    }
  }
  // The pool still works afterwards.
  std::atomic<int> count{0};
  mg::parallel_parts(2, [&](int) { ++count; });
  BOOST_CHECK_EQUAL(count.load(), 2);
}

BOOST_AUTO_TEST_CASE(a_region_inside_a_part_runs_inline) {
  const Threads threads(2);
  std::vector<std::set<std::thread::id>> inner_ids(2);
  std::vector<int> inner_parts_for(2, 0);
  mg::parallel_parts(2, [&](int part) {
    inner_parts_for[static_cast<std::size_t>(part)] = mg::parts_for(1e12, 1);
    mg::parallel_parts(2, [&](int) {
      inner_ids[static_cast<std::size_t>(part)].insert(std::this_thread::get_id());
    });
  });
  for (std::size_t part = 0; part < 2; ++part) {
    BOOST_CHECK_EQUAL(inner_ids[part].size(), 1u);  // both inner parts on the outer part's thread
    BOOST_CHECK_EQUAL(inner_parts_for[part], 1);
  }
}

BOOST_AUTO_TEST_CASE(part_counts_out_of_range_are_refused) {
  const Threads threads(2);
  test::check_error([] { mg::parallel_parts(0, [](int) {}); },
                    "parallel_parts: expected between 1 and 2 parts (get_num_threads()), got 0");
  test::check_error([] { mg::parallel_parts(3, [](int) {}); },
                    "parallel_parts: expected between 1 and 2 parts (get_num_threads()), got 3");
}

BOOST_AUTO_TEST_CASE(parts_for_follows_the_grain_and_the_thread_count) {
  {
    const Threads threads(2);
    BOOST_CHECK_EQUAL(mg::parts_for(1e3, 4e6), 1);  // under the grain
    BOOST_CHECK_EQUAL(mg::parts_for(1e7, 4e6), 2);
    BOOST_CHECK_EQUAL(mg::parts_for(1e12, 4e6), 2);  // never more than the threads
  }
  {
    const Threads threads(1);
    BOOST_CHECK_EQUAL(mg::parts_for(1e12, 4e6), 1);
  }
}

BOOST_AUTO_TEST_CASE(parallel_ranges_cover_every_index_once_in_order) {
  const Threads threads(2);
  for (const std::int64_t count : {0, 1, 2, 7, 1000}) {
    std::vector<int> hits(static_cast<std::size_t>(count), 0);
    std::vector<std::int64_t> starts(2, -1), ends(2, -1);
    mg::parallel_ranges(count, 2, [&](int part, std::int64_t from, std::int64_t to) {
      starts[static_cast<std::size_t>(part)] = from;
      ends[static_cast<std::size_t>(part)] = to;
      for (std::int64_t i = from; i < to; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    // Part 0 starts at 0, part 1 where part 0 ends, and part 1 ends at count; the halves differ
    // by at most one.
    BOOST_CHECK_EQUAL(starts[0], 0);
    BOOST_CHECK_EQUAL(starts[1], ends[0]);
    BOOST_CHECK_EQUAL(ends[1], count);
    BOOST_CHECK_LE(std::abs((ends[1] - starts[1]) - (ends[0] - starts[0])), 1);
    BOOST_CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
  }
}

BOOST_AUTO_TEST_CASE(openblas_runs_on_one_thread) {
  // minigrad's pool is the only one: whatever set_num_threads says, OpenBLAS is on one thread.
  const Threads threads(2);
  BOOST_CHECK_EQUAL(mg::get_num_threads(), 2);
  BOOST_CHECK_EQUAL(openblas_get_num_threads(), 1);
}

BOOST_AUTO_TEST_CASE(split_gemm_equals_the_triple_loop) {
  // Large enough to split (2·m·n·k well over twice the 4 MFLOP grain): c (200×72) is cut into
  // row blocks, c (72×200) into column blocks. Each operand is passed as is and as a transposed
  // view, c also as a transposed (column-major) view, with beta = 0.5 over a random c.
  const Threads threads(2);
  mg::manual_seed(5);
  for (const mg::Dtype dtype : {mg::kFloat64, mg::kFloat32})
    for (const auto& [m, n] : {std::pair<std::int64_t, std::int64_t>{200, 72}, {72, 200}})
      for (const bool a_t : {false, true})
        for (const bool b_t : {false, true})
          for (const bool c_t : {false, true}) {
            const std::int64_t k = 300;
            BOOST_REQUIRE_GE(mg::parts_for(2.0 * m * n * k, 4e6), 2);
            const mg::Tensor a = a_t ? mg::randn({k, m}, dtype).t() : mg::randn({m, k}, dtype);
            const mg::Tensor b = b_t ? mg::randn({n, k}, dtype).t() : mg::randn({k, n}, dtype);
            const mg::Tensor c0 = c_t ? mg::randn({n, m}, dtype).t() : mg::randn({m, n}, dtype);
            const mg::Tensor c = c0.clone(), expected = c0.clone();
            mg::gemm(a, b, c, 2.0, 0.5);
            mg::gemm_naive(a, b, expected, 2.0, 0.5);
            BOOST_TEST_CONTEXT(m << "×" << n << " " << mg::dtype_name(dtype) << " a_t " << a_t
                                 << " b_t " << b_t << " c_t " << c_t) {
              const double tol = dtype == mg::kFloat64 ? 1e-12 : 1e-4;
              test::check_close(c, expected, tol, tol * 20, "c");
            }
          }
}

BOOST_AUTO_TEST_CASE(a_recycled_block_comes_back_zeroed) {
  // 4 MB tensors, well above the 128 KB from which freed blocks are kept for reuse: a block
  // filled with 7 and freed, then asked for again at the same size by zeros(), holds zeros.
  for (int round = 0; round < 3; ++round) {
    {
      mg::Tensor filled = mg::full({1024, 1024}, 7.0, mg::kFloat32);
      BOOST_REQUIRE_EQUAL((-filled).max().item<float>(), -7.0F);  // every element is 7
    }
    const mg::Tensor fresh = mg::zeros({1024, 1024}, mg::kFloat32);
    BOOST_CHECK_EQUAL(fresh.abs().max().item<float>(), 0.0F);
  }
}
