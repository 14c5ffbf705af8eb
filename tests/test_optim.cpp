// The optimizers (optim/): SGD, Adam, AdamW and RMSprop against PyTorch 1.13's trajectories after
// every step (tests/fixtures/optim.txt, written by tests/make_optim_fixtures.py, which describes
// the model and the cases), exact resumption from a safetensors checkpoint, parameter groups,
// skipped parameters, zero_grad, the state dict's layout and checks, and every error in
// PyTorch's words.
#define BOOST_TEST_MODULE optim
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "fixtures.h"
#include "support.h"

namespace optim = mg::optim;
namespace nn = mg::nn;

namespace {

using Params = std::vector<mg::Tensor>;
using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(const Params&)>;

// ---- The fixture's model and cases ------------------------------------------------------------

const char* const kNames[] = {"W1", "b1", "W2", "c", "u"};

// loss_k = mean((tanh(x W1 + b1) W2 + c − y)²), without "+ c" when k % 3 == 2; u is never used.
mg::Tensor fixture_loss(int k, const Params& p, const mg::Tensor& x, const mg::Tensor& y) {
  mg::Tensor out = mg::matmul(mg::tanh(mg::matmul(x, p[0]) + p[1]), p[2]);
  if (k % 3 != 2) out = out + p[3];
  return (out - y).pow(2).mean();
}

// [W1, b1] with the optimizer's defaults, [W2, c, u] with `options`.
template <class Options>
std::vector<optim::OptimizerParamGroup> two_groups(const Params& p, const Options& options) {
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(Params{p[0], p[1]});
  groups.emplace_back(Params{p[2], p[3], p[4]}, options.clone());
  return groups;
}

template <class Optimizer, class Options>
MakeOptimizer make(Options options) {
  return [options](const Params& p) { return std::make_unique<Optimizer>(p, options); };
}

template <class Optimizer, class Options>
MakeOptimizer make_groups(Options defaults, Options second) {
  return [defaults, second](const Params& p) {
    return std::make_unique<Optimizer>(two_groups(p, second), defaults);
  };
}

using optim::Adam, optim::AdamOptions, optim::AdamW, optim::AdamWOptions, optim::RMSprop,
    optim::RMSpropOptions, optim::SGD, optim::SGDOptions;

// The CASES of make_optim_fixtures.py, with minigrad's options.
const std::map<std::string, MakeOptimizer> kCases = {
    {"sgd_lr", make<SGD>(SGDOptions(0.1))},
    {"sgd_momentum", make<SGD>(SGDOptions(0.05).momentum(0.9))},
    {"sgd_dampening", make<SGD>(SGDOptions(0.05).momentum(0.9).dampening(0.3))},
    {"sgd_nesterov", make<SGD>(SGDOptions(0.05).momentum(0.8).nesterov(true))},
    {"sgd_weight_decay", make<SGD>(SGDOptions(0.1).weight_decay(0.05))},
    {"sgd_momentum_weight_decay",
     make<SGD>(SGDOptions(0.05).momentum(0.9).dampening(0.1).weight_decay(0.02))},
    {"sgd_maximize", make<SGD>(SGDOptions(0.01).momentum(0.5).maximize(true))},
    {"sgd_nesterov_weight_decay_maximize",
     make<SGD>(SGDOptions(0.01).momentum(0.7).nesterov(true).weight_decay(0.01).maximize(true))},
    {"sgd_groups", make_groups<SGD>(SGDOptions(0.1).momentum(0.9), SGDOptions(0.02).momentum(0.5))},
    {"adam_defaults", make<Adam>(AdamOptions())},
    {"adam_lr", make<Adam>(AdamOptions(0.02))},
    {"adam_betas_eps", make<Adam>(AdamOptions(0.02).betas({0.8, 0.95}).eps(1e-3))},
    {"adam_weight_decay", make<Adam>(AdamOptions(0.02).weight_decay(0.1))},
    {"adam_amsgrad", make<Adam>(AdamOptions(0.02).amsgrad(true))},
    {"adam_maximize", make<Adam>(AdamOptions(0.01).maximize(true))},
    {"adam_amsgrad_weight_decay_maximize",
     make<Adam>(
         AdamOptions(0.01).betas({0.85, 0.99}).weight_decay(0.05).amsgrad(true).maximize(true))},
    {"adam_groups", make_groups<Adam>(AdamOptions(0.02), AdamOptions(0.005).amsgrad(true))},
    {"adamw_defaults", make<AdamW>(AdamWOptions())},
    {"adamw_weight_decay", make<AdamW>(AdamWOptions(0.02).weight_decay(0.3))},
    {"adamw_no_weight_decay", make<AdamW>(AdamWOptions(0.02).weight_decay(0.0))},
    {"adamw_betas_eps", make<AdamW>(AdamWOptions(0.02).betas({0.8, 0.95}).eps(1e-3))},
    {"adamw_amsgrad", make<AdamW>(AdamWOptions(0.02).amsgrad(true))},
    {"adamw_maximize", make<AdamW>(AdamWOptions(0.01).maximize(true))},
    {"adamw_groups", make_groups<AdamW>(AdamWOptions(0.02), AdamWOptions(0.005).weight_decay(0.1))},
    {"rmsprop_defaults", make<RMSprop>(RMSpropOptions())},
    {"rmsprop_alpha_eps", make<RMSprop>(RMSpropOptions(0.01).alpha(0.9).eps(1e-4))},
    {"rmsprop_weight_decay", make<RMSprop>(RMSpropOptions(0.01).weight_decay(0.1))},
    {"rmsprop_momentum", make<RMSprop>(RMSpropOptions(0.005).momentum(0.9))},
    {"rmsprop_centered", make<RMSprop>(RMSpropOptions(0.01).centered(true))},
    {"rmsprop_centered_momentum_weight_decay",
     make<RMSprop>(RMSpropOptions(0.005).centered(true).momentum(0.8).weight_decay(0.05))},
    {"rmsprop_maximize", make<RMSprop>(RMSpropOptions(0.005).maximize(true))},
    {"rmsprop_groups", make_groups<RMSprop>(RMSpropOptions(0.01),
                                            RMSpropOptions(0.002).momentum(0.5).centered(true))},
    {"f32_sgd_nesterov", make<SGD>(SGDOptions(0.05).momentum(0.8).nesterov(true))},
    {"f32_adam_amsgrad", make<Adam>(AdamOptions(0.02).amsgrad(true))},
    {"f32_adamw_weight_decay", make<AdamW>(AdamWOptions(0.02).weight_decay(0.3))},
    {"f32_rmsprop_centered_momentum",
     make<RMSprop>(RMSpropOptions(0.005).centered(true).momentum(0.8))},
};

// Whether every element of `actual` is within rtol · max|expected| of `expected` (the scale is
// the tensor's largest element, so that an element near 0 is not held to a relative bound of
// its own); reports the first element that is not.
bool close(const mg::Tensor& actual, const mg::Tensor& expected, double rtol,
           const std::string& what) {
  const auto a = actual.to(mg::kFloat64).to_vector<double>();
  const auto e = expected.to(mg::kFloat64).to_vector<double>();
  double scale = 0;
  for (double v : e) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - e[i]) <= rtol * scale) continue;
    BOOST_ERROR(what << ": element " << i << " is " << fmt::format("{:.17g}", a[i])
                     << ", PyTorch has " << fmt::format("{:.17g}", e[i]));
    return false;
  }
  return true;
}

