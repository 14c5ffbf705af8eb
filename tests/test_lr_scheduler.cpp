// The learning-rate schedulers against PyTorch 1.13: the lr of two parameter groups over 45
// steps of StepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau under several option
// sets each (tests/fixtures/sched.txt, written by tests/make_sched_fixtures.py, which lists the
// cases), within 1e-12 relative; resuming from a state dict, in memory and through a file; and
// every error.
//
// The schedulers drive PlainSGD below: mg::optim::SGD without momentum, one group per lr.
#define BOOST_TEST_MODULE lr_scheduler
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>

#include "fixtures.h"
#include "support.h"

namespace optim = mg::optim;

namespace {

constexpr int kSteps = 45;
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- The optimizer the schedulers drive ---------------------------------------------------------

// Plain SGD (no momentum: p ← p − lr · grad), with one parameter group per lr, each holding one
// parameter of shape (2).
class PlainSGD : public optim::SGD {
 public:
  explicit PlainSGD(const std::vector<double>& lrs)
      : SGD(groups_with(lrs), optim::SGDOptions(lrs.at(0))) {}

 private:
  static std::vector<optim::OptimizerParamGroup> groups_with(const std::vector<double>& lrs) {
    std::vector<optim::OptimizerParamGroup> groups;
    for (double lr : lrs)
      groups.emplace_back(std::vector<mg::Tensor>{mg::zeros({2}, mg::kFloat64).requires_grad_()},
                          std::make_unique<optim::SGDOptions>(lr));
    return groups;
  }
};

std::vector<double> lrs_of(const optim::Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const optim::OptimizerParamGroup& group : optimizer.param_groups())
    lrs.push_back(group.options().get_lr());
  return lrs;
}

void set_lrs(optim::Optimizer& optimizer, const std::vector<double>& lrs) {
  for (std::size_t g = 0; g < lrs.size(); ++g) optimizer.param_groups()[g].options().set_lr(lrs[g]);
}

// ---- Comparing with PyTorch ---------------------------------------------------------------------

// `actual` equals row `row` of PyTorch's (kSteps + 1, groups) lrs within 1e-12 relative.
void check_lrs(const std::vector<double>& actual, const mg::Tensor& expected, int row,
               const std::string& what) {
  const auto groups = static_cast<std::size_t>(expected.size(1));
  const std::vector<double> all = expected.to_vector<double>();
  BOOST_REQUIRE_EQUAL(actual.size(), groups);
  for (std::size_t g = 0; g < groups; ++g) {
    const double e = all[static_cast<std::size_t>(row) * groups + g];
    BOOST_CHECK_MESSAGE(std::abs(actual[g] - e) <= 1e-12 * std::abs(e),
                        what << ": step " << row << ", group " << g << ": lr "
                             << fmt::format("{:.17g}", actual[g]) << ", PyTorch has "
                             << fmt::format("{:.17g}", e));
  }
}

// Builds a fresh optimizer with the case's lrs0 and a scheduler on it.
template <class Scheduler>
using Make = std::function<std::unique_ptr<Scheduler>(optim::Optimizer&)>;

std::vector<double> lrs0(const test::Fixtures& fx, const std::string& at) {
  return fx.tensor(at + "lrs0").to_vector<double>();
}

// Runs the epoch-driven scheduler that `make` builds through the case's steps (the optimizer's
// step first, as PyTorch asks), comparing get_last_lr() and the groups' lrs after each.
void check_schedule(const test::Fixtures& fx, const std::string& at,
                    const Make<optim::LRScheduler>& make) {
  PlainSGD optimizer(lrs0(fx, at));
  std::unique_ptr<optim::LRScheduler> scheduler = make(optimizer);
  const mg::Tensor expected = fx.tensor(at + "lrs");
  BOOST_CHECK_EQUAL(scheduler->last_epoch(), 0);
  BOOST_CHECK(scheduler->base_lrs() == lrs0(fx, at));
  check_lrs(scheduler->get_last_lr(), expected, 0, at);
  for (int k = 1; k <= kSteps; ++k) {
    optimizer.step();
    scheduler->step();
    BOOST_CHECK_EQUAL(scheduler->last_epoch(), k);
    check_lrs(scheduler->get_last_lr(), expected, k, at + " get_last_lr");
    check_lrs(lrs_of(optimizer), expected, k, at + " the groups' lrs");
  }
}

