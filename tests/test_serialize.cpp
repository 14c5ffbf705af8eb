// Safetensors files (nn/serialize.h): round trips of every dtype, the exact bytes the reference
// writer produces, atomic writes, strict loads that change nothing on failure, every malformed
// file refused with its reason, and interchange with PyTorch (tests/make_state_fixtures.py).
#define BOOST_TEST_MODULE serialize
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>

#include "fixtures.h"
#include "support.h"

namespace fs = std::filesystem;
namespace nn = mg::nn;

namespace {

// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string name = (fs::temp_directory_path() / "minigrad-serialize-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  // The names in the directory: a save must leave no temporary file behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path)) names.push_back(entry.path().filename());
    std::ranges::sort(names);
    return names;
  }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file in the safetensors layout: 8 bytes of little-endian header length (the header's own
// unless `length` is given), the header, the data.
std::string file_bytes(const std::string& header, const std::string& data = "",
                       std::optional<std::uint64_t> length = std::nullopt) {
  const std::uint64_t n = length.value_or(header.size());
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return bytes + header + data;
}

// Same dtype, same shape, and the same bits in every element (NaN included).
bool same_bits(const mg::Tensor& a, const mg::Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  return mg::dispatch(a.dtype(), [&]<class T>() {
    const auto x = a.to_vector<T>(), y = b.to_vector<T>();
    for (std::size_t i = 0; i < x.size(); ++i) {
      const T u = x[i], v = y[i];
      if (std::memcmp(&u, &v, sizeof(T)) != 0) return false;
    }
    return true;
  });
}

// nn.Linear's parameters, under its names and shapes: weight (out, in) and bias (out).
struct Affine : nn::Module {
  mg::Tensor& weight;
  mg::Tensor& bias;
  Affine(std::int64_t in, std::int64_t out)
      : Module("Linear"),
        weight(register_parameter("weight", mg::randn({out, in}))),
        bias(register_parameter("bias", mg::randn({out}))) {}
  // y = x Wᵀ + b      x (B, in) -> y (B, out)
  mg::Tensor forward(const mg::Tensor& x) const { return mg::matmul(x, weight.t()) + bias; }
};

// MLP of tests/make_state_fixtures.py, built from minigrad ops:
//   y = fc2(tanh(fc1(x))) / temperature * output_mask, and a step counter that is only kept.
struct MLP : nn::Module {
  Affine fc1;
  Affine fc2;
  mg::Tensor& temperature;  // 0-d float64
  mg::Tensor& output_mask;  // (2) bool
  mg::Tensor& steps;        // 0-d int64
  explicit MLP(std::int64_t in = 3)
      : Module("MLP"),
        fc1(in, 4),
        fc2(4, 2),
        temperature(register_buffer("temperature", mg::scalar_tensor(1.0, mg::kFloat64))),
        output_mask(register_buffer("output_mask", mg::ones({2}, mg::kBool))),
        steps(register_buffer("steps", mg::scalar_tensor(0, mg::kInt64))) {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  mg::Tensor forward(const mg::Tensor& x) const {
    return fc2.forward(mg::tanh(fc1.forward(x))) / temperature * output_mask;
  }
};

// Copies of every state tensor, to show later that nothing changed.
nn::NamedTensors snapshot(const nn::Module& module) {
  nn::NamedTensors copies;
  for (const auto& [name, t] : module.state_dict()) copies.emplace_back(name, t.detach().clone());
  return copies;
}

void check_unchanged(const nn::Module& module, const nn::NamedTensors& before) {
  const nn::NamedTensors now = module.state_dict();
  BOOST_REQUIRE_EQUAL(now.size(), before.size());
  for (std::size_t i = 0; i < now.size(); ++i)
    BOOST_CHECK_MESSAGE(same_bits(now[i].second, before[i].second),
                        now[i].first << " changed although the load failed");
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_dtype_round_trips_bit_for_bit) {
  // save_tensors(path, tensors, metadata), load_tensors(path) -> {tensors, metadata}
  TempDir dir;
  const float inf = std::numeric_limits<float>::infinity();
  const mg::Tensor matrix = mg::randn({3, 4}, mg::kFloat64);
  const nn::NamedTensors tensors{
      {"f32", mg::from_vector<float>({1.5f, -0.0f, inf, -inf, std::nanf(""), 1e-45f}, {2, 3})},
      {"f64", mg::from_vector<double>({0.1, -2.5e300, 4.9e-324})},
      {"i64", mg::from_vector<std::int64_t>({std::numeric_limits<std::int64_t>::min(), -1, 0,
                                             std::numeric_limits<std::int64_t>::max()},
                                            {2, 2})},
      {"bool", mg::from_vector<bool>({true, false, true})},
      {"scalar_f32", mg::scalar_tensor(3.25)},
      {"scalar_i64", mg::scalar_tensor(-7, mg::kInt64)},
      {"scalar_bool", mg::scalar_tensor(true, mg::kBool)},
      {"empty_f32", mg::zeros({0, 3})},
      {"empty_bool", mg::zeros({2, 0}, mg::kBool)},
      {"transposed", matrix.transpose(0, 1)},  // a view is written as its values
      {"requires_grad", mg::randn({2}).requires_grad_()},
  };
  nn::save_tensors(dir.file("all.safetensors"), tensors);
  const nn::TensorFile file = nn::load_tensors(dir.file("all.safetensors"));
  BOOST_CHECK(file.metadata.empty());
  BOOST_REQUIRE_EQUAL(file.tensors.size(), tensors.size());
  for (const auto& [name, original] : tensors) {
    const auto it = std::ranges::find(file.tensors, name, [](const auto& e) { return e.first; });
    BOOST_REQUIRE_MESSAGE(it != file.tensors.end(), name << " was not read back");
    BOOST_CHECK_MESSAGE(same_bits(it->second, original), name << " differs after the round trip");
    BOOST_CHECK(it->second.is_contiguous() && !it->second.requires_grad());
  }
}

BOOST_AUTO_TEST_CASE(bytes_are_laid_out_as_the_reference_writer_lays_them_out) {
  // save_tensors: the header padded with spaces to a multiple of 8, largest elements first
  TempDir dir;
  const std::string path = dir.file("t.safetensors");
  // Expected bytes from huggingface/safetensors' own tests (safetensors/src/tensor.rs:
  // test_serialization, test_serialization_forced_alignement, test_empty).
  std::string values(24, '\0');
  const std::vector<float> numbers{0, 1, 2, 3, 4, 5};
  std::memcpy(values.data(), numbers.data(), values.size());
  nn::save_tensors(path, {{"attn.0", mg::from_vector(numbers, {1, 2, 3})}});
  BOOST_CHECK(read_bytes(path) ==
              file_bytes(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})",
                         values, 64));
  nn::save_tensors(path, {{"attn0", mg::from_vector(numbers, {1, 1, 2, 3})}});
  BOOST_CHECK(read_bytes(path) ==
              file_bytes(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       )",
                         values, 72));
  nn::save_tensors(path, {});
  BOOST_CHECK(read_bytes(path) == file_bytes("{}      ", "", 8));
  nn::save_tensors(path, {}, {{"framework", "pt"}});
  BOOST_CHECK(read_bytes(path) == file_bytes(R"({"__metadata__":{"framework":"pt"}}     )", "", 40));

  // Mixed sizes: 8-byte elements first, then 4, then 1, the caller's order among equals, so
  // that every tensor starts at a multiple of its element size.
  nn::save_tensors(path, {{"mask", mg::ones({3}, mg::kBool)},
                          {"w", mg::ones({1})},
                          {"count", mg::zeros({1}, mg::kInt64)},
                          {"scale", mg::scalar_tensor(2.0, mg::kFloat64)}});
  std::vector<std::string> order;
  for (const auto& [name, t] : nn::load_tensors(path).tensors) order.push_back(name);
  BOOST_CHECK(order == (std::vector<std::string>{"count", "scale", "w", "mask"}));
  BOOST_CHECK_EQUAL(static_cast<unsigned char>(read_bytes(path)[0]) % 8, 0);
}

