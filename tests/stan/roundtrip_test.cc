// Parser round trips: parse -> print -> parse gives the same AST, on every shared .stan file.
#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "exmc/stan/error.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/printer.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> shared_stan_files() {
  const fs::path shared = EXMC_SHARED_DIR;
  std::vector<fs::path> files;
  if (fs::exists(shared / "bench" / "models"))
    for (const auto& e : fs::directory_iterator(shared / "bench" / "models"))
      if (e.path().extension() == ".stan") files.push_back(e.path());
  if (fs::exists(shared / "posteriordb"))
    for (const auto& e : fs::directory_iterator(shared / "posteriordb"))
      if (fs::exists(e.path() / "model.stan")) files.push_back(e.path() / "model.stan");
  std::sort(files.begin(), files.end());
  return files;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_round_trip(const std::string& src, const std::string& name) {
  Program a;
  try {
    a = parse(src, name);
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
    return;
  }
  const std::string printed = print_program(a);
  Program b;
  try {
    b = parse(printed, name + " (printed)");
  } catch (const Error& e) {
    ADD_FAILURE() << e.what() << "\nprinted:\n" << printed;
    return;
  }
  EXPECT_TRUE(a == b) << "AST changed through the printer; printed:\n" << printed;
  EXPECT_EQ(print_program(b), printed);
}

TEST(StanRoundTrip, EverySharedStanFile) {
  const auto files = shared_stan_files();
  if (files.empty()) EXMC_SKIP_UNLESS_CI() << "no .stan files under " << EXMC_SHARED_DIR;
  EXPECT_GE(files.size(), 40u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    expect_round_trip(slurp(f), f.filename().string());
  }
}

// The same programs printed in the pre-2.33 array syntax parse back to that AST.
TEST(StanRoundTrip, OldArraySyntaxPrinting) {
  for (const auto& f : shared_stan_files()) {
    SCOPED_TRACE(f.string());
    Program p = parse(slurp(f), f.filename().string());
    use_old_array_syntax(p);
    const std::string printed = print_program(p);
    EXPECT_EQ(printed.find("array["), std::string::npos);
    EXPECT_TRUE(parse(printed, "old.stan") == p) << printed;
  }
}

TEST(StanRoundTrip, AllSyntax) {
  const std::string src = R"(
functions {
  real foo_lpdf(real y, real mu, real sigma);
  real foo_lpdf(real y, real mu, real sigma) { return normal_lpdf(y | mu, sigma); }
  void hello(data array[,] int a, vector v, real[] old) { print("hi ", a, v); }
  vector bar_rng(int n) { vector[n] r; for (i in 1:n) r[i] = normal_rng(0, 1); return r; }
  real baz_lp(real x) { target += x; return x; }
}
data {
  int<lower=0> N;
  int<lower=1, upper=N> idx[3];
  array[N] real y;
  vector<lower=-1, upper=1>[N] v;
  matrix[N, 2] X;
  row_vector[2] rv;
  cov_matrix[2] S;
  corr_matrix[2] R;
  cholesky_factor_cov[3, 2] L;
  cholesky_factor_corr[2] Lc;
  int g[N];
  vector[2] b[3];
  array[2, 3] int<lower=0> counts;
}
transformed data {
  real m = mean(y) * 1e-3 + .5 - 2.;
  int k = N %/% 2 + N % 2;
  complex cz = 3 + 2i;
  matrix[2, 2] A = [[1, 2], [3, 4]];
  array[3] int ii = {1, 2, 3};
  vector[N] w = v .* v ./ (v + 1) - (X / 2)[:, 1] + X[1:, 2] + X[:N, 1];
  row_vector[2] q = rv * A \ A .^ 2 + rv';
}
parameters {
  real mu;
  real<lower=0> sigma;
  simplex[3] theta;
  ordered[2] o;
  positive_ordered[2] po;
  unit_vector[2] u;
  vector<offset=mu, multiplier=sigma>[N] z;
}
transformed parameters {
  real s2 = sigma ^ 2 ^ 0.5;
}
model {
  y ~ normal(mu, sigma);
  y[1] ~ normal(mu, sigma) T[0, ];
  y[2] ~ normal(mu, sigma) T[, 10];
  y[3] ~ normal(mu, sigma) T[-1, 1];
  target += normal_lpdf(y | mu, sigma) + foo_lpdf(mu | 0, 1);
  target += baz_lp(mu);
  for (i in 1:N) {
    if (i > 2 && !(i == 3) || i <= 1) continue;
    else if (i >= 5) break;
    else target += -mu ^ 2;
  }
  for (x in y) target += x;
  while (0) { }
  {
    real t = N > 1 ? 1.0 : 2.0;
    t += 1;
    t -= 1;
    t *= 2;
    t /= 2;
  }
  z[idx] ~ std_normal();
  z[{1, 2}] ~ std_normal();
}
generated quantities {
  vector[N] yrep;
  array[N] real yr2 = normal_rng(rep_vector(mu, N), sigma);
  yrep .*= v;
  yrep ./= v;
  if (N < 0) reject("bad N: ", N);
  if (N < 0) fatal_error("bad");
  print("mu = ", mu);
  hello(counts, z, y);
  profile("p") { yrep = bar_rng(N); }
}
)";
  expect_round_trip(src, "all.stan");
  const Program p = parse(src, "all.stan");
  try {
    check(p);
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  EXPECT_EQ(p.functions.size(), 5u);
  EXPECT_TRUE(p.functions[0].is_forward_decl());
  EXPECT_FALSE(p.functions[1].is_forward_decl());
  EXPECT_TRUE(p.functions[2].return_type.is_void);
  EXPECT_TRUE(p.functions[2].args[0].type.is_data);
  EXPECT_EQ(p.functions[2].args[0].type.array_dims, 2);
  EXPECT_TRUE(p.functions[2].args[2].type.old_array_syntax);
  const auto& data = p.block(BlockKind::Data).stmts;
  EXPECT_EQ(data.size(), 13u);
  EXPECT_TRUE(data[1].decl[0].type.old_array_syntax);
  EXPECT_EQ(data[1].decl[0].type.base, BaseType::Int);
  EXPECT_TRUE(data[1].decl[0].type.upper.has_value());
  EXPECT_EQ(data[8].decl[0].type.dims.size(), 2u);
  const auto& model = p.block(BlockKind::Model).stmts;
  EXPECT_TRUE(model[1].has_truncation);
  EXPECT_TRUE(model[1].trunc_lo.has_value());
  EXPECT_FALSE(model[1].trunc_hi.has_value());
  EXPECT_EQ(model[4].exprs[0].kind, ExprKind::Binary);
  EXPECT_EQ(model[4].exprs[0].args[0].kind, ExprKind::CondCall);
}