// ---- A model with a checkpoint --------------------------------------------------------------

struct Net : nn::Module {
  nn::Linear fc1{3, 5};
  nn::Linear fc2{5, 2};
  nn::Linear late{3, 2};  // used from step 12 on, every other step: no state at step 10
  Net() : Module("Net") {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("late", late);
  }
  mg::Tensor loss(int k, const mg::Tensor& x, const mg::Tensor& y) {
    mg::Tensor out = fc2(mg::tanh(fc1(x)));
    if (k >= 12 && k % 2 == 0) out = out + late(x);
    return (out - y).pow(2).mean();
  }
};

// Steps [from, to) of training `net`; the learning rate of group 0 halves after step 5, as a
// scheduler would change it, so that a checkpoint must carry it.
void train(Net& net, optim::Optimizer& opt, int from, int to, const mg::Tensor& x,
           const mg::Tensor& y) {
  for (int k = from; k < to; ++k) {
    opt.zero_grad();
    net.loss(k, x, y).backward();
    opt.step();
    optim::OptimizerOptions& first_group = opt.param_groups()[0].options();
    if (k == 5) first_group.set_lr(first_group.get_lr() / 2);
  }
}

using MakeNetOptimizer = std::function<std::unique_ptr<optim::Optimizer>(Net&)>;

