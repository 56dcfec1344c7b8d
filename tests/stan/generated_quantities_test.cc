// Generated quantities: the interpreter against hand-written computations, closed forms and
// exact moments (tolerances from the Monte Carlo standard error), plus its error messages.
#include "exmc/stan/generated_quantities.hpp"

#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

#include "exmc/io/stan_json.hpp"
#include "exmc/stan/data.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/lower.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace {

namespace fs = std::filesystem;
constexpr double kHalfLog2Pi = 0.91893853320467274178;

// A program with its data, kept alive together (the interpreter points into the AST).
struct GqProgram {
  Program program;
  DataEnv data;
  std::unique_ptr<GeneratedQuantities> gq;
  GqProgram(const std::string& src, const std::string& json, std::vector<VarInfo> outs)
      : program(parse_and_check(src, "gq.stan")),
        data(check_data(program, io::StanJsonData::from_string(json))),
        gq(std::make_unique<GeneratedQuantities>(program, data, std::move(outs))) {}
};

// Output values by flat name.
std::map<std::string, double> named(const GeneratedQuantities& gq, const std::vector<double>& out) {
  std::map<std::string, double> m;
  const auto names = generated_quantities_names(gq);
  for (size_t i = 0; i < names.size(); ++i) m[names[i]] = out[i];
  return m;
}

const char* kNormal = R"(
data { int N; vector[N] y; }
parameters { real mu; real<lower=0> sigma; }
model { y ~ normal(mu, sigma); }
generated quantities {
  array[N] real y_rep;
  vector[N] log_lik;
  real total = normal_lpdf(y | mu, sigma);
  for (n in 1:N) {
    y_rep[n] = normal_rng(mu, sigma);
    log_lik[n] = normal_lpdf(y[n] | mu, sigma);
  }
}
)";
const char* kNormalData = R"({"N": 4, "y": [0.5, -1.25, 2.0, 3.5]})";
const std::vector<VarInfo> kMuSigma = {{"mu", {}}, {"sigma", {}}};

