// `exmc diagnose MODEL.stan --data DATA.json`: CmdStan's diagnose method (test = gradient).
#include <random>

#include <fmt/format.h>

#include "cli.hpp"
#include "method_commands.hpp"
#include "exmc/services/gradient_test.hpp"

#include <ostream>

namespace exmc::cli {

int gradient_test(const GradientTestOptions& o, std::ostream& out, std::ostream& err) {
  try {
    const auto program = services::Program::load(o.model_path, o.data_path);
    services::GradientTestSettings s;
    s.init = services::InitSpec::parse(o.init);
    s.epsilon = o.epsilon;
    s.error = o.error;
    const uint64_t seed = o.seed_given ? o.seed : std::random_device{}() % 4294967291ull;
    const auto t = services::gradient_test(program, s, seed);
    for (const auto& w : t.warnings) err << "exmc diagnose: warning: " << w << "\n";
    out << services::format_gradient_test(t);
    err << fmt::format("exmc diagnose: seed {}, epsilon {:g}, error {:g}\n", seed, o.epsilon, o.error);
    if (t.failures == 0) return 0;
    // A check that fails says so in its status, so a script running it stops (CmdStan prints the
    // table alone).
    err << fmt::format("exmc diagnose: the gradient differs from the finite differences by more than the tolerance "
                       "at {} of {} coordinates (marked '<- fails'; --error {:g}, relative where the gradient is "
                       "large): the program's gradient may be wrong there, or the finite differences inexact at "
                       "this epsilon (try --epsilon 1e-4 or 1e-8, or another point)\n",
                       t.failures, t.rows.size(), o.error);
    return 1;
  } catch (...) {
    // As the method commands: a Stan error's own "FILE:LINE:COL: error: ..." text, not behind a
    // second "exmc diagnose: error: " (the program's errors read twice-prefixed before).
    return report_method_failure("diagnose", err);
  }
}

}  // namespace exmc::cli
