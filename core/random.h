// The seeded generator behind randn, rand, dropout masks and parameter initialisation.
// manual_seed(s) (declared in tensor.h) resets it; see random.cpp for the transforms.
#pragma once

#include <cstdint>
#include <random>

namespace minigrad {

std::mt19937_64& generator();
double next_uniform();  // U[0, 1), 53 random bits
double next_normal();   // N(0, 1)

}  // namespace minigrad