// (a) hmm_example's Viterbi block against a hand-written Viterbi, through the real pipeline
// (lowering, compiled density, constrain) so the draw layout is the one the sampler writes.
TEST(GeneratedQuantities, HmmViterbiMatchesHandWritten) {
  const fs::path dir = fs::path(EXMC_SHARED_DIR) / "posteriordb" / "hmm_example-hmm_example";
  if (!fs::exists(dir)) EXMC_SKIP_UNLESS_CI() << "no posteriordb at " << dir;
  Program p = parse_file((dir / "model.stan").string());
  check(p);
  const auto json = io::StanJsonData::from_file((dir / "data.json").string());
  const DataEnv env = check_data(p, json);
  auto ld = lower_to_model(p, env)->compile<double>();
  const std::vector<VarInfo> outs = ld->output_vars();
  GeneratedQuantities gq(p, env, outs);
  ASSERT_FALSE(gq.empty());
  ASSERT_EQ(gq.vars().size(), 2u);
  EXPECT_EQ(gq.vars()[0].name, "z_star");
  EXPECT_EQ(gq.vars()[0].shape, std::vector<size_t>{100});

  const std::vector<double> y = json.at("y").values;
  const size_t N = y.size(), K = 2;
  // Two parameter sets: a sticky chain near the data's modes, and a flip-flopping one.
  const std::vector<std::vector<double>> t1s = {{0.9, 0.1}, {0.3, 0.7}}, t2s = {{0.15, 0.85}, {0.6, 0.4}};
  const std::vector<std::vector<double>> mus = {{3.1, 9.8}, {4.0, 6.5}};
  for (size_t c = 0; c < t1s.size(); ++c) {
    SCOPED_TRACE(c);
    std::vector<double> x(ld->dim());
    std::string err;
    ASSERT_TRUE(ld->unconstrain({{"theta1", t1s[c]}, {"theta2", t2s[c]}, {"mu", mus[c]}}, x.data(), &err)) << err;
    std::vector<double> draw(total_size(outs));
    ld->constrain(x.data(), draw.data());
    // The values as constrained (round trip through the transforms), read back by name.
    std::map<std::string, double> v;
    const auto names = flat_names(outs);
    for (size_t i = 0; i < names.size(); ++i) v[names[i]] = draw[i];
    const double theta[2][2] = {{v["theta1.1"], v["theta1.2"]}, {v["theta2.1"], v["theta2.2"]}};
    const double mu[2] = {v["mu.1"], v["mu.2"]};
    EXPECT_NEAR(theta[0][0], t1s[c][0], 1e-12);

    // Hand-written Viterbi.
    auto lp = [&](size_t t, size_t k) { return -kHalfLog2Pi - 0.5 * (y[t] - mu[k]) * (y[t] - mu[k]); };
    std::vector<std::array<double, 2>> best(N);
    std::vector<std::array<int, 2>> back(N);
    for (size_t k = 0; k < K; ++k) best[0][k] = lp(0, k);
    for (size_t t = 1; t < N; ++t)
      for (size_t k = 0; k < K; ++k) {
        best[t][k] = -INFINITY;
        for (size_t j = 0; j < K; ++j) {
          const double l = best[t - 1][j] + std::log(theta[j][k]) + lp(t, k);
          if (l > best[t][k]) {
            best[t][k] = l;
            back[t][k] = int(j);
          }
        }
      }
    std::vector<int> z(N);
    const double top = std::max(best[N - 1][0], best[N - 1][1]);
    for (size_t k = 0; k < K; ++k)
      if (best[N - 1][k] == top) z[N - 1] = int(k);
    for (size_t t = N - 1; t-- > 0;) z[t] = back[t + 1][size_t(z[t + 1])];

    Rng rng(1, GeneratedQuantities::kGqStreamBase);
    std::vector<double> out(total_size(gq.vars()));
    gq.eval(draw.data(), rng, out.data());
    int switches = 0;
    for (size_t t = 0; t < N; ++t) {
      EXPECT_EQ(out[t], double(z[t] + 1)) << "z_star[" << t + 1 << "]";
      if (t > 0) switches += z[t] != z[t - 1];
    }
    EXPECT_GT(switches, 0);  // the path is not trivially constant
    EXPECT_NEAR(out[N], top, 1e-10 * std::fabs(top));
  }
}

// (b) posterior predictive draws: mean and variance within 5 Monte Carlo standard errors.
TEST(GeneratedQuantities, PosteriorPredictiveMoments) {
  GqProgram s(kNormal, kNormalData, kMuSigma);
  const double mu = 1.5, sigma = 2.0;
  const std::vector<double> draw = {mu, sigma};
  Rng rng(42, GeneratedQuantities::kGqStreamBase);
  std::vector<double> out(total_size(s.gq->vars()));
  double sum = 0, sum2 = 0;
  size_t n = 0;
  for (int it = 0; it < 20000; ++it) {
    s.gq->eval(draw.data(), rng, out.data());
    for (size_t i = 0; i < 4; ++i) {
      const double d = out[i] - mu;
      sum += d;
      sum2 += d * d;
      ++n;
    }
  }
  const double mean = sum / double(n), var = sum2 / double(n) - mean * mean;
  const double s2 = sigma * sigma;
  EXPECT_NEAR(mean, 0.0, 5 * sigma / std::sqrt(double(n)));
  EXPECT_NEAR(var, s2, 5 * std::sqrt(2 * s2 * s2 / double(n)));
}

