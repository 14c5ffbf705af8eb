// Saving and loading a module's state as a safetensors file, the format PyTorch users share
// models in (https://github.com/huggingface/safetensors).
//
//   mg::nn::save(model, "model.safetensors");
//   mg::nn::load(model, "model.safetensors");  // same names, dtypes, shapes, or nothing changes
//
// A file holds named tensors and, optionally, string metadata. save() writes the module's
// state_dict() (parameters, then buffers, under their dotted names); load() reads one back into a
// module of the same architecture. A file written by PyTorch (safetensors.torch.save_file on a
// model whose parameter names match, e.g. "fc1.weight") loads here, and a file written here loads
// there: tests/make_state_fixtures.py shows both directions.
//
// Writes are atomic: the file goes to "<path>.tmp-XXXXXX" in the same directory, is flushed to
// disk, and only then renamed over <path>, so a crash or an error leaves either the old file or
// the new one, never half of one. Loads check everything (the file's structure, then every name,
// dtype and shape against the module) before the first value is copied, so a failed load leaves
// the module exactly as it was.
//
// A checkpoint with more than the model — the optimizer's state, say — is one file too: the
// model's entries under their own names and the rest under a prefix no child module is named
// after, "optim." by convention:
//
//   auto tensors = model.state_dict();
//   for (auto& [name, t] : optimizer_state) tensors.emplace_back("optim." + name, t);
//   mg::nn::save_tensors(path, tensors, {{"step", "1000"}});
//
// Read it back with load_tensors(path), split off the "optim." entries, and hand the rest to
// load_state_dict(model, rest); load(model, path) itself is strict and would refuse them as
// unexpected keys. Read after nn/module.h; the format and its checks are in serialize.cpp.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace minigrad::nn {

// Named tensors, in order: what Module::state_dict() returns and what a file holds.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// The "__metadata__" of a file: free-form text, string to string.
using Metadata = std::map<std::string, std::string>;

// What load_tensors() finds in a file: its tensors, in the order of their bytes in the file,
// and its metadata.
struct TensorFile {
  NamedTensors tensors;
  Metadata metadata;
};

// ---- Modules --------------------------------------------------------------------------------

// Writes module.state_dict() to `path` (replacing any file there), with `metadata`.
void save(const Module& module, const std::string& path, const Metadata& metadata = {});

// Reads `path` into the module's parameters and buffers. The file must hold exactly the names of
// module.state_dict(), each with the same dtype and shape; otherwise nothing is changed and the
// error lists every difference in PyTorch's words ("Missing key(s) in state_dict: ...").
void load(Module& module, const std::string& path);

// The same check and copy from tensors in memory, as PyTorch's module.load_state_dict(state).
void load_state_dict(Module& module, const NamedTensors& state);

// ---- Any tensors ----------------------------------------------------------------------------

// Writes `tensors` (defined, names distinct and not "__metadata__", any dtype and shape; views
// are written as their values) and `metadata` to `path`, atomically.
void save_tensors(const std::string& path, const NamedTensors& tensors,
                  const Metadata& metadata = {});

// Reads every tensor and the metadata of `path`, after checking the whole file.
TensorFile load_tensors(const std::string& path);

// The refusal every load_state_dict shares (modules, optimizers, schedulers), in PyTorch's words:
//   Error(s) in loading <what>:
//   	Missing key(s) in state_dict: "a", "b". 
//   	Unexpected key(s) in state_dict: "c". 
//   	<each mismatch>
// with `what` such as "state_dict for GRU". Does nothing when all three lists are empty.
void check_state_dict_complete(const std::string& what, const std::vector<std::string>& missing,
                               const std::vector<std::string>& unexpected,
                               const std::vector<std::string>& mismatches);

}  // namespace minigrad::nn
