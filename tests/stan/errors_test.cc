// Error messages for malformed programs: each case asserts line, column and message.
#include <gtest/gtest.h>

#include <string>

#include "exmc/stan/error.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace {

struct Case {
  const char* name;
  const char* src;
  int line;
  int col;
  const char* message;
  bool semantic;  // SemanticError rather than ParseError
};

const Case kCases[] = {
    {"missing_semicolon",
     "data {\n  int N\n  real x;\n}\n", 3, 3,
     "expected ';' after the declaration of 'N', found 'real'", false},
    {"missing_semicolon_after_expression",
     "parameters { real mu; }\nmodel {\n  mu ~ normal(0, 1)\n  real x;\n}\n", 4, 3,
     "expected ';' after expression, found 'real'", false},
    {"block_out_of_order",
     "parameters { real mu; }\ndata { int N; }\n", 2, 1,
     "'data' block must come before the 'parameters' block (blocks go in the order functions, "
     "data, transformed data, parameters, transformed parameters, model, generated quantities)",
     false},
    {"duplicate_block", "model { }\nmodel { }\n", 2, 1, "duplicate 'model' block", false},
    {"unknown_block", "modle { }\n", 1, 1,
     "expected a block ('functions', 'data', 'transformed data', 'parameters', 'transformed "
     "parameters', 'model' or 'generated quantities'), found 'modle'",
     false},
    {"transformed_what", "transformed model { }\n", 1, 13,
     "expected 'data' or 'parameters' after 'transformed', found 'model'", false},
    {"unterminated_comment", "model {\n  /* never closed\n}\n", 2, 3,
     "unterminated comment: expected '*/' before end of file", false},
    {"bad_character", "model {\n  real x = 1 @ 2;\n}\n", 2, 14, "unexpected character '@'", false},
    {"matrix_needs_two_sizes", "data {\n  matrix[3] X;\n}\n", 2, 3,
     "'matrix' takes 2 sizes, found 1", false},
    {"statement_in_data_block", "data {\n  int N;\n  N = 3;\n}\n", 3, 3,
     "expected a variable declaration in the 'data' block (only declarations are allowed "
     "there), found 'N'",
     false},
    {"bad_constraint_keyword", "parameters {\n  real<lowr=0> s;\n}\n", 2, 8,
     "expected 'lower', 'upper', 'offset' or 'multiplier' in the constraint, found 'lowr'", false},
    {"int_offset", "data {\n  int<offset=1> n;\n}\n", 2, 7,
     "expected 'lower' or 'upper' in the constraint, found 'offset'", false},
    {"lpdf_needs_bar",
     "parameters { real mu; }\nmodel {\n  target += normal_lpdf(mu, 0, 1);\n}\n", 3, 27,
     "expected '|' after the first argument of 'normal_lpdf', found ','", false},
    {"bar_in_ordinary_call",
     "parameters { real mu; }\nmodel {\n  target += exp(mu | 1);\n}\n", 3, 20,
     "expected ',' or ')' ('|' only follows the first argument of a _lpdf/_lpmf/_lcdf/_lccdf/"
     "_cdf function, not 'exp'), found '|'",
     false},
    {"assign_to_expression", "model {\n  real x;\n  (x) = 1;\n}\n", 3, 3,
     "expected a variable (optionally indexed) on the left of '='", false},
    {"unterminated_string", "model {\n  print(\"abc);\n}\n", 2, 9,
     "unterminated string: expected '\"' before end of line", false},
    {"reserved_word_name", "data {\n  real for;\n}\n", 2, 8,
     "'for' is a reserved word and cannot name a variable", false},
    {"malformed_exponent", "model {\n  real x = 1e;\n}\n", 2, 14,
     "malformed number '1e': expected digits in the exponent", false},
    {"missing_expression", "model {\n  real x = (1 + );\n}\n", 2, 17,
     "expected an expression, found ')'", false},
    {"old_assignment_arrow", "model {\n  real x;\n  x <- 1;\n}\n", 3, 5,
     "expected '=' ('<-' was removed from Stan), found '<-'", false},
    {"missing_close_brace", "model {\n  real x;\n", 3, 1,
     "expected '}' to close the 'model' block, found end of file", false},
    {"both_array_syntaxes", "data {\n  array[3] real x[2];\n}\n", 2, 18,
     "expected '=' or ';' (array sizes were already given with 'array[...]'), found '['", false},
    {"bare_expression", "model {\n  real x;\n  x + 1;\n}\n", 3, 8,
     "expected an assignment ('=', '+=', ...) or '~' after expression, found ';'", false},
    {"int_literal_too_large", "transformed data {\n  int n = 3000000000;\n}\n", 2, 11,
     "integer literal 3000000000 is too large for int (at most 2147483647); write it as a real, "
     "e.g. 3000000000.0",
     false},
    {"double_underscore_name", "data {\n  int n__;\n}\n", 2, 7,
     "'n__': names ending in '__' are reserved", false},
    // ---- semantic ----
    {"undeclared_identifier",
     "parameters { real mu; }\nmodel {\n  mu ~ normal(nu, 1);\n}\n", 3, 15,
     "undeclared identifier 'nu'", true},
    {"redeclaration", "data {\n  int N;\n}\nparameters {\n  real N;\n}\n", 5, 8,
     "'N' is already declared (at line 2, column 7)", true},
    {"assign_data_in_model",
     "data {\n  real y;\n}\nmodel {\n  y = 2;\n}\n", 5, 3,
     "cannot assign to 'y' in the 'model' block: it is declared in the 'data' block, and "
     "variables can only be assigned in the block that declares them",
     true},
    {"assign_vector_to_real",
     "data {\n  vector[3] v;\n}\ntransformed data {\n  real x;\n  x = v;\n}\n", 6, 7,
     "cannot assign a value of type vector to 'x' of type real", true},
    {"init_real_into_int", "transformed data {\n  int n = 2.5;\n}\n", 2, 11,
     "cannot initialise 'n' (declared int) with a value of type real", true},
    {"unknown_function",
     "parameters { real mu; }\nmodel {\n  target += nromal_lpdf(mu | 0, 1);\n}\n", 3, 13,
     "unknown function 'nromal_lpdf'", true},
    {"unknown_distribution",
     "parameters { real mu; }\nmodel {\n  mu ~ nromal(0, 1);\n}\n", 3, 8,
     "unknown distribution 'nromal' after '~'", true},
    {"tilde_outside_model",
     "parameters { real mu; }\ngenerated quantities {\n  mu ~ normal(0, 1);\n}\n", 3, 3,
     "'~' statements are only allowed in the model block and in functions ending in _lp", true},
    {"int_parameter", "parameters {\n  int n;\n}\n", 2, 3,
     "parameter 'n' cannot be an int (parameters are real-valued)", true},
    {"rng_in_model",
     "parameters { real mu; }\nmodel {\n  real z = normal_rng(0, 1);\n}\n", 3, 12,
     "random number generator 'normal_rng' is only allowed in transformed data, generated "
     "quantities and functions ending in _rng",
     true},
    {"break_outside_loop", "model {\n  break;\n}\n", 2, 3,
     "'break' is only allowed inside a loop", true},
    {"vector_condition",
     "data {\n  vector[2] v;\n}\nmodel {\n  if (v) { }\n}\n", 5, 7,
     "the 'if' condition must be int or real, found vector", true},
    {"real_loop_bound", "model {\n  for (i in 1:2.5) { }\n}\n", 2, 15,
     "for-loop bounds must be int, found real", true},
    {"real_size", "data {\n  real K;\n  vector[K] v;\n}\n", 3, 10, "size must be int, found real",
     true},
    {"real_index",
     "data {\n  vector[3] v;\n}\nmodel {\n  real x = v[1.5];\n}\n", 5, 14,
     "index must be int or array of int, found real", true},
    {"too_many_indexes",
     "data {\n  vector[3] v;\n}\nmodel {\n  real x = v[1, 2];\n}\n", 5, 12,
     "too many indexes for 'v' (declared vector)", true},
    {"wrong_arg_count",
     "functions {\n  real f(real a, real b) { return a + b; }\n}\nmodel {\n  real x = f(1);\n}\n",
     5, 12, "function 'f' takes 2 arguments, found 1", true},
    {"return_in_void",
     "functions {\n  void f(real a) { return a; }\n}\n", 2, 27,
     "void function 'f' cannot return a value", true},
    {"assign_loop_variable", "model {\n  for (i in 1:3) { i = 2; }\n}\n", 2, 20,
     "cannot assign to loop variable 'i'", true},
    {"local_constraint", "model {\n  real<lower=0> x;\n}\n", 2, 3,
     "local variable 'x' cannot have a constraint or a constrained type (real); only "
     "block-level declarations can",
     true},
    {"matrix_product_shapes",
     "data {\n  vector[3] a;\n  vector[3] b;\n}\ntransformed data {\n  real c = a * b;\n}\n",
     6, 14,
     "cannot multiply vector by vector (matrix product shapes do not fit; '.*' multiplies "
     "elementwise)",
     true},
    {"forward_decl_never_defined", "functions {\n  real f(real x);\n}\n", 2, 3,
     "function 'f' is declared but never defined", true},
    {"missing_return",
     "functions {\n  real f(real x) {\n    if (x > 0) return x;\n  }\n}\n", 2, 3,
     "function 'f' may reach its end without returning a value (every path of a non-void "
     "function must end in 'return' or 'reject')",
     true},
    {"wrong_argument_type",
     "functions {\n  real f(vector v) { return sum(v); }\n}\nmodel {\n  real x = f(1.5);\n}\n",
     5, 14, "argument 1 of 'f' must be vector, found real", true},
    {"assign_parameter_in_model",
     "parameters {\n  real mu;\n}\nmodel {\n  mu = 1;\n}\n", 5, 3,
     "cannot assign to 'mu' in the 'model' block: it is declared in the 'parameters' block, and "
     "variables can only be assigned in the block that declares them",
     true},
    {"target_in_gq", "generated quantities {\n  target += 1;\n}\n", 2, 3,
     "'target +=' is only allowed in the model block and in functions ending in _lp", true},
};