// (c) log_lik equals the closed form; the vectorised call is its sum.
TEST(GeneratedQuantities, LogLikEqualsClosedForm) {
  GqProgram s(kNormal, kNormalData, kMuSigma);
  const double mu = -0.3, sigma = 0.7;
  const std::vector<double> draw = {mu, sigma}, y = {0.5, -1.25, 2.0, 3.5};
  Rng rng(3, 0);
  std::vector<double> out(total_size(s.gq->vars()));
  s.gq->eval(draw.data(), rng, out.data());
  auto m = named(*s.gq, out);
  double total = 0;
  for (size_t i = 0; i < 4; ++i) {
    const double z = (y[i] - mu) / sigma;
    const double ll = -kHalfLog2Pi - std::log(sigma) - 0.5 * z * z;
    EXPECT_NEAR(m["log_lik." + std::to_string(i + 1)], ll, 1e-13);
    total += ll;
  }
  EXPECT_NEAR(m["total"], total, 1e-12);
}

// head/tail of vectors and arrays keep the leading / trailing elements; asking for more is an
// error at the call.
TEST(GeneratedQuantities, HeadAndTail) {
  const char* src = R"(
data { int N; vector[N] y; }
parameters { real mu; }
generated quantities {
  vector[2] h = head(y, 2);
  vector[3] t = tail(y, 3);
  array[2] real ah = head({1.5, 2.5, 3.5}, 2);
  array[1] real at = tail({1.5, 2.5, 3.5}, 1);
}
)";
  GqProgram s(src, kNormalData, {{"mu", {}}});
  const std::vector<double> draw = {0.0};
  Rng rng(1, 0);
  std::vector<double> out(total_size(s.gq->vars()));
  s.gq->eval(draw.data(), rng, out.data());
  auto m = named(*s.gq, out);
  EXPECT_EQ(m["h.1"], 0.5);
  EXPECT_EQ(m["h.2"], -1.25);
  EXPECT_EQ(m["t.1"], -1.25);
  EXPECT_EQ(m["t.3"], 3.5);
  EXPECT_EQ(m["ah.2"], 2.5);
  EXPECT_EQ(m["at.1"], 3.5);
  const char* too_many = R"(
data { int N; vector[N] y; }
parameters { real mu; }
generated quantities { vector[5] h = head(y, 5); }
)";
  GqProgram bad(too_many, kNormalData, {{"mu", {}}});
  try {
    bad.gq->eval(draw.data(), rng, out.data());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.line(), 4);
    EXPECT_NE(e.message().find("head: 5 elements asked of 4"), std::string::npos) << e.what();
  }
}

// append_row stacks (vectors stay vectors), append_col puts side by side (row vectors stay row
// vectors); mismatched sizes are an error at the call.
TEST(GeneratedQuantities, AppendRowAndCol) {
  const char* src = R"(
data { int N; vector[N] y; }
parameters { real mu; }
generated quantities {
  vector[5] v = append_row(y, mu);
  row_vector[3] r = append_col([1, 2], 3);
  matrix[2, 2] m = append_col([1, 2]', [3, 4]');
  matrix[2, 2] s = append_row([1, 2], [3, 4]);
}
)";
  GqProgram p(src, kNormalData, {{"mu", {}}});
  const std::vector<double> draw = {7.0};
  Rng rng(1, 0);
  std::vector<double> out(total_size(p.gq->vars()));
  p.gq->eval(draw.data(), rng, out.data());
  auto m = named(*p.gq, out);
  EXPECT_EQ(m["v.1"], 0.5);
  EXPECT_EQ(m["v.4"], 3.5);
  EXPECT_EQ(m["v.5"], 7.0);
  EXPECT_EQ(m["r.3"], 3.0);
  EXPECT_EQ(m["m.2.1"], 2.0);  // column-major: m = [1 3; 2 4]
  EXPECT_EQ(m["m.1.2"], 3.0);
  EXPECT_EQ(m["s.2.1"], 3.0);  // s = [1 2; 3 4]
  EXPECT_EQ(m["s.1.2"], 2.0);
  const char* bad = R"(
data { int N; vector[N] y; }
parameters { real mu; }
generated quantities { matrix[2, 2] s = append_row([1, 2], [3, 4, 5]); }
)";
  GqProgram q(bad, kNormalData, {{"mu", {}}});
  try {
    q.gq->eval(draw.data(), rng, out.data());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.line(), 4);
    EXPECT_NE(e.message().find("append_row"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("columns"), std::string::npos) << e.what();
  }
}

