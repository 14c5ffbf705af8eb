// Placeholder: written in the next commit.
#include "core/tensor.h"