template <class Optimizer, class Options>
MakeNetOptimizer make_net(Options options) {
  return [options](Net& net) { return std::make_unique<Optimizer>(net.parameters(), options); };
}

// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string name = (std::filesystem::temp_directory_path() / "minigrad-optim-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::vector<std::string> names_of(const optim::NamedTensors& tensors) {
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  return names;
}

// Two float64 leaves w (2, 3) and b (3), and a loss that reaches both.
Params two_leaves() { return {test::leaf({2, 3}), test::leaf({3})}; }
mg::Tensor two_leaf_loss(const Params& p) { return (mg::tanh(p[0] + p[1]) * p[0]).sum(); }

}  // namespace

// ---- Against PyTorch ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(trajectories_match_pytorch_after_every_step) {
  // SGD, Adam, AdamW, RMSprop: step() with every option, groups, and parameters without gradients
  const test::Fixtures fx("optim.txt");
  const std::vector<std::string> cases = fx.cases("optim");
  BOOST_REQUIRE_EQUAL(cases.size(), kCases.size());
  for (const std::string& name : cases) {
    BOOST_TEST_CONTEXT(name) {
      const auto found = kCases.find(name);
      BOOST_REQUIRE_MESSAGE(found != kCases.end(), "no minigrad optimizer for case " << name);
      const std::string at = "optim/" + name + "/";
      const mg::Dtype dtype = fx.tensor(at + "W1").dtype();
      // float64 within 1e-9 of the tensor's scale (the bound); float32 by the float32
      // rule (support.h), against the float64 trajectory from the same float32 start.
      const auto matches = [&](const mg::Tensor& actual, const test::Reference& expected,
                               const std::string& step) {
        const std::string what = at + step;
        if (dtype == mg::kFloat64) return close(actual, expected.value, 1e-9, what);
        return test::check_float32(actual, expected, 0, what);
      };
      Params p;
      for (const char* param : kNames)
        p.push_back(fx.tensor(std::string("init/") + param).to(dtype).clone().requires_grad_());
      const mg::Tensor x = fx.tensor("data/x").to(dtype), y = fx.tensor("data/y").to(dtype);
      const test::Reference losses = fx.reference(at + "loss");
      std::unique_ptr<optim::Optimizer> opt = found->second(p);
      bool ok = true;
      for (int k = 0; k < losses.value.size(0) && ok; ++k) {
        opt->zero_grad();
        const mg::Tensor loss = fixture_loss(k, p, x, y);
        loss.backward();
        opt->step();
        ok = matches(loss, losses.row(k), fmt::format("loss at step {}", k));
        for (std::size_t i = 0; i < p.size() && ok; ++i)
          ok = matches(p[i], fx.reference(at + kNames[i]).row(k + 1),
                       fmt::format("{} after step {}", kNames[i], k + 1));
      }
      // u never had a gradient, so it has no state.
      BOOST_CHECK(!p[4].grad().defined());
      const std::string u_state = name.ends_with("_groups") ? "state.1.2." : "state.0.4.";
      for (const auto& [entry, t] : opt->state_dict())
        BOOST_CHECK_MESSAGE(!entry.starts_with(u_state), entry);
    }
  }
}