// (d) a draw is a pure function of the stream: same key, same output; another key differs.
TEST(GeneratedQuantities, SameStreamSameOutput) {
  GqProgram s(kNormal, kNormalData, kMuSigma);
  const std::vector<double> draw = {0.2, 1.1};
  const size_t n = total_size(s.gq->vars());
  std::vector<double> a(n), b(n), c(n);
  Rng r1(7, GeneratedQuantities::kGqStreamBase + 2), r2(7, GeneratedQuantities::kGqStreamBase + 2),
      r3(7, GeneratedQuantities::kGqStreamBase + 3);
  for (int it = 0; it < 3; ++it) {
    s.gq->eval(draw.data(), r1, a.data());
    s.gq->eval(draw.data(), r2, b.data());
    s.gq->eval(draw.data(), r3, c.data());
    EXPECT_EQ(a, b);
    EXPECT_NE(a[0], c[0]);
  }
  // Concurrent calls with distinct streams give what sequential calls give.
  std::vector<std::vector<double>> seq(4, std::vector<double>(n)), par = seq;
  for (size_t t = 0; t < 4; ++t) {
    Rng r(9, t);
    for (int k = 0; k < 50; ++k) s.gq->eval(draw.data(), r, seq[t].data());
  }
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Rng r(9, t);
      for (int k = 0; k < 50; ++k) s.gq->eval(draw.data(), r, par[t].data());
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(seq, par);
}

// (e) reject names the block and line; constraint violations name the variable and element.
TEST(GeneratedQuantities, RejectAndConstraintErrors) {
  const std::string src = R"(data { int N; }
parameters { real mu; }
model { mu ~ normal(0, 1); }
generated quantities {
  real<upper=0> neg = -1;
  array[2] int<lower=1> k = {1, 1};
  simplex[2] p = [0.5, 0.5]';
  if (mu > 10)
    reject("mu too big: ", mu);
  if (mu > 5) neg = mu;
  if (mu > 2) k[2] = 0;
  if (mu < -2) p[1] = 0.7;
}
)";
  GqProgram s(src, R"({"N": 1})", {{"mu", {}}});
  Rng rng(1, 1);
  std::vector<double> out(total_size(s.gq->vars()));
  const double ok = 0.0;
  s.gq->eval(&ok, rng, out.data());
  EXPECT_EQ(out[0], -1.0);
  auto message_of = [&](double mu) -> std::pair<std::string, int> {
    try {
      s.gq->eval(&mu, rng, out.data());
    } catch (const Error& e) {
      return {e.what(), e.line()};
    }
    return {"", 0};
  };
  auto [rej, rej_line] = message_of(11.0);
  EXPECT_EQ(rej_line, 9);
  EXPECT_NE(rej.find("gq.stan:9:"), std::string::npos) << rej;
  EXPECT_NE(rej.find("reject() in generated quantities: mu too big: 11"), std::string::npos) << rej;
  auto [neg, neg_line] = message_of(6.0);
  EXPECT_EQ(neg_line, 5);
  EXPECT_NE(neg.find("generated quantity 'neg' must be <= 0, found 6"), std::string::npos) << neg;
  auto [kk, kk_line] = message_of(3.0);
  EXPECT_EQ(kk_line, 6);
  EXPECT_NE(kk.find("generated quantity 'k' must be >= 1, found 0 at k[2]"), std::string::npos) << kk;
  auto [pp, pp_line] = message_of(-3.0);
  EXPECT_EQ(pp_line, 7);
  EXPECT_NE(pp.find("generated quantity 'p' is not a simplex: its elements sum to 1.2"), std::string::npos) << pp;
}