BOOST_AUTO_TEST_CASE(metadata_round_trips) {
  // save_tensors(path, tensors, metadata): "__metadata__", strings to strings
  TempDir dir;
  const nn::Metadata metadata{{"step", "1000"}, {"note", "héllo ✓, \"quoted\"\n"}, {"empty", ""}};
  nn::save_tensors(dir.file("m.safetensors"), {{"x", mg::ones({2})}}, metadata);
  const nn::TensorFile file = nn::load_tensors(dir.file("m.safetensors"));
  BOOST_CHECK(file.metadata == metadata);
  MLP model;
  nn::save(model, dir.file("model.safetensors"), {{"epoch", "3"}});
  BOOST_CHECK(nn::load_tensors(dir.file("model.safetensors")).metadata ==
              (nn::Metadata{{"epoch", "3"}}));
}

BOOST_AUTO_TEST_CASE(save_is_atomic) {
  // save(module, path): a temporary beside the file, renamed over it; a failure leaves no trace
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  MLP first, second;
  nn::save(first, path);
  nn::save(second, path);  // over an existing file
  BOOST_CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});
  MLP loaded;
  nn::load(loaded, path);
  BOOST_CHECK(same_bits(loaded.fc1.weight, second.fc1.weight));
  const std::string saved = read_bytes(path);

  // A directory that does not exist: nothing is created, the message names the path.
  const std::string missing = dir.file("no/such/dir/model.safetensors");
  test::check_error([&] { nn::save(first, missing); }, "cannot save \"" + missing + "\"");
  test::check_error([&] { nn::save(first, missing); },
                    "cannot create the temporary file \"" + missing +
                        ".tmp-XXXXXX\": No such file or directory");
  BOOST_CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});

  // A rename that fails after the whole file was written: the temporary is removed.
  fs::create_directory(dir.file("a_directory"));
  test::check_error([&] { nn::save(first, dir.file("a_directory")); }, "Is a directory");
  BOOST_CHECK(dir.entries() == (std::vector<std::string>{"a_directory", "model.safetensors"}));

  // A write that fails halfway (the file size limit, below the tensor's 40000 bytes): the old
  // file keeps its bytes and the temporary is removed.
  rlimit old_limit{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG
  BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  test::check_error([&] { nn::save_tensors(path, {{"big", mg::zeros({10000})}}); },
                    "File too large");
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  BOOST_CHECK(read_bytes(path) == saved);
  BOOST_CHECK(dir.entries() == (std::vector<std::string>{"a_directory", "model.safetensors"}));

  // Bad arguments are refused before any file is touched.
  test::check_error([&] { nn::save_tensors(path, {{"x", mg::ones({1})}, {"x", mg::ones({1})}}); },
                    "save_tensors: the name \"x\" appears twice");
  test::check_error([&] { nn::save_tensors(path, {{"x", mg::Tensor()}}); },
                    "save_tensors: the tensor \"x\" is undefined");
  test::check_error([&] { nn::save_tensors(path, {{"__metadata__", mg::ones({1})}}); },
                    "\"__metadata__\" holds the metadata and cannot name a tensor");
  test::check_error([&] { nn::save_tensors(path, {{"bad\xff", mg::ones({1})}}); },
                    "names and metadata must be UTF-8 text");
  BOOST_CHECK(read_bytes(path) == saved);
  BOOST_CHECK(dir.entries() == (std::vector<std::string>{"a_directory", "model.safetensors"}));
}