// ---- Resuming ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(training_resumes_bit_for_bit_from_a_checkpoint) {
  // state_dict(), load_state_dict() through nn::save_tensors and nn::load_tensors: 10 steps, a
  // checkpoint, fresh objects, 10 more steps == 20 steps straight, bit for bit
  const std::vector<std::pair<std::string, MakeNetOptimizer>> optimizers = {
      {"sgd", make_net<SGD>(SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01))},
      {"sgd_groups",
       [](Net& net) {
         std::vector<optim::OptimizerParamGroup> groups;
         groups.emplace_back(net.fc1.parameters());
         Params rest = net.fc2.parameters();
         for (const mg::Tensor& p : net.late.parameters()) rest.push_back(p);
         groups.emplace_back(rest, SGDOptions(0.02).momentum(0.5).dampening(0.2).clone());
         return std::make_unique<SGD>(groups, SGDOptions(0.1).momentum(0.9));
       }},
      {"adam", make_net<Adam>(AdamOptions(0.01).amsgrad(true).weight_decay(0.01))},
      {"adamw", make_net<AdamW>(AdamWOptions(0.01))},
      {"rmsprop", make_net<RMSprop>(RMSpropOptions(0.005).centered(true).momentum(0.5))},
  };
  const TempDir dir;
  const std::string path = (dir.path / "checkpoint.safetensors").string();
  for (const mg::Dtype dtype : {mg::kFloat32, mg::kFloat64}) {
    for (const auto& [name, make_optimizer] : optimizers) {
      BOOST_TEST_CONTEXT(name << " in " << mg::dtype_repr(dtype)) {
        mg::manual_seed(7);
        const mg::Tensor x = mg::randn({8, 3}, dtype), y = mg::randn({8, 2}, dtype);

        mg::manual_seed(1);
        Net straight;
        straight.to(dtype);
        const auto straight_opt = make_optimizer(straight);
        train(straight, *straight_opt, 0, 20, x, y);

        mg::manual_seed(1);
        Net first;
        first.to(dtype);
        const auto first_opt = make_optimizer(first);
        train(first, *first_opt, 0, 10, x, y);
        nn::NamedTensors checkpoint = first.state_dict();
        for (const auto& [entry, t] : first_opt->state_dict())
          checkpoint.emplace_back("optim." + entry, t);
        nn::save_tensors(path, checkpoint);

        mg::manual_seed(2);  // other initial values, which the checkpoint replaces
        Net resumed;
        resumed.to(dtype);
        const auto resumed_opt = make_optimizer(resumed);
        nn::NamedTensors model_state, optim_state;
        for (const auto& [entry, t] : nn::load_tensors(path).tensors) {
          if (entry.starts_with("optim.")) optim_state.emplace_back(entry.substr(6), t);
          else model_state.emplace_back(entry, t);
        }
        nn::load_state_dict(resumed, model_state);
        resumed_opt->load_state_dict(optim_state);
        train(resumed, *resumed_opt, 10, 20, x, y);

        // Every parameter and every entry of the optimizer's state, compared with ==.
        for (const auto& [expected, actual] :
             {std::pair{straight.state_dict(), resumed.state_dict()},
              std::pair{straight_opt->state_dict(), resumed_opt->state_dict()}}) {
          BOOST_REQUIRE(names_of(actual) == names_of(expected));
          for (std::size_t i = 0; i < actual.size(); ++i)
            BOOST_CHECK_MESSAGE(
                actual[i].second.dtype() == expected[i].second.dtype() &&
                    actual[i].second.to(mg::kFloat64).to_vector<double>() ==
                        expected[i].second.to(mg::kFloat64).to_vector<double>(),
                actual[i].first << " differs from 20 steps straight");
        }
        // The late layer had no state at the checkpoint and has some now.
        const std::string late_state = name == "sgd_groups" ? "state.1.2." : "state.0.4.";
        const auto has_late_state = [&](const optim::Optimizer& opt) {
          return std::ranges::any_of(names_of(opt.state_dict()), [&](const std::string& entry) {
            return entry.starts_with(late_state);
          });
        };
        BOOST_CHECK(!has_late_state(*first_opt));
        BOOST_CHECK(has_late_state(*resumed_opt));
      }
    }
  }
}

// ---- Groups, skipped parameters, zero_grad --------------------------------------------------