// (f) discrete _rng draws are ints in their support with the right means (5 MCSE).
TEST(GeneratedQuantities, DiscreteRngInSupport) {
  const std::string src = R"(data { int N; }
parameters { real<lower=0, upper=1> theta; real<lower=0> lambda; simplex[3] pi; }
model { }
generated quantities {
  int b = bernoulli_rng(theta);
  int po = poisson_rng(lambda);
  int cat = categorical_rng(pi);
  int bin = binomial_rng(N, theta);
  array[3] int bl = bernoulli_logit_rng(rep_vector(0.0, 3));
}
)";
  GqProgram s(src, R"({"N": 7})", {{"theta", {}}, {"lambda", {}}, {"pi", {3}}});
  const std::vector<double> draw = {0.3, 2.5, 0.2, 0.5, 0.3};
  Rng rng(11, GeneratedQuantities::kGqStreamBase);
  std::vector<double> out(total_size(s.gq->vars()));
  ASSERT_EQ(out.size(), 7u);
  const int M = 20000;
  double sb = 0, sp = 0, sc = 0, sbin = 0, sbl = 0;
  for (int it = 0; it < M; ++it) {
    s.gq->eval(draw.data(), rng, out.data());
    for (double x : out) ASSERT_EQ(x, std::floor(x));
    ASSERT_TRUE(out[0] == 0 || out[0] == 1);
    ASSERT_GE(out[1], 0);
    ASSERT_TRUE(out[2] >= 1 && out[2] <= 3);
    ASSERT_TRUE(out[3] >= 0 && out[3] <= 7);
    for (int j = 4; j < 7; ++j) ASSERT_TRUE(out[size_t(j)] == 0 || out[size_t(j)] == 1);
    sb += out[0];
    sp += out[1];
    sc += out[2];
    sbin += out[3];
    sbl += out[4];
  }
  const double m = M;
  EXPECT_NEAR(sb / m, 0.3, 5 * std::sqrt(0.3 * 0.7 / m));
  EXPECT_NEAR(sp / m, 2.5, 5 * std::sqrt(2.5 / m));
  const double ec = 0.2 * 1 + 0.5 * 2 + 0.3 * 3, vc = 0.2 * 1 + 0.5 * 4 + 0.3 * 9 - ec * ec;
  EXPECT_NEAR(sc / m, ec, 5 * std::sqrt(vc / m));
  EXPECT_NEAR(sbin / m, 7 * 0.3, 5 * std::sqrt(7 * 0.3 * 0.7 / m));
  EXPECT_NEAR(sbl / m, 0.5, 5 * std::sqrt(0.25 / m));
}

