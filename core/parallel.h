// minigrad's threads: one pool of its own, with OpenBLAS running single-threaded inside it.
//
// Why not let OpenBLAS run the threads? Its pool serves one GEMM at a time: between two products
// its threads spin, waiting for the next, while the calling thread does everything that is not a
// GEMM alone. A recurrent layer does hundreds of small products with a loop of gate arithmetic
// between each two, so half the machine would spin through the arithmetic. Here minigrad owns the
// threads instead: a parallel region hands each thread a part of the work — a block of rows of a
// GEMM, or a group of sequences that a recurrent layer scans on its own from the first step to the
// last — and each part calls OpenBLAS with one thread. There is one pool, its threads sleep when
// there is no work, and a part never waits for another part until the region ends.
//
//   mg::set_num_threads(2);                       // the pool's size, the caller included
//   mg::parallel_parts(2, [&](int part) { ... }); // part 0 on this thread, part 1 on the pool's
//
// set_num_threads and get_num_threads are declared in core/tensor.h. Read before blas.cpp and
// nn/fused_recurrent.cpp, the main users; kernel.h and reduce.cpp split their loops with
// parallel_ranges.
#pragma once

#include <cstdint>
#include <functional>

namespace minigrad {

// Runs body(part) for every part in [0, parts) at the same time: part 0 on the calling thread,
// the others on the pool's threads, and returns when every part has returned. If parts throw, the
// first exception is rethrown here, after all of them have finished. A region started from inside
// a part runs its parts one after another on that thread: regions do not nest.
// Expects 1 ≤ parts ≤ get_num_threads().
void parallel_parts(int parts, const std::function<void(int part)>& body);

// How many parts to split `work` (any unit: FLOPs, elements) into so that each part gets at
// least `grain` of it: between 1 and get_num_threads(), and 1 inside a part. Below the grain,
// waking a thread costs more than the work it would take over.
int parts_for(double work, double grain);

// parallel_parts over [0, count) cut into `parts` ranges of near-equal length: body(part, from,
// to) for each, range `part` being [count·part/parts, count·(part + 1)/parts). For loops whose
// iterations write only their own elements (copies, maps, one partial sum per part).
void parallel_ranges(std::int64_t count, int parts,
                     const std::function<void(int part, std::int64_t from, std::int64_t to)>& body);

}  // namespace minigrad