// Runs `steps` steps, moves the scheduler's state and the optimizer's lrs to a fresh optimizer
// and a scheduler made by `make_other` (with other options, which the state replaces), and checks
// that the rest of the sequence is bit for bit that of the run without the interruption.
void check_resume(const test::Fixtures& fx, const std::string& at,
                  const Make<optim::LRScheduler>& make,
                  const Make<optim::LRScheduler>& make_other, int steps) {
  PlainSGD straight_optimizer(lrs0(fx, at));
  auto straight = make(straight_optimizer);
  PlainSGD first_optimizer(lrs0(fx, at));
  auto first = make(first_optimizer);
  for (int k = 0; k < steps; ++k) {
    straight->step();
    first->step();
  }
  PlainSGD resumed_optimizer({0.5, 0.25});
  auto resumed = make_other(resumed_optimizer);
  set_lrs(resumed_optimizer, lrs_of(first_optimizer));  // what the optimizer's state dict does
  resumed->load_state_dict(first->state_dict());
  BOOST_CHECK(resumed->get_last_lr() == straight->get_last_lr());
  BOOST_CHECK_EQUAL(resumed->last_epoch(), steps);
  for (int k = steps; k < kSteps; ++k) {
    straight->step();
    resumed->step();
    BOOST_CHECK_MESSAGE(resumed->get_last_lr() == straight->get_last_lr(),
                        at << ": resumed at step " << steps << ", differs at step " << k + 1);
    check_lrs(resumed->get_last_lr(), fx.tensor(at + "lrs"), k + 1, at + " resumed");
  }
}

// ---- ReduceLROnPlateau from a fixture case ------------------------------------------------------

std::unique_ptr<optim::ReduceLROnPlateau> make_plateau(const test::Fixtures& fx,
                                                       const std::string& at,
                                                       optim::Optimizer& optimizer) {
  const std::vector<double> min_lr = fx.tensor(at + "min_lr").to_vector<double>();
  std::variant<double, std::vector<double>> min_lr_arg = min_lr[0];
  if (fx.tensor(at + "min_lr_is_list").item<bool>()) min_lr_arg = min_lr;
  return std::make_unique<optim::ReduceLROnPlateau>(
      optimizer, fx.tensor(at + "mode").item<std::int64_t>() == 0 ? "min" : "max",
      fx.tensor(at + "factor").item<double>(), fx.tensor(at + "patience").item<std::int64_t>(),
      fx.tensor(at + "threshold").item<double>(),
      fx.tensor(at + "threshold_mode").item<std::int64_t>() == 0 ? "rel" : "abs",
      fx.tensor(at + "cooldown").item<std::int64_t>(), min_lr_arg,
      fx.tensor(at + "eps").item<double>());
}

// Whether every field the plateau scheduler shows equals PyTorch's after step k (1-based).
void check_plateau_step(const test::Fixtures& fx, const std::string& at,
                        const optim::ReduceLROnPlateau& scheduler, const optim::Optimizer& opt,
                        int k) {
  const auto i = static_cast<std::size_t>(k - 1);
  check_lrs(scheduler.get_last_lr(), fx.tensor(at + "lrs"), k, at + " get_last_lr");
  check_lrs(lrs_of(opt), fx.tensor(at + "lrs"), k, at + " the groups' lrs");
  BOOST_CHECK_EQUAL(scheduler.best(), fx.tensor(at + "best").to_vector<double>()[i]);
  BOOST_CHECK_EQUAL(scheduler.num_bad_epochs(),
                    fx.tensor(at + "num_bad_epochs").to_vector<std::int64_t>()[i]);
  BOOST_CHECK_EQUAL(scheduler.cooldown_counter(),
                    fx.tensor(at + "cooldown_counter").to_vector<std::int64_t>()[i]);
  BOOST_CHECK_EQUAL(scheduler.last_epoch(), k);
}

}  // namespace