// Multivariate _rng: draws have the declared structure (the declared constraints are checked
// on every draw), multinomial counts sum to N, and multi_normal_rng has the right mean and
// covariance (5 MCSE).
TEST(GeneratedQuantities, MultivariateRng) {
  const std::string src = R"(data { int N; }
transformed data {
  vector[2] mu = [1, -2]';
  matrix[2, 2] Sigma = [[1, 0.6], [0.6, 2]];
  vector[3] alpha = [1, 2, 3]';
}
parameters { real x; }
model { }
generated quantities {
  simplex[3] d = dirichlet_rng(alpha);
  vector[2] z = multi_normal_rng(mu, Sigma);
  vector[2] zc = multi_normal_cholesky_rng(mu, cholesky_decompose(Sigma));
  array[2] vector[2] zz = multi_normal_rng({mu, mu}, Sigma);
  cholesky_factor_corr[3] L = lkj_corr_cholesky_rng(3, 2.0);
  corr_matrix[3] R = lkj_corr_rng(3, 0.5);
  cov_matrix[2] W = wishart_rng(4.0, Sigma);
  cov_matrix[2] IW = inv_wishart_rng(4.0, Sigma);
  array[3] int m = multinomial_rng(d, N);
  array[3] int ml = multinomial_logit_rng(log(d), N);
  int c = categorical_logit_rng([0, 1, 2]');
}
)";
  GqProgram s(src, R"({"N": 10})", {{"x", {}}});
  const double x = 0;
  Rng rng(2, GeneratedQuantities::kGqStreamBase);
  std::vector<double> out(total_size(s.gq->vars()));
  const int M = 20000;
  double m1 = 0, m2 = 0, c11 = 0, c12 = 0, c22 = 0, mc1 = 0;
  for (int it = 0; it < M; ++it) {
    s.gq->eval(&x, rng, out.data());
    auto v = named(*s.gq, out);
    ASSERT_EQ(v["m.1"] + v["m.2"] + v["m.3"], 10);
    ASSERT_EQ(v["ml.1"] + v["ml.2"] + v["ml.3"], 10);
    ASSERT_TRUE(v["c"] >= 1 && v["c"] <= 3);
    const double a = v["z.1"] - 1, b = v["z.2"] + 2;
    m1 += a;
    m2 += b;
    c11 += a * a;
    c12 += a * b;
    c22 += b * b;
    mc1 += v["zc.1"] - 1;
  }
  const double n = M;
  EXPECT_NEAR(m1 / n, 0, 5 * std::sqrt(1.0 / n));
  EXPECT_NEAR(m2 / n, 0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(mc1 / n, 0, 5 * std::sqrt(1.0 / n));
  // Var of a product of zero-mean normals: E[a^2 b^2] - (E[ab])^2 = s11 s22 + s12^2.
  EXPECT_NEAR(c11 / n, 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(c22 / n, 2.0, 5 * std::sqrt(8.0 / n));
  EXPECT_NEAR(c12 / n, 0.6, 5 * std::sqrt((1.0 * 2.0 + 0.36) / n));
}

// Errors inside expressions name the line and what was wrong.
TEST(GeneratedQuantities, ExpressionErrors) {
  const std::string src = R"(data { int N; vector[N] y; }
parameters { real mu; }
model { }
generated quantities {
  real a = 0;
  if (mu == 1) a = y[N + 1];
  if (mu == 2) a = normal_rng(0, -1);
  if (mu == 3) a = N %/% 0;
}
)";
  GqProgram s(src, R"({"N": 2, "y": [1, 2]})", {{"mu", {}}});
  Rng rng(1, 1);
  double out = 0;
  auto message_of = [&](double mu) -> std::pair<std::string, int> {
    try {
      s.gq->eval(&mu, rng, &out);
    } catch (const Error& e) {
      return {e.what(), e.line()};
    }
    return {"", 0};
  };
  auto [idx, idx_line] = message_of(1);
  EXPECT_EQ(idx_line, 6);
  EXPECT_NE(idx.find("index 3 out of range for 'y' (size 2"), std::string::npos) << idx;
  auto [rng_msg, rng_line] = message_of(2);
  EXPECT_EQ(rng_line, 7);
  EXPECT_NE(rng_msg.find("normal_rng: sigma must be"), std::string::npos) << rng_msg;
  auto [div, div_line] = message_of(3);
  EXPECT_EQ(div_line, 8);
  EXPECT_NE(div.find("integer division by zero"), std::string::npos) << div;
}

// Transformed data is re-evaluated; user functions, loops, indexing and matrices work, and
// a matrix comes out column-major under flat_names.
TEST(GeneratedQuantities, TransformedDataFunctionsAndContainers) {
  const std::string src = R"(
functions {
  real twice(real x) { return 2 * x; }
  int fib(int n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); }
  vector center(vector v) { return v - mean(v); }
}
data { int N; vector[N] y; array[N] int g; }
transformed data {
  vector[N] yc = center(y);
  real ysd = sd(y);
  int n2 = 2 * N + max(g) % 2;
  int n_pos = 0;
  for (n in 1:N) if (y[n] > 0) n_pos += 1;
}
parameters { real mu; matrix[2, 2] A; }
model { }
generated quantities {
  real t = twice(mu);
  int f10 = fib(10);
  int npos = n_pos;
  matrix[2, 3] M;
  vector[2] Av = A * [1, 2]';
  array[2] real sl = to_array_1d(y[2:3]);
  array[2] real picked = to_array_1d(y[{4, 1}]);
  real w = 0;
  int first_neg = 0;
  for (i in 1:2) for (j in 1:3) M[i, j] = 10 * i + j;
  for (n in 1:N) {
    if (y[n] >= 0) continue;
    first_neg = n;
    break;
  }
  while (w < 5) w += 2;
  {
    real acc = 0;
    for (x in yc) acc += x * x;
    w += acc * 0;
  }
}
)";
  GqProgram s(src, R"({"N": 4, "y": [0.5, -1.25, 2.0, 3.5], "g": [1, 2, 1, 2]})",
          {{"mu", {}}, {"A", {2, 2}}});
  // A = [[1, 2], [3, 4]] column-major.
  const std::vector<double> draw = {0.75, 1, 3, 2, 4};
  Rng rng(1, 1);
  std::vector<double> out(total_size(s.gq->vars()));
  s.gq->eval(draw.data(), rng, out.data());
  auto m = named(*s.gq, out);
  EXPECT_EQ(m["t"], 1.5);
  EXPECT_EQ(m["f10"], 55);
  EXPECT_EQ(m["npos"], 3);
  EXPECT_EQ(m["M.1.1"], 11);
  EXPECT_EQ(m["M.2.1"], 21);
  EXPECT_EQ(m["M.1.3"], 13);
  EXPECT_EQ(m["M.2.3"], 23);
  EXPECT_EQ(generated_quantities_names(*s.gq)[4], "M.2.1");  // column-major
  EXPECT_EQ(m["Av.1"], 1 * 1 + 2 * 2);
  EXPECT_EQ(m["Av.2"], 3 * 1 + 4 * 2);
  EXPECT_EQ(m["sl.1"], -1.25);
  EXPECT_EQ(m["sl.2"], 2.0);
  EXPECT_EQ(m["picked.1"], 3.5);
  EXPECT_EQ(m["picked.2"], 0.5);
  EXPECT_EQ(m["first_neg"], 2);
  EXPECT_EQ(m["w"], 6);
  // The data checker evaluates transformed-data scalars on its own: both agree.
  ASSERT_NE(s.data.find("n2"), nullptr);
  EXPECT_EQ(s.gq->transformed_data("n2"), s.data.find("n2")->values);
  EXPECT_EQ(s.gq->transformed_data("n2"), std::vector<double>{8});
  const std::vector<double> yc = s.gq->transformed_data("yc");
  const double mean = (0.5 - 1.25 + 2.0 + 3.5) / 4;
  EXPECT_NEAR(yc[1], -1.25 - mean, 1e-15);
}