BOOST_AUTO_TEST_CASE(load_refuses_a_mismatched_state_and_changes_nothing) {
  // load(module, path), load_state_dict(module, state): PyTorch's strict load_state_dict words
  TempDir dir;
  MLP model;
  const nn::NamedTensors before = snapshot(model);
  const auto load_file = [&](const std::string& name, const nn::NamedTensors& tensors) {
    nn::save_tensors(dir.file(name), tensors);
    return [&model, path = dir.file(name)] { nn::load(model, path); };
  };
  nn::NamedTensors state = MLP().state_dict();

  nn::NamedTensors without_bias = state;
  std::erase_if(without_bias, [](const auto& e) { return e.first == "fc2.bias"; });
  test::check_error(load_file("missing.safetensors", without_bias),
                    "Missing key(s) in state_dict: \"fc2.bias\". ");
  check_unchanged(model, before);

  nn::NamedTensors extra = state;
  extra.emplace_back("fc3.weight", mg::ones({1}));
  test::check_error(load_file("unexpected.safetensors", extra),
                    "Unexpected key(s) in state_dict: \"fc3.weight\". ");
  check_unchanged(model, before);

  test::check_error(load_file("shape.safetensors", MLP(5).state_dict()),
                    "size mismatch for fc1.weight: copying a param with shape torch.Size([4, 5]) "
                    "from checkpoint, the shape in current model is torch.Size([4, 3]).");
  check_unchanged(model, before);

  nn::NamedTensors wider = state;
  wider[0].second = wider[0].second.to(mg::kFloat64);
  test::check_error(load_file("dtype.safetensors", wider),
                    "dtype mismatch for fc1.weight: copying a param with dtype torch.float64 from "
                    "checkpoint, the dtype in current model is torch.float32.");
  check_unchanged(model, before);

  // Everything at once, in PyTorch's order: the whole message as PyTorch 1.13 words it.
  nn::NamedTensors all = MLP(5).state_dict();
  std::erase_if(all, [](const auto& e) { return e.first == "fc2.bias"; });
  all.emplace_back("extra", mg::zeros({1}));
  all.emplace_back("more", mg::zeros({1}));
  const std::string path = dir.file("all.safetensors");
  nn::save_tensors(path, all);
  try {
    nn::load(model, path);
    BOOST_ERROR("load accepted a mismatched file");
  } catch (const mg::Error& e) {
    BOOST_CHECK_EQUAL(
        std::string(e.what()),
        "Error(s) in loading state_dict for MLP from \"" + path +
            "\":\n\tMissing key(s) in state_dict: \"fc2.bias\". \n\tUnexpected key(s) in "
            "state_dict: \"extra\", \"more\". \n\tsize mismatch for fc1.weight: copying a param "
            "with shape torch.Size([4, 5]) from checkpoint, the shape in current model is "
            "torch.Size([4, 3]).");
  }
  check_unchanged(model, before);

  // The same checks from memory.
  test::check_error([&] { nn::load_state_dict(model, without_bias); },
                    "Error(s) in loading state_dict for MLP:\n\tMissing key(s)");
  nn::NamedTensors twice = state;
  twice.push_back(state[0]);
  test::check_error([&] { nn::load_state_dict(model, twice); },
                    "load_state_dict: the key \"fc1.weight\" appears twice");
  check_unchanged(model, before);
  nn::load_state_dict(model, state);
  BOOST_CHECK(same_bits(model.fc2.bias, state[3].second));
}