// ---- The schedules ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(step_lr_matches_pytorch) {
  // StepLR(optimizer, step_size, gamma = 0.1)
  const test::Fixtures fx("sched.txt");
  BOOST_REQUIRE_GE(fx.cases("step_lr").size(), 3u);
  for (const std::string& c : fx.cases("step_lr")) {
    const std::string at = "step_lr/" + c + "/";
    const auto step_size = fx.tensor(at + "step_size").item<std::int64_t>();
    const double gamma = fx.tensor(at + "gamma").item<double>();
    check_schedule(fx, at, [&](optim::Optimizer& opt) {
      return std::make_unique<optim::StepLR>(opt, step_size, gamma);
    });
  }
  // The default gamma is 0.1: the case with it, built without it.
  check_schedule(fx, "step_lr/step3_gamma0.1/",
                 [](optim::Optimizer& opt) { return std::make_unique<optim::StepLR>(opt, 3); });
}

BOOST_AUTO_TEST_CASE(exponential_lr_matches_pytorch) {
  // ExponentialLR(optimizer, gamma)
  const test::Fixtures fx("sched.txt");
  BOOST_REQUIRE_GE(fx.cases("exponential_lr").size(), 3u);
  for (const std::string& c : fx.cases("exponential_lr")) {
    const std::string at = "exponential_lr/" + c + "/";
    const double gamma = fx.tensor(at + "gamma").item<double>();
    check_schedule(fx, at, [&](optim::Optimizer& opt) {
      return std::make_unique<optim::ExponentialLR>(opt, gamma);
    });
  }
}

BOOST_AUTO_TEST_CASE(cosine_annealing_lr_matches_pytorch) {
  // CosineAnnealingLR(optimizer, T_max, eta_min = 0): the chainable form, through the restart
  // branch (e − 1 = T_max, 3 T_max, …) where T_max is 1, 7 or 10
  const test::Fixtures fx("sched.txt");
  BOOST_REQUIRE_GE(fx.cases("cosine_annealing_lr").size(), 4u);
  for (const std::string& c : fx.cases("cosine_annealing_lr")) {
    const std::string at = "cosine_annealing_lr/" + c + "/";
    const auto T_max = fx.tensor(at + "T_max").item<std::int64_t>();
    const double eta_min = fx.tensor(at + "eta_min").item<double>();
    check_schedule(fx, at, [&](optim::Optimizer& opt) {
      return std::make_unique<optim::CosineAnnealingLR>(opt, T_max, eta_min);
    });
  }
  check_schedule(fx, "cosine_annealing_lr/T10_eta_min0.0/", [](optim::Optimizer& opt) {
    return std::make_unique<optim::CosineAnnealingLR>(opt, 10);
  });
}

BOOST_AUTO_TEST_CASE(chained_schedulers_match_pytorch) {
  // Two schedulers on one optimizer, stepped in turn: each step starts from the lrs the other
  // left (the chainable form), which a closed form base_lr · f(e) would ignore
  const test::Fixtures fx("sched.txt");
  const auto run = [&](const std::string& at, optim::LRScheduler& first,
                       optim::LRScheduler& second, optim::Optimizer& optimizer) {
    check_lrs(second.get_last_lr(), fx.tensor(at + "lrs"), 0, at);
    for (int k = 1; k <= kSteps; ++k) {
      optimizer.step();
      first.step();
      second.step();
      check_lrs(second.get_last_lr(), fx.tensor(at + "lrs"), k, at);
    }
  };
  {
    const std::string at = "chained/step3_then_cosine10/";
    PlainSGD optimizer(lrs0(fx, at));
    optim::StepLR first(optimizer, 3, 0.5);
    optim::CosineAnnealingLR second(optimizer, 10, 0.001);
    run(at, first, second, optimizer);
  }
  {
    const std::string at = "chained/exponential_then_step5/";
    PlainSGD optimizer(lrs0(fx, at));
    optim::ExponentialLR first(optimizer, 0.95);
    optim::StepLR second(optimizer, 5, 0.5);
    run(at, first, second, optimizer);
  }
}