// Every posteriordb program: the transformed data re-evaluate (agreeing with the data
// checker's own evaluation of transformed-data scalars), and where the program lowers and has
// generated quantities, one draw evaluates to finite values.
TEST(GeneratedQuantities, PosteriordbProgramsEvaluate) {
  const fs::path pdb = fs::path(EXMC_SHARED_DIR) / "posteriordb";
  if (!fs::exists(pdb)) EXMC_SKIP_UNLESS_CI() << "no posteriordb at " << pdb;
  int programs = 0, with_gq = 0;
  for (const auto& entry : fs::directory_iterator(pdb)) {
    if (!fs::exists(entry.path() / "model.stan")) continue;
    SCOPED_TRACE(entry.path().filename().string());
    Program p = parse_file((entry.path() / "model.stan").string());
    check(p);
    const DataEnv env = check_data(p, io::StanJsonData::from_file((entry.path() / "data.json").string()));
    std::unique_ptr<LogDensity> ld;
    try {
      ld = lower_to_model(p, env)->compile<double>();
    } catch (const Error&) {
      // Not lowered yet (the lowering's own test lists these); the transformed data still run.
    }
    const std::vector<VarInfo> outs = ld ? ld->output_vars() : std::vector<VarInfo>{};
    GeneratedQuantities gq(p, env, outs);
    ++programs;
    for (const auto& s : p.block(BlockKind::TransformedData).stmts) {
      if (s.kind != StmtKind::Decl) continue;
      const DataValue* dv = env.find(s.decl[0].name);
      if (!dv) continue;
      EXPECT_EQ(gq.transformed_data(dv->name), dv->values) << dv->name;
    }
    if (!ld || gq.empty()) continue;
    ++with_gq;
    std::vector<double> x(ld->dim(), 0.1), draw(total_size(outs)), out(total_size(gq.vars()), NAN);
    ld->constrain(x.data(), draw.data());
    Rng rng(5, GeneratedQuantities::kGqStreamBase);
    gq.eval(draw.data(), rng, out.data());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_TRUE(std::isfinite(out[i])) << generated_quantities_names(gq)[i];
  }
  EXPECT_GE(programs, 30);
  EXPECT_GE(with_gq, 3);
}