BOOST_AUTO_TEST_CASE(malformed_files_are_refused_with_their_reason) {
  // load(module, path) and load_tensors(path) on files that break the format
  TempDir dir;
  MLP model;
  const nn::NamedTensors before = snapshot(model);
  int count = 0;
  const auto check_refused = [&](const std::string& bytes, const std::string& reason) {
    const std::string path = dir.file("bad" + std::to_string(count++) + ".safetensors");
    write_bytes(path, bytes);
    test::check_error([&] { nn::load(model, path); },
                      "\"" + path + "\" is not a valid safetensors file: " + reason);
    check_unchanged(model, before);
  };
  const auto f32 = [](const std::string& shape, const std::string& offsets) {
    return R"({"dtype":"F32","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
  };
  const std::string eight(8, '\0');

  check_refused("", "the file is empty");
  check_refused("12345", "the file has 5 bytes, fewer than the 8 of the header length");
  check_refused(file_bytes("{}", "", 100), "the header length is 100 bytes, but only 2 bytes");
  check_refused(file_bytes("{}", "", std::numeric_limits<std::uint64_t>::max()),
                "the header length is 18446744073709551615 bytes, but only 2 bytes");
  check_refused(file_bytes(R"({"w": )"), "the header is not valid JSON");
  check_refused(file_bytes("{\"w\xff\": 1}"), "the header is not valid JSON");
  check_refused(file_bytes("[1, 2]"), "the header is a JSON array, not an object");
  check_refused(file_bytes(R"({"w":)" + f32("[2]", "[0,8]") + R"(,"w":)" + f32("[2]", "[8,16]") +
                           "}", eight + eight),
                "the key \"w\" appears twice in the header");
  check_refused(file_bytes(R"({"w":{"dtype":"F32","dtype":"F64","shape":[],"data_offsets":[0,4]}})",
                           "1234"),
                "the key \"dtype\" appears twice in the header");
  check_refused(file_bytes(R"({"w":[0]})"), "the entry of tensor \"w\" is a JSON array");
  check_refused(file_bytes(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "1234"),
                "tensor \"w\" has dtype \"F16\"; minigrad reads \"F32\", \"F64\", \"I64\" and \"BOOL\"");
  check_refused(file_bytes(R"({"w":{"dtype":4,"shape":[],"data_offsets":[0,4]}})", "1234"),
                "tensor \"w\" has dtype 4;");
  check_refused(file_bytes(R"({"w":{"dtype":"F32","shape":[1]}})"),
                "tensor \"w\" has no \"data_offsets\"");
  check_refused(file_bytes(R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}})", "1234"),
                "tensor \"w\" has an unknown field \"x\"");
  check_refused(file_bytes(R"({"w":)" + f32("[-1]", "[0,0]") + "}"),
                "tensor \"w\" has shape [-1], not an array of sizes");
  check_refused(file_bytes(R"({"w":)" + f32("[1.0]", "[0,4]") + "}", "1234"),
                "tensor \"w\" has shape [1.0], not an array of sizes");
  check_refused(file_bytes(R"({"w":)" + f32("[1]", "[4,0]") + "}", "1234"),
                "tensor \"w\" has data_offsets [4,0], not [begin, end] with begin <= end");
  check_refused(file_bytes(R"({"w":)" + f32("[1]", "[0]") + "}", "1234"),
                "tensor \"w\" has data_offsets [0], not [begin, end]");
  check_refused(file_bytes(R"({"w":)" + f32("[2,2]", "[0,12]") + "}", "123412341234"),
                "tensor \"w\" of dtype F32 and shape [2, 2] needs 16 bytes, but its data_offsets "
                "[0, 12] hold 12");
  check_refused(file_bytes(R"({"w":)" + f32("[4294967296,4294967296]", "[0,4]") + "}", "1234"),
                "tensor \"w\" has shape [4294967296, 4294967296], too large to address");
  check_refused(file_bytes(R"({"w":)" + f32("[2]", "[0,8]") + "}", "1234"),
                "tensor \"w\" has data_offsets [0, 8], past the end of the data (4 bytes)");
  check_refused(file_bytes(R"({"a":)" + f32("[2]", "[0,8]") + R"(,"b":)" + f32("[1]", "[12,16]") +
                           "}", eight + eight),
                "bytes [8, 12) of the data belong to no tensor");
  check_refused(file_bytes(R"({"a":)" + f32("[2]", "[0,8]") + "}", eight + "1234"),
                "bytes [8, 12) of the data belong to no tensor");
  check_refused(file_bytes(R"({"b":)" + f32("[2]", "[4,12]") + R"(,"a":)" + f32("[2]", "[0,8]") +
                           "}", eight + "1234"),
                "tensor \"b\" (bytes [4, 12)) overlaps tensor \"a\" (bytes [0, 8))");
  check_refused(file_bytes(R"({"__metadata__":[],"w":)" + f32("[]", "[0,4]") + "}", "1234"),
                "\"__metadata__\" is a JSON array, not an object of strings");
  check_refused(file_bytes(R"({"__metadata__":{"step":3}})"),
                "\"__metadata__\" maps \"step\" to 3, which is not a string");
  check_refused(file_bytes(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
                           std::string("\1\0\2", 3)),
                "tensor \"m\" holds the byte 2 at element 2, but a BOOL is 0 or 1");

  test::check_error([&] { nn::load_tensors(dir.file("nothing_here")); },
                    "cannot open \"" + dir.file("nothing_here") + "\": No such file or directory");
  test::check_error([&] { nn::load_tensors(dir.path.string()); },
                    "cannot read \"" + dir.path.string() + "\": Is a directory");

  // Tiling that is right though unusual: empty tensors at any offset, keys in any order.
  const std::string path = dir.file("fine.safetensors");
  write_bytes(path, file_bytes(R"({"z":)" + f32("[0,3]", "[8,8]") + R"(,"b":)" + f32("[1]", "[8,12]") +
                               R"(,"a":)" + f32("[2]", "[0,8]") + R"(,"e":)" + f32("[0]", "[0,0]") +
                               "}  ", eight + "1234"));
  std::vector<std::string> names;
  for (const auto& [name, t] : nn::load_tensors(path).tensors) names.push_back(name);
  BOOST_CHECK(names == (std::vector<std::string>{"e", "a", "z", "b"}));  // by offset
}

