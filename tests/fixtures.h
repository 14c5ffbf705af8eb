// Reading the reference values that tests/make_fixtures.py wrote with PyTorch.
//
//   test::Fixtures fx("core.txt");               // under MG_FIXTURE_DIR (tests/fixtures)
//   mg::Tensor x = fx.tensor("softmax/f32_large_dim1/x");
//   test::Reference y = fx.reference("softmax/f32_large_dim1/y");  // a result, to compare with
//   std::string text = fx.text("print/float32_matrix");
//   for (const std::string& c : fx.cases("matmul")) ...   // every CASE of matmul/CASE/PART
//
// The format (version 1; make_fixtures.py documents it in full): a first line
// "minigrad-fixtures 1", then records separated by whitespace, and lines starting with '#'
// skipped between them:
//   tensor NAME DTYPE RANK DIM_1 ... DIM_RANK  followed by the numel values, row-major;
//   string NAME LENGTH                         followed by a newline and LENGTH bytes of text.
// DTYPE is float32, float64, int64 or bool (0 or 1). float64 values are the shortest text that
// reads back as the same double, float32 values the shortest that reads back as the same float,
// so both load exactly: they are parsed with std::from_chars straight into their own type.
// Anything wrong (no file, another version, a malformed record, a name that is not there)
// throws std::runtime_error saying what, which Boost.Test reports as the failing case's error.
//
// A result computed in float32 comes with two more records (tests/README.md says why):
// NAME@f64, the float64 answer to the same question, and NAME@f32_error, how far PyTorch's own
// float32 answer lies from it. reference(NAME) gathers the three.
//
// The environment variable MG_FIXTURE_DIR, when set, replaces the directory the build names:
// tests/portability.sh runs the suite against fixtures regenerated elsewhere.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "minigrad.h"

namespace mg = minigrad;

namespace test {

// One of PyTorch's results, as a test compares with it.
struct Reference {
  std::string name;
  mg::Tensor value;      // what PyTorch computed (in float32 for a float32 case)
  mg::Tensor exact;      // the float64 answer: NAME@f64 for a float32 result, else value itself
  mg::Tensor f32_error;  // NAME@f32_error: max |PyTorch's float32 answer − exact|, 0-d or one
                         // per row of a trajectory; undefined where the fixture has none
  bool from_float32() const { return value.impl() != exact.impl(); }

  // Row k of a trajectory (shape (steps, *shape), with one f32_error per step).
  Reference row(std::int64_t k) const {
    Reference r{name + "[" + std::to_string(k) + "]", value.select(0, k),
                from_float32() ? exact.select(0, k) : mg::Tensor(), mg::Tensor()};
    if (!from_float32()) r.exact = r.value;
    if (f32_error.defined())
      r.f32_error = f32_error.dim() == 0 ? f32_error : f32_error.select(0, k);
    return r;
  }
};

class Fixtures {
 public:
  static constexpr int kVersion = 1;

  // `file` is relative to MG_FIXTURE_DIR unless it is an absolute path.
  explicit Fixtures(const std::string& file)
      : path_(file.starts_with("/") ? file : directory() + "/" + file) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail("cannot open the file; run /usr/bin/python3 tests/make_fixtures.py");
    std::string magic;
    int version = 0;
    in >> magic >> version;
    if (magic != "minigrad-fixtures" || version != kVersion)
      fail("expected a first line \"minigrad-fixtures " + std::to_string(kVersion) + "\", got \"" +
           magic + " " + std::to_string(version) + "\"");
    std::string kind;
    while (in >> kind) {
      if (kind.starts_with("#")) {
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      } else if (kind == "tensor") {
        read_tensor(in);
      } else if (kind == "string") {
        read_string(in);
      } else {
        fail("unknown record kind \"" + kind + "\"");
      }
    }
  }