class StanErrors : public ::testing::TestWithParam<Case> {};

TEST_P(StanErrors, ReportsLineColumnAndMessage) {
  const Case& c = GetParam();
  try {
    parse_and_check(c.src, "model.stan");
    FAIL() << "no error for " << c.name;
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), c.message) << e.what();
    EXPECT_EQ(e.line(), c.line) << e.what();
    EXPECT_EQ(e.column(), c.col) << e.what();
    EXPECT_EQ(e.file(), "model.stan");
    const bool semantic = dynamic_cast<const SemanticError*>(&e) != nullptr;
    const bool parse = dynamic_cast<const ParseError*>(&e) != nullptr;
    EXPECT_EQ(semantic, c.semantic) << e.what();
    EXPECT_EQ(parse, !c.semantic) << e.what();
    const std::string prefix = "model.stan:" + std::to_string(c.line) + ":" +
                               std::to_string(c.col) + ": error: " + c.message;
    EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Malformed, StanErrors, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StanErrorFormat, CaretSnippetPointsAtTheColumn) {
  try {
    parse_and_check("data {\n  int N\n  real x;\n}\n", "model.stan");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(std::string(e.what()),
              "model.stan:3:3: error: expected ';' after the declaration of 'N', found 'real'\n"
              " 3 |   real x;\n"
              "   |   ^");
  }
}

}  // namespace
}  // namespace exmc::stan