BOOST_AUTO_TEST_CASE(pytorch_file_loads_and_saved_file_reloads_identically) {
  // load(module, "torch_model.safetensors") written by tests/make_state_fixtures.py with PyTorch;
  // save(module, path) then load, and the bytes of a second save
  TempDir dir;
  const test::Fixtures fx("state.txt");
  const std::string torch_file = test::Fixtures::directory() + "/torch_model.safetensors";
  MLP model;
  nn::load(model, torch_file);
  for (const auto& [name, t] : model.state_dict())
    BOOST_CHECK_MESSAGE(same_bits(t, fx.tensor("state/" + name)), name << " differs from PyTorch's");
  test::check_matches(model.forward(fx.tensor("state/x")), fx.reference("state/y"), 0, "y");
  BOOST_CHECK(nn::load_tensors(torch_file).metadata ==
              (nn::Metadata{{"written_by", "tests/make_state_fixtures.py"}}));

  const nn::Metadata metadata{{"written_by", "tests/test_serialize.cpp"}};
  const std::string saved = dir.file("model.safetensors");
  nn::save(model, saved, metadata);
  MLP reloaded;
  nn::load(reloaded, saved);
  for (const auto& [name, t] : reloaded.state_dict())
    BOOST_CHECK_MESSAGE(same_bits(t, fx.tensor("state/" + name)), name << " changed on the way");
  BOOST_CHECK(same_bits(reloaded.forward(fx.tensor("state/x")), model.forward(fx.tensor("state/x"))));

  // The bytes are a function of the state: saving what was loaded writes the same file again.
  nn::save(reloaded, dir.file("again.safetensors"), metadata);
  BOOST_CHECK(read_bytes(dir.file("again.safetensors")) == read_bytes(saved));
  const nn::TensorFile file = nn::load_tensors(saved);
  nn::save_tensors(dir.file("copy.safetensors"), file.tensors, file.metadata);
  BOOST_CHECK(read_bytes(dir.file("copy.safetensors")) == read_bytes(saved));

  // For the other direction: MG_SAVE_STATE_TO=FILE leaves a copy that
  // `/usr/bin/python3 tests/make_state_fixtures.py --verify FILE` loads into PyTorch.
  if (const char* out = std::getenv("MG_SAVE_STATE_TO")) nn::save(model, out, metadata);
}
