// nn::Module: registration, dotted names in order, train/eval through the tree, zero_grad,
// to(dtype), repr, and the errors of registration.
#define BOOST_TEST_MODULE module
#include "support.h"

namespace {

// A leaf module with a weight, an optional bias and a buffer, like a small layer.
struct Affine : mg::nn::Module {
  mg::Tensor& weight;
  mg::Tensor& bias;
  mg::Tensor& count;
  Affine(int n, bool with_bias)
      : Module("Affine"),
        weight(register_parameter("weight", mg::randn({n, n}))),
        bias(register_parameter("bias", with_bias ? mg::zeros({n}) : mg::Tensor())),
        count(register_buffer("count", mg::zeros({1}, mg::kInt64))) {}
  std::string extra_repr() const override { return fmt::format("n={}", weight.size(0)); }
};

struct Block : mg::nn::Module {
  Affine first{2, true};
  Affine second{2, false};
  Block() : Module("Block") {
    register_module("first", first);
    register_module("second", second);
  }
};

struct Model : mg::nn::Module {
  mg::Tensor& scale;
  Block block;
  Affine head{3, true};
  Model() : Module("Model"), scale(register_parameter("scale", mg::ones({1}))) {
    register_module("block", block);
    register_module("head", head);
  }
};

std::vector<std::string> names_of(const std::vector<std::pair<std::string, mg::Tensor>>& list) {
  std::vector<std::string> out;
  for (const auto& entry : list) out.push_back(entry.first);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(named_parameters_are_dotted_and_in_registration_order) {
  // named_parameters(), parameters(), named_buffers(), named_modules(), children()
  Model model;
  const std::vector<std::string> expected{"scale", "block.first.weight", "block.first.bias",
                                          "block.second.weight", "head.weight", "head.bias"};
  BOOST_CHECK(names_of(model.named_parameters()) == expected);  // absent bias skipped
  BOOST_CHECK_EQUAL(model.parameters().size(), 6u);
  BOOST_CHECK(names_of(model.named_parameters(/*recurse=*/false)) == std::vector<std::string>{"scale"});
  BOOST_CHECK(names_of(model.named_buffers()) ==
              (std::vector<std::string>{"block.first.count", "block.second.count", "head.count"}));
  std::vector<std::string> modules;
  for (const auto& [name, module] : model.named_modules()) modules.push_back(name);
  BOOST_CHECK(modules == (std::vector<std::string>{"", "block", "block.first", "block.second", "head"}));
  BOOST_CHECK_EQUAL(model.children().size(), 2u);
  // Every parameter is a leaf that requires grad, and the handle shares the module's storage.
  for (const mg::Tensor& p : model.parameters()) {
    BOOST_CHECK(p.is_leaf());
    BOOST_CHECK(p.requires_grad());
  }
  mg::Tensor w = model.named_parameters()[1].second;
  {
    mg::NoGradGuard guard;
    w.fill_(7.0);
  }
  BOOST_CHECK_EQUAL(model.block.first.weight.to_vector<float>()[0], 7.0f);
}

BOOST_AUTO_TEST_CASE(train_and_eval_reach_every_module) {
  // train(bool), eval(), is_training()
  Model model;
  BOOST_CHECK(model.is_training());
  model.eval();
  for (const auto& [name, module] : model.named_modules()) BOOST_CHECK_MESSAGE(!module->is_training(), name);
  model.train();
  for (const auto& [name, module] : model.named_modules()) BOOST_CHECK_MESSAGE(module->is_training(), name);
}

BOOST_AUTO_TEST_CASE(zero_grad_clears_every_gradient) {
  // zero_grad()
  Model model;
  mg::Tensor loss = model.scale.sum();
  for (const mg::Tensor& p : model.parameters()) loss = loss + (p * p).sum();
  loss.backward();
  for (const mg::Tensor& p : model.parameters()) BOOST_CHECK(p.grad().defined());
  model.zero_grad();
  for (const mg::Tensor& p : model.parameters()) BOOST_CHECK(!p.grad().defined());
}

BOOST_AUTO_TEST_CASE(to_converts_every_floating_tensor_in_place) {
  // to(dtype): parameters float32 -> float64, handles held before see it, int buffers stay
  Model model;
  mg::Tensor held = model.head.weight;
  const std::vector<float> before = held.to_vector<float>();
  (held * held).sum().backward();
  model.to(mg::kFloat64);
  for (const auto& [name, p] : model.named_parameters()) BOOST_CHECK_MESSAGE(p.dtype() == mg::kFloat64, name);
  for (const auto& [name, b] : model.named_buffers()) BOOST_CHECK_MESSAGE(b.dtype() == mg::kInt64, name);
  BOOST_CHECK(held.dtype() == mg::kFloat64);
  BOOST_CHECK(!held.grad().defined());
  const std::vector<double> after = held.to_vector<double>();
  for (std::size_t i = 0; i < before.size(); ++i) BOOST_CHECK_EQUAL(after[i], static_cast<double>(before[i]));
  // The converted parameter still trains: a new backward reaches it in float64.
  (held * held).sum().backward();
  BOOST_REQUIRE(held.grad().defined());
  BOOST_CHECK(held.grad().dtype() == mg::kFloat64);
  test::check_error([&] { model.to(mg::kInt64); }, "only accepts floating point dtypes");
}

BOOST_AUTO_TEST_CASE(repr_nests_like_pytorch) {
  // repr(): the layout torch.nn.Module.__repr__ produces for the same tree
  Model model;
  BOOST_CHECK_EQUAL(model.head.repr(), "Affine(n=3)");
  BOOST_CHECK_EQUAL(model.repr(),
                    "Model(\n"
                    "  (block): Block(\n"
                    "    (first): Affine(n=2)\n"
                    "    (second): Affine(n=2)\n"
                    "  )\n"
                    "  (head): Affine(n=3)\n"
                    ")");
}

BOOST_AUTO_TEST_CASE(registration_errors) {
  // register_parameter / register_buffer / register_module with bad names
  struct Bad : mg::nn::Module {
    Bad() : Module("Bad") {}
    void add(const std::string& name) { register_parameter(name, mg::zeros({1})); }
    void add_self() { register_module("me", *this); }
  } bad;
  bad.add("w");
  test::check_error([&] { bad.add("w"); }, "attribute 'w' already exists");
  test::check_error([&] { bad.add("a.b"); }, "parameter name can't contain \".\"");
  test::check_error([&] { bad.add(""); }, "parameter name can't be empty string");
  test::check_error([&] { bad.add_self(); }, "a module cannot be its own child");
  BOOST_CHECK_EQUAL(bad.parameters().size(), 1u);  // nothing was added by the failed calls
}