BOOST_AUTO_TEST_CASE(reduce_lr_on_plateau_matches_pytorch) {
  // ReduceLROnPlateau(optimizer, mode, factor, patience, threshold, threshold_mode, cooldown,
  // min_lr, eps).step(metric): lrs, best, num_bad_epochs and cooldown_counter after every step,
  // in both modes and both threshold modes, with cooldowns, min_lr and the eps rule
  const test::Fixtures fx("sched.txt");
  BOOST_REQUIRE_GE(fx.cases("reduce_lr_on_plateau").size(), 5u);
  for (const std::string& c : fx.cases("reduce_lr_on_plateau")) {
    const std::string at = "reduce_lr_on_plateau/" + c + "/";
    PlainSGD optimizer(lrs0(fx, at));
    auto scheduler = make_plateau(fx, at, optimizer);
    check_lrs(scheduler->get_last_lr(), fx.tensor(at + "lrs"), 0, at);
    BOOST_CHECK_EQUAL(scheduler->best(),
                      fx.tensor(at + "mode").item<std::int64_t>() == 0 ? kInf : -kInf);
    const std::vector<double> metrics = fx.tensor(at + "metrics").to_vector<double>();
    for (int k = 1; k <= kSteps; ++k) {
      optimizer.step();
      scheduler->step(metrics[static_cast<std::size_t>(k - 1)]);
      check_plateau_step(fx, at, *scheduler, optimizer, k);
    }
  }
}

BOOST_AUTO_TEST_CASE(reduce_lr_on_plateau_defaults_and_tensor_metric) {
  // ReduceLROnPlateau(optimizer) has PyTorch's defaults; step(Tensor) reads a one-element tensor
  const test::Fixtures fx("sched.txt");
  const std::string at = "reduce_lr_on_plateau/min_rel_defaults/";
  PlainSGD optimizer(lrs0(fx, at));
  optim::ReduceLROnPlateau scheduler(optimizer);
  const std::vector<double> metrics = fx.tensor(at + "metrics").to_vector<double>();
  for (int k = 1; k <= kSteps; ++k) {
    scheduler.step(mg::from_vector(std::vector<double>{metrics[static_cast<std::size_t>(k - 1)]},
                                   mg::Shape{}));
    check_plateau_step(fx, at, scheduler, optimizer, k);
  }
}

// ---- Resuming -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(epoch_schedulers_resume_from_their_state_dict) {
  // load_state_dict(state_dict()) midway: the remaining lrs are those of the uninterrupted run,
  // and the options come from the state, not from the constructor of the resumed scheduler
  const test::Fixtures fx("sched.txt");
  for (int steps : {1, 17, 30}) {
    check_resume(
        fx, "step_lr/step7_gamma0.5/",
        [](optim::Optimizer& opt) { return std::make_unique<optim::StepLR>(opt, 7, 0.5); },
        [](optim::Optimizer& opt) { return std::make_unique<optim::StepLR>(opt, 2, 0.9); },
        steps);
    check_resume(
        fx, "exponential_lr/gamma0.9/",
        [](optim::Optimizer& opt) { return std::make_unique<optim::ExponentialLR>(opt, 0.9); },
        [](optim::Optimizer& opt) { return std::make_unique<optim::ExponentialLR>(opt, 0.5); },
        steps);
    check_resume(
        fx, "cosine_annealing_lr/T7_eta_min0.001/",
        [](optim::Optimizer& opt) {
          return std::make_unique<optim::CosineAnnealingLR>(opt, 7, 0.001);
        },
        [](optim::Optimizer& opt) { return std::make_unique<optim::CosineAnnealingLR>(opt, 3); },
        steps);
  }
}

