// One thread setting for the whole library.
//
// The heavy lifting is OpenBLAS's GEMM, which runs its own pool of threads; minigrad's own loops
// run on the calling thread. So set_num_threads(n) is OpenBLAS's setting, and there is never a
// second pool competing for the same cores. The default, OpenBLAS's, is every core.
#include <cblas.h>

#include "core/tensor.h"

namespace minigrad {

void set_num_threads(int n) {
  check(n > 0, "set_num_threads expects a positive integer, got {}", n);
  openblas_set_num_threads(n);
}

int get_num_threads() { return openblas_get_num_threads(); }

}  // namespace minigrad