// Operator precedence and associativity, seen through the printer's explicit parentheses
// on a re-associated copy.
TEST(StanParser, Precedence) {
  auto shape = [](const std::string& s) {
    // Prints with every Binary/Unary wrapped, to expose the tree.
    std::function<std::string(const Expr&)> f = [&](const Expr& e) -> std::string {
      switch (e.kind) {
        case ExprKind::Binary: return "(" + f(e.args[0]) + e.text + f(e.args[1]) + ")";
        case ExprKind::Unary: return "(" + e.text + f(e.args[0]) + ")";
        case ExprKind::Ternary:
          return "(" + f(e.args[0]) + "?" + f(e.args[1]) + ":" + f(e.args[2]) + ")";
        case ExprKind::Transpose: return "(" + f(e.args[0]) + "')";
        case ExprKind::Paren: return f(e.args[0]);
        default: return print_expr(e);
      }
    };
    return f(parse_expression(s));
  };
  EXPECT_EQ(shape("a + b * c"), "(a+(b*c))");
  EXPECT_EQ(shape("a - b - c"), "((a-b)-c)");
  EXPECT_EQ(shape("a ^ b ^ c"), "(a^(b^c))");
  EXPECT_EQ(shape("-a ^ 2"), "(-(a^2))");
  EXPECT_EQ(shape("a ^ -b"), "(a^(-b))");
  EXPECT_EQ(shape("a * b \\ c"), "(a*(b\\c))");
  EXPECT_EQ(shape("a .* b ./ c"), "((a.*b)./c)");
  EXPECT_EQ(shape("a %/% b % c"), "((a%/%b)%c)");
  EXPECT_EQ(shape("a || b && c == d < e + f"), "(a||(b&&(c==(d<(e+f)))))");
  EXPECT_EQ(shape("!a && b"), "((!a)&&b)");
  EXPECT_EQ(shape("a ? b : c ? d : e"), "(a?b:(c?d:e))");
  EXPECT_EQ(shape("x' * y"), "((x')*y)");
  EXPECT_EQ(shape("a .^ b'"), "(a.^(b'))");
  EXPECT_EQ(shape("a < b != c >= d"), "((a<b)!=(c>=d))");
}

TEST(StanParser, Literals) {
  EXPECT_EQ(parse_expression("1e-3").kind, ExprKind::RealLit);
  EXPECT_EQ(parse_expression(".5").kind, ExprKind::RealLit);
  EXPECT_EQ(parse_expression("2.").kind, ExprKind::RealLit);
  EXPECT_EQ(parse_expression("2E+10").kind, ExprKind::RealLit);
  EXPECT_EQ(parse_expression("42").kind, ExprKind::IntLit);
  EXPECT_EQ(parse_expression("2.5i").kind, ExprKind::ImagLit);
  const Expr e = parse_expression("a[2:, :3, :, i, idx, 1:n]");
  ASSERT_EQ(e.indices.size(), 6u);
  EXPECT_EQ(e.indices[0].kind, IndexItem::Lower);
  EXPECT_EQ(e.indices[1].kind, IndexItem::Upper);
  EXPECT_EQ(e.indices[2].kind, IndexItem::All);
  EXPECT_EQ(e.indices[3].kind, IndexItem::Single);
  EXPECT_EQ(e.indices[5].kind, IndexItem::Range);
}

}  // namespace
}  // namespace exmc::stan