BOOST_AUTO_TEST_CASE(reduce_lr_on_plateau_resumes_from_its_state_dict) {
  // ReduceLROnPlateau::load_state_dict midway through each case, into a scheduler made with the
  // defaults: best, the counters and the options all come from the state
  const test::Fixtures fx("sched.txt");
  for (const std::string& c : fx.cases("reduce_lr_on_plateau")) {
    const std::string at = "reduce_lr_on_plateau/" + c + "/";
    const std::vector<double> metrics = fx.tensor(at + "metrics").to_vector<double>();
    PlainSGD optimizer(lrs0(fx, at));
    auto first = make_plateau(fx, at, optimizer);
    const int steps = 13;
    for (int k = 0; k < steps; ++k) first->step(metrics[static_cast<std::size_t>(k)]);
    PlainSGD resumed_optimizer({0.5, 0.25});
    optim::ReduceLROnPlateau resumed(resumed_optimizer, "max");
    set_lrs(resumed_optimizer, lrs_of(optimizer));
    resumed.load_state_dict(first->state_dict());
    for (int k = steps + 1; k <= kSteps; ++k) {
      resumed.step(metrics[static_cast<std::size_t>(k - 1)]);
      check_plateau_step(fx, at, resumed, resumed_optimizer, k);
    }
  }
}

BOOST_AUTO_TEST_CASE(scheduler_state_through_a_file) {
  // save_tensors with the state under "sched.", load_tensors, strip the prefix, load_state_dict:
  // the state survives the file bit for bit (float64 and int64, 0-d)
  const test::Fixtures fx("sched.txt");
  const std::string at = "cosine_annealing_lr/T10_eta_min0.0/";
  PlainSGD optimizer(lrs0(fx, at));
  optim::CosineAnnealingLR scheduler(optimizer, 10);
  for (int k = 0; k < 11; ++k) scheduler.step();
  const optim::SchedulerState state = scheduler.state_dict();
  mg::nn::NamedTensors tensors;
  for (const auto& [name, t] : state) tensors.emplace_back("sched." + name, t);
  const std::string path =
      (std::filesystem::temp_directory_path() / "minigrad_test_lr_scheduler.safetensors").string();
  mg::nn::save_tensors(path, tensors);
  optim::SchedulerState loaded;
  for (const auto& [name, t] : mg::nn::load_tensors(path).tensors)
    if (name.starts_with("sched.")) loaded.emplace_back(name.substr(6), t);
  std::filesystem::remove(path);

  PlainSGD resumed_optimizer(lrs_of(optimizer));
  optim::CosineAnnealingLR resumed(resumed_optimizer, 4);
  resumed.load_state_dict(loaded);
  for (const auto& [name, t] : resumed.state_dict()) {
    const auto it = std::find_if(state.begin(), state.end(),
                                 [&](const auto& entry) { return entry.first == name; });
    BOOST_REQUIRE(it != state.end());
    test::check_close(t, it->second, 0, 0, name);
  }
  for (int k = 12; k <= kSteps; ++k) {
    resumed.step();
    check_lrs(resumed.get_last_lr(), fx.tensor(at + "lrs"), k, at + " from the file");
  }
}

