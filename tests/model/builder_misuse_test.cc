// The builder used the way a newcomer might misuse it: what must be refused (naming the
// variable) and what must still mean what the model says.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/model/model.hpp"
#include "test_dists.hpp"

namespace exmc::model {
namespace {

using testing::normal;

double logp_at(const LogDensity& ld, std::vector<double> x) {
  std::vector<double> g(ld.dim());
  return ld.logp_grad(x.data(), g.data());
}

// theta ~ normal(mu, s) with s a flat parameter: the automatic non-centring must not let s go
// negative, where the centred density (and Stan) is -inf.
TEST(BuilderMisuse, NonCentringKeepsTheScaleOfAFlatParameterPositive) {
  for (Ncp ncp : {Ncp::kAuto, Ncp::kOn}) {
    Model m;
    Expr mu = m.rv("mu", normal(), {0.0, 1.0});
    Expr s = m.param("s");
    m.add_lpdf(normal(), s, {0.0, 1.0}, "s prior");
    m.rv("theta", normal(), {mu, s}, {2}, {}, ncp);
    CompileOptions o;
    o.ncp = ncp;
    auto ld = m.compile<double>(o);
    ASSERT_EQ(ld->dim(), 4u);
    // x = (mu, s, z1, z2) when non-centred.
    EXPECT_TRUE(std::isfinite(logp_at(*ld, {0.1, 0.7, 0.3, -0.2})));
    EXPECT_EQ(logp_at(*ld, {0.1, -0.7, 0.3, -0.2}), -INFINITY);
    EXPECT_EQ(logp_at(*ld, {0.1, 0.0, 0.3, -0.2}), -INFINITY);
  }
}

double inv_logit(double u) { return 1 / (1 + std::exp(-u)); }

// Central differences of logp against logp_grad's gradient.
void expect_gradient_matches(const LogDensity& ld, const std::vector<double>& x) {
  std::vector<double> g(ld.dim()), scratch(ld.dim());
  ld.logp_grad(x.data(), g.data());
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> a = x, b = x;
    a[i] += 1e-6;
    b[i] -= 1e-6;
    const double fd = (ld.logp_grad(a.data(), scratch.data()) - ld.logp_grad(b.data(), scratch.data())) / 2e-6;
    EXPECT_NEAR(g[i], fd, 1e-5 * (1 + std::fabs(fd))) << "coordinate " << i;
  }
}

// Stan's negative_infinity() lower and positive_infinity() upper bounds mean "no bound on that
// side", element by element; they made every value -inf or NaN (lower + exp(x) = -inf).
TEST(BuilderMisuse, InfiniteBoundsAreNoBound) {
  const double inf = INFINITY;
  {
    Model m;
    m.rv("x", normal(), {0.0, 1.0}, {}, lower(-inf));
    auto ld = m.compile<double>();
    EXPECT_DOUBLE_EQ(logp_at(*ld, {0.7}), -0.5 * 0.49);
  }
  {
    Model m;
    m.rv("x", normal(), {0.0, 1.0}, {}, upper(inf));
    auto ld = m.compile<double>();
    EXPECT_DOUBLE_EQ(logp_at(*ld, {-0.7}), -0.5 * 0.49);
  }
  // Per element: both bounds, upper only, none, lower only.
  for (bool as_lower_upper : {true, false}) {
    SCOPED_TRACE(as_lower_upper ? "lower_upper" : "lower");
    Model m;
    Expr lo = m.data("lo", {0.0, -inf, -inf, 0.0}, {4});
    Expr hi = m.data("hi", {1.0, 2.0, inf, inf}, {4});
    m.rv("x", normal(), {0.0, 1.0}, {4}, as_lower_upper ? lower_upper(lo, hi) : lower(lo));
    auto ld = m.compile<double>();
    const std::vector<double> u = {0.3, -0.4, 0.9, -1.2};
    std::vector<double> y(4);
    ld->constrain(u.data(), y.data());
    const std::vector<double> want =
        as_lower_upper ? std::vector<double>{inv_logit(u[0]), 2 - std::exp(u[1]), u[2], std::exp(u[3])}
                       : std::vector<double>{std::exp(u[0]), u[1], u[2], std::exp(u[3])};
    const double logj = as_lower_upper ? std::log(inv_logit(u[0]) * (1 - inv_logit(u[0]))) + u[1] + u[3] : u[0] + u[3];
    double lp = logj;
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_NEAR(y[i], want[i], 1e-12) << i;
      lp -= 0.5 * want[i] * want[i];
    }
    EXPECT_NEAR(logp_at(*ld, u), lp, 1e-12);
    expect_gradient_matches(*ld, u);
    std::vector<double> back(4);
    std::string error;
    ASSERT_TRUE(ld->unconstrain({{"x", want}}, back.data(), &error)) << error;
    for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(back[i], u[i], 1e-12) << i;
  }
}

