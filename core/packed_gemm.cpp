// PackedMatrix: pack once, multiply many times; see packed_gemm.h.
//
// The layout. B (k × n) is cut into panels of 16 columns. Panel q holds columns [16q, 16q + 16)
// of every row of B, row after row: 16 contiguous floats for p = 0, then 16 for p = 1, and so on.
// A panel is read front to back exactly once per block of six rows of A, two vector loads per p.
// The last panel is padded with zero columns, so the kernel never needs a shorter loop. Only its
// store has to write fewer columns.
//
// The kernel. For one panel and six rows of A (fewer at the bottom edge), the 6 × 16 block of C
// lives in twelve 8-float registers, acc[r][0] and acc[r][1]. For each p it loads the panel's two
// vectors b0, b1 (row p of the panel) and, for each row r, broadcasts a[r][p] to all 8 lanes and
// adds a[r][p]·b0 and a[r][p]·b1 to the row's two registers with fused multiply-adds. That is 12
// FMAs for 2 loads and 6 broadcasts, enough to keep both FMA units of a core busy. After the last
// p the block goes to C once, added to what is there when accumulating.
//
// Loop order: panels outside, row blocks inside, so a panel (16·k floats: 16 KB at k = 256)
// stays in the L1 cache while every row block of A passes over it.
#include "core/packed_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace minigrad {

namespace {

// Whether the environment says MG_CPU_CAPABILITY=default.
bool asked_for_default() {
  const char* capability = std::getenv("MG_CPU_CAPABILITY");
  return capability != nullptr && std::string_view(capability) == "default";
}

constexpr std::int64_t kRows = 6;     // MR: rows of A per block
constexpr std::int64_t kPanel = 16;   // NR: columns of B per panel, two AVX vectors

#if defined(__x86_64__)

// c (rows × cols, rows ldc apart; rows ≤ 6, cols ≤ 16) = or += a (rows × k) · panel (k × 16).
template <int Rows>
__attribute__((target("avx2,fma"))) void block(std::int64_t k, const float* a, std::int64_t lda,
                                               const float* panel, float* c, std::int64_t ldc,
                                               std::int64_t cols, bool accumulate) {
  __m256 acc[Rows][2];
#pragma GCC unroll 6
  for (int r = 0; r < Rows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (std::int64_t p = 0; p < k; ++p) {
    const __m256 b0 = _mm256_load_ps(panel + p * kPanel);
    const __m256 b1 = _mm256_load_ps(panel + p * kPanel + 8);
#pragma GCC unroll 6
    for (int r = 0; r < Rows; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r * lda + p);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < Rows; ++r) {
    float* row = c + r * ldc;
    if (cols == kPanel) {
      if (accumulate) {
        acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(row));
        acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, acc[r][0]);
      _mm256_storeu_ps(row + 8, acc[r][1]);
    } else {  // the last panel: only its first `cols` columns exist in C
      alignas(32) float tile[kPanel];
      _mm256_store_ps(tile, acc[r][0]);
      _mm256_store_ps(tile + 8, acc[r][1]);
      for (std::int64_t j = 0; j < cols; ++j) row[j] = accumulate ? row[j] + tile[j] : tile[j];
    }
  }
}

// One block of `rows` (1 to 6) rows: the template above, with its loops unrolled for that count.
void block_of(std::int64_t rows, std::int64_t k, const float* a, std::int64_t lda,
              const float* panel, float* c, std::int64_t ldc, std::int64_t cols,
              bool accumulate) {
  switch (rows) {
    case 6: return block<6>(k, a, lda, panel, c, ldc, cols, accumulate);
    case 5: return block<5>(k, a, lda, panel, c, ldc, cols, accumulate);
    case 4: return block<4>(k, a, lda, panel, c, ldc, cols, accumulate);
    case 3: return block<3>(k, a, lda, panel, c, ldc, cols, accumulate);
    case 2: return block<2>(k, a, lda, panel, c, ldc, cols, accumulate);
    default: return block<1>(k, a, lda, panel, c, ldc, cols, accumulate);
  }
}

#endif

}  // namespace

bool PackedMatrix::available() {
#if defined(__x86_64__)
  // MG_CPU_CAPABILITY=default turns the kernel off, as ATEN_CPU_CAPABILITY=default does
  // PyTorch's vector kernels: tests/portability.sh runs the cblas path this way on a CPU that
  // has AVX2.
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                          !asked_for_default();
  return has;
#else
  return false;
#endif
}

PackedMatrix::PackedMatrix(const float* data, std::int64_t k, std::int64_t n,
                           std::int64_t row_stride, std::int64_t col_stride)
    : k_(k), n_(n) {
  check(available(), "PackedMatrix: this CPU has no AVX2 and FMA; use cblas instead");
  const std::int64_t panels = (n + kPanel - 1) / kPanel;
  panels_ = zeros({panels * k * kPanel}, kFloat32);  // the padding columns stay zero
  float* out = panels_.data_ptr<float>();
  for (std::int64_t q = 0; q < panels; ++q)
    for (std::int64_t p = 0; p < k; ++p)
      for (std::int64_t j = q * kPanel; j < std::min(n, (q + 1) * kPanel); ++j)
        out[(q * k + p) * kPanel + j - q * kPanel] = data[p * row_stride + j * col_stride];
}

void PackedMatrix::multiply(std::int64_t m, const float* a, std::int64_t lda, float* c,
                            std::int64_t ldc, bool accumulate) const {
#if defined(__x86_64__)
  if (m <= 0) return;
  const float* panels = panels_.data_ptr<float>();
  // The rows in as few blocks as six allow, of sizes as equal as possible: 32 rows as
  // 6, 6, 5, 5, 5, 5 rather than five of 6 and one of 2, a block that loads as much of the panel
  // per FMA as three times its rows would.
  const std::int64_t blocks = (m + kRows - 1) / kRows;
  for (std::int64_t q = 0; q * kPanel < n_; ++q) {
    const float* panel = panels + q * k_ * kPanel;
    const std::int64_t cols = std::min(kPanel, n_ - q * kPanel);
    for (std::int64_t b = 0, i = 0; b < blocks; ++b) {
      const std::int64_t rows = (m - i) / (blocks - b) + ((m - i) % (blocks - b) != 0);
      block_of(rows, k_, a + i * lda, lda, panel, c + i * ldc + q * kPanel, ldc, cols,
               accumulate);
      i += rows;
    }
  }
#else
  (void)m, (void)a, (void)lda, (void)c, (void)ldc, (void)accumulate;
#endif
}

}  // namespace minigrad