BOOST_AUTO_TEST_CASE(state_dict_names) {
  // The names documented in lr_scheduler.h, in order, with their dtypes
  PlainSGD optimizer({0.1, 0.2});
  const auto names = [](const optim::SchedulerState& state) {
    std::vector<std::string> out;
    for (const auto& [name, t] : state) {
      BOOST_CHECK_EQUAL(t.dim(), 0);
      out.push_back(name + (t.dtype() == mg::kInt64 ? ":i" : ":f"));
    }
    return out;
  };
  const std::vector<std::string> step_lr = {"step_size:i", "gamma:f", "base_lrs.0:f",
                                            "base_lrs.1:f", "last_epoch:i", "last_lr.0:f",
                                            "last_lr.1:f"};
  BOOST_CHECK(names(optim::StepLR(optimizer, 3).state_dict()) == step_lr);
  const std::vector<std::string> plateau = {
      "mode:i", "factor:f", "patience:i", "threshold:f", "threshold_mode:i", "cooldown:i",
      "min_lrs.0:f", "min_lrs.1:f", "eps:f", "best:f", "num_bad_epochs:i", "cooldown_counter:i",
      "last_epoch:i", "last_lr.0:f", "last_lr.1:f"};
  BOOST_CHECK(names(optim::ReduceLROnPlateau(optimizer).state_dict()) == plateau);
}

// ---- Errors -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(constructor_errors) {
  // PyTorch's messages; StepLR and CosineAnnealingLR refuse at construction what PyTorch's first
  // step() fails on
  PlainSGD optimizer({0.1, 0.2});
  test::check_error([&] { optim::StepLR(optimizer, 0); }, "integer modulo by zero");
  test::check_error([&] { optim::CosineAnnealingLR(optimizer, 0); }, "integer modulo by zero");
  test::check_error([&] { optim::ReduceLROnPlateau(optimizer, "min", 1.0); },
                    "Factor should be < 1.0.");
  test::check_error([&] { optim::ReduceLROnPlateau(optimizer, "max", 2.0); },
                    "Factor should be < 1.0.");
  test::check_error([&] { optim::ReduceLROnPlateau(optimizer, "maxx"); }, "mode maxx is unknown!");
  test::check_error([&] { optim::ReduceLROnPlateau(optimizer, "min", 0.1, 10, 1e-4, "foo"); },
                    "threshold mode foo is unknown!");
  test::check_error(
      [&] {
        optim::ReduceLROnPlateau(optimizer, "min", 0.1, 10, 1e-4, "rel", 0,
                                 std::vector<double>{0.1, 0.2, 0.3});
      },
      "expected 2 min_lrs, got 3");
  BOOST_CHECK(lrs_of(optimizer) == (std::vector<double>{0.1, 0.2}));
}

BOOST_AUTO_TEST_CASE(step_errors) {
  // A group added after the scheduler was made; a metric that is not one number
  PlainSGD optimizer({0.1, 0.2});
  optim::ExponentialLR exponential(optimizer, 0.5);
  optim::ReduceLROnPlateau plateau(optimizer);
  test::check_error(
      [&] { plateau.step(mg::zeros({3})); },
      "only one element tensors can be converted to Python scalars");
  optimizer.add_param_group(optim::OptimizerParamGroup(
      {mg::zeros({1}).requires_grad_()}, std::make_unique<optim::SGDOptions>(0.3)));
  test::check_error([&] { exponential.step(); },
                    "ExponentialLR: the optimizer has 3 parameter groups, but the scheduler was "
                    "made for 2");
  test::check_error([&] { plateau.step(1.0); },
                    "ReduceLROnPlateau: the optimizer has 3 parameter groups, but the scheduler "
                    "was made for 2");
  BOOST_CHECK(lrs_of(optimizer) == (std::vector<double>{0.1, 0.2, 0.3}));
  BOOST_CHECK_EQUAL(exponential.last_epoch(), 0);
  BOOST_CHECK_EQUAL(plateau.last_epoch(), 0);
}