BOOST_AUTO_TEST_CASE(parameter_groups_have_their_own_learning_rates) {
  // OptimizerParamGroup, param_groups(), add_param_group(), defaults(), get_lr(), set_lr()
  const mg::Tensor a = test::leaf({3}), b = test::leaf({3}), c = test::leaf({3});
  SGD opt({optim::OptimizerParamGroup({a}),
           optim::OptimizerParamGroup({b}, std::make_unique<SGDOptions>(0.01))},
          SGDOptions(0.1));
  opt.add_param_group(optim::OptimizerParamGroup({c}));  // takes a copy of the defaults
  opt.param_groups()[2].options().set_lr(0.5);          // changes that group only
  BOOST_CHECK_EQUAL(opt.param_groups().size(), 3u);
  BOOST_CHECK_EQUAL(opt.param_groups()[0].options().get_lr(), 0.1);
  BOOST_CHECK_EQUAL(opt.param_groups()[1].options().get_lr(), 0.01);
  BOOST_CHECK_EQUAL(opt.param_groups()[2].options().get_lr(), 0.5);
  BOOST_CHECK_EQUAL(opt.defaults().get_lr(), 0.1);

  ((a * a).sum() + (b * b * b).sum() + mg::tanh(c).sum()).backward();
  const Params params{a, b, c};
  const double lrs[] = {0.1, 0.01, 0.5};
  std::vector<std::vector<double>> expected;
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<double> theta = params[i].to_vector<double>();
    const std::vector<double> grad = params[i].grad().to_vector<double>();
    for (std::size_t k = 0; k < theta.size(); ++k) theta[k] -= lrs[i] * grad[k];  // θ − lr·g
    expected.push_back(theta);
  }
  opt.step();
  for (std::size_t i = 0; i < 3; ++i) BOOST_CHECK(params[i].to_vector<double>() == expected[i]);
}

BOOST_AUTO_TEST_CASE(a_parameter_without_a_gradient_is_skipped_and_gets_no_state) {
  // step() with a parameter whose grad() is undefined; the state_dict of Adam
  const Params p = two_leaves();
  const mg::Tensor unused = test::leaf({4});
  const std::vector<double> before = unused.to_vector<double>();
  Adam opt({p[0], p[1], unused}, AdamOptions(0.1).weight_decay(0.1));
  for (int k = 0; k < 3; ++k) {
    opt.zero_grad();
    two_leaf_loss(p).backward();
    opt.step();
  }
  BOOST_CHECK(unused.to_vector<double>() == before);  // not even weight decay touches it
  const optim::NamedTensors state = opt.state_dict();
  const std::vector<std::string> expected{
      "state.0.0.exp_avg",   "state.0.0.exp_avg_sq",   "state.0.0.step",
      "state.0.1.exp_avg",   "state.0.1.exp_avg_sq",   "state.0.1.step",
      "param_groups.0.lr",   "param_groups.0.betas.0", "param_groups.0.betas.1",
      "param_groups.0.eps",  "param_groups.0.weight_decay", "param_groups.0.amsgrad",
      "param_groups.0.maximize", "param_groups.0.num_params"};
  BOOST_CHECK(names_of(state) == expected);
  BOOST_CHECK(state[2].second.dtype() == mg::kInt64 && state[2].second.dim() == 0);
  BOOST_CHECK_EQUAL(state[2].second.item<std::int64_t>(), 3);
  BOOST_CHECK(state[0].second.shape() == (mg::Shape{2, 3}));
  BOOST_CHECK(state[6].second.dtype() == mg::kFloat64 && state[6].second.dim() == 0);
  BOOST_CHECK_EQUAL(state[6].second.item<double>(), 0.1);
  BOOST_CHECK_EQUAL(state[13].second.item<std::int64_t>(), 3);
}