  // The tensor stored under `name`, with its dtype and shape.
  mg::Tensor tensor(const std::string& name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) fail("no tensor named \"" + name + "\"");
    return it->second;
  }

  bool has(const std::string& name) const { return tensors_.contains(name); }

  // The result stored under `name`, with its float64 answer and PyTorch's float32 error when
  // the fixture has them. A float32 result without them is refused: it cannot be compared.
  Reference reference(const std::string& name) const {
    Reference r{name, tensor(name), tensor(name), mg::Tensor()};
    if (has(name + "@f64")) r.exact = tensor(name + "@f64");
    if (has(name + "@f32_error")) r.f32_error = tensor(name + "@f32_error");
    if (r.value.dtype() == mg::kFloat32 && !(r.from_float32() && r.f32_error.defined()))
      fail("float32 result \"" + name + "\" has no @f64 and @f32_error records; regenerate it");
    return r;
  }

  // The directory fixture files are read from: $MG_FIXTURE_DIR, else the build's.
  static std::string directory() {
    const char* set = std::getenv("MG_FIXTURE_DIR");
    return set != nullptr && *set != '\0' ? set : MG_FIXTURE_DIR;
  }

  // The text stored under `name`.
  const std::string& text(const std::string& name) const {
    const auto it = texts_.find(name);
    if (it == texts_.end()) fail("no string named \"" + name + "\"");
    return it->second;
  }

  // The CASEs of every tensor named GROUP/CASE/PART, in sorted order, each once.
  std::vector<std::string> cases(const std::string& group) const {
    const std::string prefix = group + "/";
    std::vector<std::string> out;
    for (const auto& [name, tensor] : tensors_) {
      if (!name.starts_with(prefix)) continue;
      const std::size_t end = name.find('/', prefix.size());
      if (end == std::string::npos) continue;
      std::string c = name.substr(prefix.size(), end - prefix.size());
      if (out.empty() || out.back() != c) out.push_back(std::move(c));
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw std::runtime_error("fixtures " + path_ + ": " + message);
  }

  void read_tensor(std::istream& in) {
    std::string name, dtype;
    std::int64_t rank = -1;
    in >> name >> dtype >> rank;
    if (!in || rank < 0) fail("malformed tensor header after \"" + last_ + "\"");
    mg::Shape shape(static_cast<std::size_t>(rank));
    for (std::int64_t& size : shape) in >> size;
    if (!in) fail("malformed shape of tensor \"" + name + "\"");
    const auto numel = static_cast<std::size_t>(mg::shape_numel(shape));
    mg::Tensor t;
    if (dtype == "float32")
      t = mg::from_vector(read_values<float>(in, name, numel), shape);
    else if (dtype == "float64")
      t = mg::from_vector(read_values<double>(in, name, numel), shape);
    else if (dtype == "int64")
      t = mg::from_vector(read_values<std::int64_t>(in, name, numel), shape);
    else if (dtype == "bool")
      t = mg::from_vector(read_bools(read_values<std::int64_t>(in, name, numel), name), shape);
    else
      fail("tensor \"" + name + "\" has unknown dtype \"" + dtype + "\"");
    if (!tensors_.emplace(name, t).second) fail("tensor \"" + name + "\" appears twice");
    last_ = name;
  }

  template <class T>
  std::vector<T> read_values(std::istream& in, const std::string& name, std::size_t numel) {
    std::vector<T> values(numel);
    std::string token;
    for (T& v : values) {
      if (!(in >> token))
        fail("tensor \"" + name + "\": the file ends before its " + std::to_string(numel) +
             " values do");
      const char* end = token.data() + token.size();
      const auto [ptr, ec] = std::from_chars(token.data(), end, v);
      if (ec != std::errc() || ptr != end)
        fail("tensor \"" + name + "\": cannot read \"" + token + "\" as a value");
    }
    return values;
  }

  std::vector<bool> read_bools(const std::vector<std::int64_t>& values, const std::string& name) {
    std::vector<bool> bools;
    for (std::int64_t v : values) {
      if (v != 0 && v != 1) fail("tensor \"" + name + "\": a bool must be 0 or 1");
      bools.push_back(v == 1);
    }
    return bools;
  }

  void read_string(std::istream& in) {
    std::string name;
    std::size_t length = 0;
    in >> name >> length;
    if (!in || in.get() != '\n') fail("malformed string header after \"" + last_ + "\"");
    std::string text(length, '\0');
    in.read(text.data(), static_cast<std::streamsize>(length));
    if (!in) fail("string \"" + name + "\" is cut short");
    if (!texts_.emplace(name, std::move(text)).second)
      fail("string \"" + name + "\" appears twice");
    last_ = name;
  }

  std::string path_;
  std::string last_ = "the header";  // the last record read, for error messages
  std::map<std::string, mg::Tensor> tensors_;
  std::map<std::string, std::string> texts_;
};

}  // namespace test
