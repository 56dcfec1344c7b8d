// Newton and laplace hold d x d matrices: a model too large for them is refused before any work,
// naming the sizes and what to use instead (it was a bare std::bad_alloc after the mode search).
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "exmc/services/methods.hpp"
#include "exmc/services/program.hpp"

namespace exmc::services {
namespace {

// 500,000 dimensions: one d x d matrix of doubles is 2 TB, beyond any machine's memory; the
// density itself is one vectorised statement, cheap to compile and evaluate.
Program huge_program() {
  return Program::from_source(R"(
data { int N; }
parameters { vector[N] x; }
model { x ~ normal(0, 1); }
)", "huge", R"({"N": 500000})");
}

std::string refusal(const std::function<void()>& run) {
  try {
    run();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(DenseHessianLimit, NewtonOnAModelTooLargeForItsHessianIsRefusedSayingWhy) {
  const auto program = huge_program();
  OptimizeSettings s;
  s.algorithm = OptimizeSettings::Algorithm::kNewton;
  const std::string what = refusal([&] { optimize(program, s, 1); });
  EXPECT_NE(what.find("the newton algorithm (a dense Hessian a step) with 500000 unconstrained dimensions needs at "
                      "least 3 matrices of 500000 x 500000 doubles (2000.0 GB each"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("use the lbfgs algorithm"), std::string::npos) << what;
}

TEST(DenseHessianLimit, LaplaceOnAModelTooLargeForItsHessianIsRefusedBeforeTheModeSearch) {
  const auto program = huge_program();
  LaplaceSettings s;
  s.draws = 10;
  const std::string what = refusal([&] { laplace(program, s, 1); });
  EXPECT_NE(what.find("laplace (the Hessian at the mode and its factor) with 500000 unconstrained dimensions needs "
                      "at least 2 matrices"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("use variational or pathfinder"), std::string::npos) << what;
}

TEST(DenseHessianLimit, ModelsThatFitAreNotRefused) {
  const auto program = Program::from_source(R"(
parameters { vector[3] x; }
model { x ~ normal(1, 2); }
)", "small", "");
  OptimizeSettings s;
  s.algorithm = OptimizeSettings::Algorithm::kNewton;
  EXPECT_EQ(refusal([&] { optimize(program, s, 1); }), "(accepted)");
  LaplaceSettings l;
  l.draws = 10;
  EXPECT_EQ(refusal([&] { laplace(program, l, 1); }), "(accepted)");
}

}  // namespace
}  // namespace exmc::services