BOOST_AUTO_TEST_CASE(state_dict_names_of_sgd_and_rmsprop) {
  // SGD keeps a momentum_buffer only with momentum; RMSprop keeps what its options need
  const Params p = two_leaves();
  SGD plain(p, 0.1);  // the learning rate alone, as LibTorch allows
  SGD momentum(p, SGDOptions(0.1).momentum(0.9).nesterov(true));
  RMSprop rmsprop(p, RMSpropOptions().centered(true).momentum(0.5));
  two_leaf_loss(p).backward();
  plain.step();
  momentum.step();
  rmsprop.step();
  const std::vector<std::string> sgd_groups{
      "param_groups.0.lr",       "param_groups.0.momentum", "param_groups.0.dampening",
      "param_groups.0.weight_decay", "param_groups.0.nesterov", "param_groups.0.maximize",
      "param_groups.0.num_params"};
  BOOST_CHECK(names_of(plain.state_dict()) == sgd_groups);
  std::vector<std::string> with_buffers{"state.0.0.momentum_buffer", "state.0.1.momentum_buffer"};
  with_buffers.insert(with_buffers.end(), sgd_groups.begin(), sgd_groups.end());
  BOOST_CHECK(names_of(momentum.state_dict()) == with_buffers);
  BOOST_CHECK_EQUAL(momentum.state_dict()[6].second.item<double>(), 1.0);  // nesterov
  const std::vector<std::string> rmsprop_names{
      "state.0.0.grad_avg", "state.0.0.momentum_buffer", "state.0.0.square_avg", "state.0.0.step",
      "state.0.1.grad_avg", "state.0.1.momentum_buffer", "state.0.1.square_avg", "state.0.1.step",
      "param_groups.0.lr", "param_groups.0.alpha", "param_groups.0.eps",
      "param_groups.0.weight_decay", "param_groups.0.momentum", "param_groups.0.centered",
      "param_groups.0.maximize", "param_groups.0.num_params"};
  BOOST_CHECK(names_of(rmsprop.state_dict()) == rmsprop_names);
}

BOOST_AUTO_TEST_CASE(zero_grad_sets_every_gradient_to_undefined) {
  // zero_grad()
  const Params p = two_leaves();
  AdamW opt(p);
  two_leaf_loss(p).backward();
  BOOST_REQUIRE(p[0].grad().defined() && p[1].grad().defined());
  opt.zero_grad();
  BOOST_CHECK(!p[0].grad().defined());
  BOOST_CHECK(!p[1].grad().defined());
}

BOOST_AUTO_TEST_CASE(a_step_counts_as_an_inplace_write) {
  // step() bumps the parameter's version, so a graph that saved it refuses to run backward
  mg::Tensor w = test::leaf({3});
  SGD opt({w}, 0.1);
  const mg::Tensor loss = (w * w).sum();  // saves w
  w.set_grad(mg::ones({3}, mg::kFloat64));
  const std::uint64_t version = w.version();
  opt.step();
  BOOST_CHECK_GT(w.version(), version);
  test::check_error([&] { loss.backward(); }, "modified by an inplace operation");
}

// ---- Errors ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_options_are_refused_at_construction) {
  // SGDOptions, AdamOptions, AdamWOptions, RMSpropOptions: PyTorch 1.13's messages
  const Params p{test::leaf({2})};
  using test::check_error;
  check_error([&] { SGD(p, SGDOptions(-0.1)); }, "Invalid learning rate: -0.1");
  check_error([&] { SGD(p, SGDOptions(std::nan(""))); }, "Invalid learning rate: nan");
  check_error([&] { SGD(p, SGDOptions(0.1).momentum(-1)); }, "Invalid momentum value: -1.0");
  check_error([&] { SGD(p, SGDOptions(0.1).weight_decay(-1)); },
              "Invalid weight_decay value: -1.0");
  check_error([&] { SGD(p, SGDOptions(0.1).nesterov(true)); },
              "Nesterov momentum requires a momentum and zero dampening");
  check_error([&] { SGD(p, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)); },
              "Nesterov momentum requires a momentum and zero dampening");
  check_error([&] { Adam(p, AdamOptions(-1e-3)); }, "Invalid learning rate: -0.001");
  check_error([&] { Adam(p, AdamOptions().eps(-1)); }, "Invalid epsilon value: -1.0");
  check_error([&] { Adam(p, AdamOptions().betas({1.5, 0.9})); },
              "Invalid beta parameter at index 0: 1.5");
  check_error([&] { Adam(p, AdamOptions().betas({0.9, 1.0})); },
              "Invalid beta parameter at index 1: 1.0");
  check_error([&] { Adam(p, AdamOptions().weight_decay(-1)); }, "Invalid weight_decay value: -1.0");
  check_error([&] { AdamW(p, AdamWOptions().betas({-0.1, 0.9})); },
              "Invalid beta parameter at index 0: -0.1");
  check_error([&] { AdamW(p, AdamWOptions().weight_decay(-0.5)); },
              "Invalid weight_decay value: -0.5");
  check_error([&] { AdamW(p, AdamWOptions().eps(-1)); }, "Invalid epsilon value: -1.0");
  check_error([&] { RMSprop(p, RMSpropOptions(-0.01)); }, "Invalid learning rate: -0.01");
  check_error([&] { RMSprop(p, RMSpropOptions().alpha(-1)); }, "Invalid alpha value: -1.0");
  check_error([&] { RMSprop(p, RMSpropOptions().momentum(-0.5)); }, "Invalid momentum value: -0.5");
  check_error([&] { RMSprop(p, RMSpropOptions().eps(-1)); }, "Invalid epsilon value: -1.0");
  check_error([&] { RMSprop(p, RMSpropOptions().weight_decay(-1)); },
              "Invalid weight_decay value: -1.0");
  // The options of a group are checked as well, and must be the optimizer's kind.
  check_error([&] { SGD({optim::OptimizerParamGroup(p, SGDOptions(-1).clone())}, 0.1); },
              "Invalid learning rate: -1.0");
  check_error([&] { SGD({optim::OptimizerParamGroup(p, AdamOptions().clone())}, 0.1); },
              "the group's options are those of another optimizer");
}