// Assignment through ranges, multi-indexes, rows, columns and nested single indexes.
TEST(GeneratedQuantities, IndexedAssignment) {
  const std::string src = R"(parameters { real mu; }
model { }
generated quantities {
  vector[4] v = rep_vector(0, 4);
  matrix[2, 3] Q = rep_matrix(0, 2, 3);
  array[2, 3] int A;
  v[2:3] = [5, 6]';
  v[{4, 1}] = [8, 7]';
  v[1] += mu;
  Q[1] = [1, 2, 3];
  Q[:, 3] = [30, 40]';
  Q[2, 1:2] = [10, 20];
  A[1] = {1, 2, 3};
  A[2, 1] = 4;
  A[2][2] = 5;
  A[2, 3] = A[1, 3] * 2;
}
)";
  GqProgram s(src, "{}", {{"mu", {}}});
  Rng rng(1, 1);
  std::vector<double> out(total_size(s.gq->vars()));
  const double mu = 0.5;
  s.gq->eval(&mu, rng, out.data());
  auto m = named(*s.gq, out);
  EXPECT_EQ(m["v.1"], 7.5);
  EXPECT_EQ(m["v.2"], 5);
  EXPECT_EQ(m["v.3"], 6);
  EXPECT_EQ(m["v.4"], 8);
  EXPECT_EQ(m["Q.1.1"], 1);
  EXPECT_EQ(m["Q.1.2"], 2);
  EXPECT_EQ(m["Q.1.3"], 30);
  EXPECT_EQ(m["Q.2.1"], 10);
  EXPECT_EQ(m["Q.2.2"], 20);
  EXPECT_EQ(m["Q.2.3"], 40);
  EXPECT_EQ(m["A.1.1"], 1);
  EXPECT_EQ(m["A.1.3"], 3);
  EXPECT_EQ(m["A.2.1"], 4);
  EXPECT_EQ(m["A.2.2"], 5);
  EXPECT_EQ(m["A.2.3"], 6);
  EXPECT_EQ(generated_quantities_names(*s.gq)[4 + 6 + 1], "A.2.1");  // column-major over [2, 3]
}

TEST(GeneratedQuantities, EmptyBlockAndUnknownFunction) {
  GqProgram s("parameters { real mu; } model { mu ~ normal(0, 1); }", "{}", {{"mu", {}}});
  EXPECT_TRUE(s.gq->empty());
  EXPECT_TRUE(generated_quantities_names(*s.gq).empty());
  GqProgram u("parameters { real mu; } model { } generated quantities {\n  real h = hmm_marginal(rep_matrix(0, 2, 2), rep_matrix(0.5, 2, 2), rep_vector(0.5, 2));\n}",
          "{}", {{"mu", {}}});
  Rng rng(1, 1);
  double out = 0;
  const double mu = 0;
  try {
    u.gq->eval(&mu, rng, &out);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("'hmm_marginal' is not supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace exmc::stan
