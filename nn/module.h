// nn::Module: the base of every layer and model — a named tree of parameters and children.
//
// A module owns its parameters (leaf tensors that require grad) and knows its children (the
// modules it is built from), each under a name. From that tree come the dotted names of
// named_parameters() ("encoder.weight_ih_l0"), the state dict that save/load write, and the
// nested repr PyTorch prints. A model is a struct whose members are its layers:
//
//   struct Classifier : mg::nn::Module {
//     mg::nn::Embedding embed{100, 16};
//     mg::nn::Linear head{16, 2};
//     Classifier() : Module("Classifier") {
//       register_module("embed", embed);
//       register_module("head", head);
//     }
//     mg::Tensor forward(const mg::Tensor& tokens) { return head(embed(tokens).mean(1)); }
//   };
//
// Modules are neither copyable nor movable. A parent keeps the address of each child it
// registered (its own member), so moving the parent would leave those addresses pointing at the
// old place; and a copy would have to choose between sharing the weights (two models training one
// set of parameters by surprise) and copying them (a state dict that no longer matches the
// registered handles). Build a module where it will live; hold it by unique_ptr to move it.
//
// Read after core/; nn/linear.h is the first layer built on it.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minigrad::nn {

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = delete;
  Module& operator=(Module&&) = delete;

  // ---- The tree -----------------------------------------------------------------------------
  // Parameters and buffers of this module and, with recurse, of every descendant, in
  // registration order, parents before children, names dotted from here.
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  // This module (named "") and every descendant, depth first, in registration order.
  std::vector<std::pair<std::string, Module*>> named_modules();
  std::vector<Module*> children() const;
  // The parameters and then the buffers of named_parameters()/named_buffers(), one list: what a
  // state file holds. PyTorch's state_dict interleaves them module by module; the names are the
  // same and files are read by name.
  std::vector<std::pair<std::string, Tensor>> state_dict() const;

  // ---- Modes --------------------------------------------------------------------------------
  // Training mode (dropout active) or evaluation mode, for this module and every descendant.
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Clears the gradient of every parameter (sets it to undefined, PyTorch's default since 2.0).
  void zero_grad();

  // Converts every parameter and buffer to `dtype` in place: handles the caller already holds
  // see the new dtype, as after PyTorch's module.to(). Gradients are dropped.
  void to(Dtype dtype);

  // ---- Printing -----------------------------------------------------------------------------
  // PyTorch's repr: "Linear(in_features=3, out_features=4, bias=True)", and for a module with
  // children one "(name): child" line each, indented, between "Name(" and ")".
  std::string repr() const;
  // The part between the parentheses of a module without children ("in_features=3, ...").
  virtual std::string extra_repr() const { return ""; }
  const std::string& type_name() const { return type_name_; }

 protected:
  // Registers a parameter under `name` and returns the stored handle. The tensor becomes a leaf
  // that requires grad (if it is floating point); an undefined tensor registers an absent
  // parameter (a layer built with bias=false), which named_parameters() skips.
  Tensor& register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // Registers state that is saved and loaded but not trained.
  Tensor& register_buffer(const std::string& name, Tensor tensor);
  // Registers `child`, which must outlive this module (in practice: a member of it).
  void register_module(const std::string& name, Module& child);

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool recurse, bool buffers,
               std::vector<std::pair<std::string, Tensor>>& out) const;

  std::string type_name_;
  bool training_ = true;
  // Deques, because register_parameter hands out references to the stored handles, and a deque,
  // unlike a vector, keeps them valid as more are appended.
  std::deque<std::pair<std::string, Tensor>> parameters_;
  std::deque<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
};

std::ostream& operator<<(std::ostream& out, const Module& module);

}  // namespace minigrad::nn