BOOST_AUTO_TEST_CASE(bad_parameters_are_refused) {
  // the parameter lists of every optimizer and add_param_group()
  using test::check_error;
  const mg::Tensor a = test::leaf({2}), b = test::leaf({2});
  check_error([&] { Adam(Params{}); }, "optimizer got an empty parameter list");
  check_error([&] { SGD(std::vector<optim::OptimizerParamGroup>{}, 0.1); },
              "optimizer got an empty parameter list");
  check_error([&] { SGD({a * 2}, 0.1); }, "can't optimize a non-leaf Tensor");
  check_error([&] { RMSprop({mg::zeros({2}, mg::kInt64)}); },
              "optimizer can only optimize Tensors of floating point dtype, but one of the params "
              "is Long");
  check_error([&] { AdamW({mg::Tensor()}); },
              "optimizer can only optimize Tensors, but one of the params is undefined");
  check_error([&] { SGD({mg::randn({3, 4}).t()}, 0.1); },
              "optimizer can only optimize contiguous Tensors");
  check_error([&] { SGD({a, b, a}, 0.1); },
              "optimizer contains a parameter group with duplicate parameters");
  check_error([&] {
                SGD({optim::OptimizerParamGroup({a, b}), optim::OptimizerParamGroup({b})}, 0.1);
              },
              "some parameters appear in more than one parameter group");
  SGD opt({a}, 0.1);
  check_error([&] { opt.add_param_group(optim::OptimizerParamGroup({b, a})); },
              "some parameters appear in more than one parameter group");
  BOOST_CHECK_EQUAL(opt.param_groups().size(), 1u);  // nothing added
}