// A NaN bound, or the infinity of the wrong side, leaves nothing to draw: refused at compile(),
// naming the variable (it was "could not find a starting point" after sampling began).
TEST(BuilderMisuse, ANaNOrWrongSidedInfiniteBoundIsRefused) {
  const double inf = INFINITY, nan = std::nan("");
  auto refused = [](Constraint c, const std::string& want) {
    Model m;
    m.rv("x", normal(), {0.0, 1.0}, {2}, std::move(c));
    try {
      m.compile<double>();
      ADD_FAILURE() << "expected an error containing: " << want;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("variable 'x': ", 0), 0u) << what;
      EXPECT_NE(what.find(want), std::string::npos) << what;
    }
  };
  refused(lower(nan), "its lower bound is nan");
  refused(lower(inf), "its lower bound is inf; it must be a number below +inf");
  refused(upper(-inf), "its upper bound is -inf; it must be a number above -inf");
  refused(lower_upper(0.0, nan), "its upper bound is nan");
  {
    Model m;
    Expr lo = m.data("lo", {0.0, inf}, {2});
    m.rv("x", normal(), {0.0, 1.0}, {2}, lower(lo));
    EXPECT_THROW(
        {
          try {
            m.compile<double>();
          } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("(element 2)"), std::string::npos) << e.what();
            throw;
          }
        },
        std::invalid_argument);
  }
}

// A shape whose element count overflows size_t ({2^32, 2^32} multiplies to 0) made a silently
// empty variable, and data of that shape accepted zero values.
TEST(BuilderMisuse, AShapeTooLargeToCountIsRefused) {
  const Shape huge = {size_t(1) << 32, size_t(1) << 32};
  auto refused = [](const std::function<void(Model&)>& declare) {
    Model m;
    try {
      declare(m);
      ADD_FAILURE() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("variable 'x': shape {4294967296,4294967296} has more elements"),
                std::string::npos)
          << e.what();
    }
  };
  refused([&](Model& m) { m.rv("x", normal(), {0.0, 1.0}, huge); });
  refused([&](Model& m) { m.param("x", huge); });
  refused([&](Model& m) { m.data("x", {}, huge); });
  refused([&](Model& m) { m.observe("x", normal(), {0.0, 1.0}, std::vector<double>{}, huge); });
}

// An Expr of another Model (or a default-constructed one) passed as an argument was refused
// with "an argument is not an expression of this model's graph": which variable, which
// argument, and what was wrong with it went unsaid.
TEST(BuilderMisuse, AForeignOrEmptyExpressionNamesTheVariableAndArgument) {
  Model other;
  const Expr foreign = other.rv("mu", normal(), {0.0, 1.0});
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  Model m;
  EXPECT_EQ(message([&] { m.rv("theta", normal(), {foreign, 1.0}); }),
            "variable 'theta': argument 'mu' of normal is an expression of another Model's graph");
  EXPECT_EQ(message([&] { m.observe("y", normal(), {0.0, Expr()}, std::vector<double>{1.0, 2.0}); }),
            "variable 'y': argument 'sigma' of normal is an empty expression (a default-constructed Expr)");
  EXPECT_EQ(message([&] { m.rv("s", normal(), {0.0, 1.0}, {}, lower(foreign)); }),
            "variable 's': a bound of its constraint is an expression of another Model's graph");
}

}  // namespace
}  // namespace exmc::model
