// minigrad: the whole public API in one include.
//
//   #include "minigrad.h"
//   namespace mg = minigrad;
//
// The reading order of the source is in docs/README.md: core/error.h, dtype.h, shape.h,
// storage.h, tensor.h, autograd.h, kernel.h, then the op files, elementwise.cpp first.
#pragma once

#include "core/autograd.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/gradcheck.h"
#include "core/graph_dot.h"
#include "core/print.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/rnn.h"
#include "nn/fused_recurrent.h"
#include "nn/serialize.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/sequential.h"
#include "nn/utils/rnn.h"
#include "optim/adam.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "nn/utils/clip_grad.h"
#include "optim/lr_scheduler.h"