BOOST_AUTO_TEST_CASE(load_state_dict_errors) {
  // Missing, unexpected, duplicate, undefined and mismatched entries, and values the
  // constructors refuse; after each error the scheduler is as it was
  PlainSGD optimizer({0.1, 0.2});
  optim::StepLR step_lr(optimizer, 3);
  const optim::SchedulerState good = step_lr.state_dict();
  const auto with = [&](const std::string& name, const mg::Tensor& t) {
    optim::SchedulerState state;
    for (const auto& [n, v] : good) state.emplace_back(n, n == name ? t : v);
    return state;
  };
  optim::SchedulerState missing(good.begin() + 1, good.end());
  test::check_error([&] { step_lr.load_state_dict(missing); },
                    "Error(s) in loading state_dict for StepLR:\n\tMissing key(s) in state_dict: "
                    "\"step_size\". ");
  optim::SchedulerState extra = good;
  extra.emplace_back("base_lrs.2", mg::scalar_tensor(0.1, mg::kFloat64));
  test::check_error([&] { step_lr.load_state_dict(extra); },
                    "Unexpected key(s) in state_dict: \"base_lrs.2\". ");
  optim::SchedulerState twice = good;
  twice.push_back(good[0]);
  test::check_error([&] { step_lr.load_state_dict(twice); },
                    "StepLR.load_state_dict: the key \"step_size\" appears twice");
  test::check_error([&] { step_lr.load_state_dict(with("gamma", mg::Tensor())); },
                    "StepLR.load_state_dict: the tensor \"gamma\" is undefined");
  test::check_error(
      [&] { step_lr.load_state_dict(with("gamma", mg::scalar_tensor(0.5, mg::kFloat32))); },
      "gamma: expected a 0-d tensor of torch.float64, got shape [] of torch.float32.");
  test::check_error(
      [&] { step_lr.load_state_dict(with("last_epoch", mg::zeros({1}, mg::kInt64))); },
      "last_epoch: expected a 0-d tensor of torch.int64, got shape [1] of torch.int64.");
  test::check_error(
      [&] { step_lr.load_state_dict(with("step_size", mg::scalar_tensor(0, mg::kInt64))); },
      "StepLR: integer modulo by zero (step_size is 0)");
  for (const auto& [name, t] : step_lr.state_dict()) {
    const auto it = std::find_if(good.begin(), good.end(),
                                 [&](const auto& entry) { return entry.first == name; });
    test::check_close(t, it->second, 0, 0, name + " unchanged");
  }

  optim::CosineAnnealingLR cosine(optimizer, 5);
  optim::SchedulerState cosine_state = cosine.state_dict();
  cosine_state[0].second = mg::scalar_tensor(0, mg::kInt64);  // T_max
  test::check_error([&] { cosine.load_state_dict(cosine_state); },
                    "CosineAnnealingLR: integer modulo by zero (T_max is 0)");

  optim::ReduceLROnPlateau plateau(optimizer);
  const auto plateau_with = [&](std::size_t index, const mg::Tensor& t) {
    optim::SchedulerState state = plateau.state_dict();
    state[index].second = t;
    return state;
  };
  test::check_error(
      [&] { plateau.load_state_dict(plateau_with(0, mg::scalar_tensor(2, mg::kInt64))); },
      "mode 2 is unknown! (expected 0 for \"min\" or 1 for \"max\")");
  test::check_error(
      [&] { plateau.load_state_dict(plateau_with(4, mg::scalar_tensor(-1, mg::kInt64))); },
      "threshold mode -1 is unknown! (expected 0 for \"rel\" or 1 for \"abs\")");
  test::check_error(
      [&] { plateau.load_state_dict(plateau_with(1, mg::scalar_tensor(1.5, mg::kFloat64))); },
      "Factor should be < 1.0.");
  optim::SchedulerState no_best = plateau.state_dict();
  no_best.erase(no_best.begin() + 9);
  test::check_error([&] { plateau.load_state_dict(no_best); },
                    "Error(s) in loading state_dict for ReduceLROnPlateau:\n\tMissing key(s) in "
                    "state_dict: \"best\". ");
  BOOST_CHECK_EQUAL(plateau.best(), kInf);
}