BOOST_AUTO_TEST_CASE(a_bad_state_dict_changes_nothing) {
  // load_state_dict(): every check before the first change
  const Params p = two_leaves();
  Adam opt(p, AdamOptions(0.05));
  two_leaf_loss(p).backward();
  opt.step();
  const optim::NamedTensors good = opt.state_dict();
  const auto edited = [&](const std::string& name, const mg::Tensor& value) {
    optim::NamedTensors out;
    for (const auto& [entry, t] : good)
      if (entry != name) out.emplace_back(entry, t.clone());
    if (value.defined()) out.emplace_back(name, value);
    return out;
  };
  const auto f64 = [](double v) { return mg::scalar_tensor(v, mg::kFloat64); };
  using test::check_error;
  check_error([&] { opt.load_state_dict(edited("param_groups.1.lr", f64(0.1))); },
              "loaded state dict has a different number of parameter groups");
  check_error([&] { opt.load_state_dict(edited("param_groups.0.num_params",
                                               mg::scalar_tensor(3, mg::kInt64))); },
              "loaded state dict contains a parameter group that doesn't match the size of "
              "optimizer's group");
  check_error([&] { opt.load_state_dict(edited("param_groups.0.eps", mg::Tensor())); },
              "Missing key(s) in state_dict: \"param_groups.0.eps\".");
  check_error([&] { opt.load_state_dict(edited("param_groups.0.momentum", f64(0.9))); },
              "Unexpected key(s) in state_dict: \"param_groups.0.momentum\".");
  check_error([&] { opt.load_state_dict(edited("state.0.0.momentum_buffer", mg::zeros({2, 3}))); },
              "Unexpected key(s) in state_dict: \"state.0.0.momentum_buffer\".");
  check_error([&] { opt.load_state_dict(edited("state.0.2.step", f64(1))); },
              "Unexpected key(s) in state_dict: \"state.0.2.step\".");
  check_error([&] { opt.load_state_dict(edited("state.0.1.exp_avg", mg::zeros({2, 3}))); },
              "size mismatch for state.0.1.exp_avg: copying a tensor with shape [2, 3] from the "
              "state dict, the shape of the parameter is [3]");
  check_error([&] { opt.load_state_dict(edited("state.0.1.exp_avg", mg::zeros({3}, mg::kInt64))); },
              "state.0.1.exp_avg: expected a floating-point tensor, got Long");
  check_error([&] { opt.load_state_dict(edited("state.0.0.step", f64(1))); },
              "state.0.0.step: expected a 0-d int64 tensor >= 0");
  check_error([&] { opt.load_state_dict(edited("param_groups.0.lr", mg::scalar_tensor(1.0f))); },
              "param_groups.0.lr: expected a 0-d float64 tensor, got Float []");
  check_error([&] { opt.load_state_dict(edited("param_groups.0.amsgrad", f64(2))); },
              "optimizer option amsgrad is a flag: expected 0 or 1, got 2");
  check_error([&] { opt.load_state_dict(edited("param_groups.0.betas.0", f64(1.5))); },
              "Invalid beta parameter at index 0: 1.5");
  check_error([&] { opt.load_state_dict(edited("foo", f64(1))); },
              "Unexpected key(s) in state_dict: \"foo\".");
  // After all that the optimizer is as it was.
  const optim::NamedTensors after = opt.state_dict();
  BOOST_REQUIRE(names_of(after) == names_of(good));
  for (std::size_t i = 0; i < after.size(); ++i)
    BOOST_CHECK_MESSAGE(after[i].second.to(mg::kFloat64).to_vector<double>() ==
                            good[i].second.to(mg::kFloat64).to_vector<double>(),
                        after[i].first);
  // A good one loads, and buffers are copied (converted to the parameter's dtype), not shared.
  optim::NamedTensors as_float32 = edited("state.0.0.exp_avg", mg::zeros({2, 3}, mg::kFloat32));
  opt.load_state_dict(as_float32);
  const mg::Tensor exp_avg = opt.state_dict()[0].second;
  BOOST_CHECK(exp_avg.dtype() == mg::kFloat64);
  BOOST_CHECK(exp_avg.impl()->storage != as_float32.back().second.impl()->storage);
}

BOOST_AUTO_TEST_CASE(a_step_after_converting_the_model_changes_nothing) {
  // step() checks the state of every parameter against it before it updates any
  nn::Linear first(3, 2), second(3, 2);
  Params params = first.parameters();
  for (const mg::Tensor& p : second.parameters()) params.push_back(p);
  Adam opt(params, AdamOptions(0.1));
  const mg::Tensor x = mg::randn({4, 3});
  (first(x) + second(x)).pow(2).sum().backward();
  opt.step();
  second.to(mg::kFloat64);  // its state is still float32
  opt.zero_grad();
  (first(x) + second(x.to(mg::kFloat64)).to(mg::kFloat32)).pow(2).sum().backward();
  const std::vector<float> before = first.weight.to_vector<float>();
  test::check_error([&] { opt.step(); },
                    "step: the state \"exp_avg\" of parameter 2 of group 0 is Float [2, 3], but "
                    "the parameter is now Double [2, 3]");
  BOOST_CHECK(first.weight.to_vector<float>() == before);
}
