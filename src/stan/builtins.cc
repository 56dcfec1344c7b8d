// The Stan built-in function and distribution names the checker accepts, with return-type rules.
#include "builtins.hpp"

#include <map>
#include <set>

namespace exmc::stan::detail {
namespace {

const char* const kContinuous[] = {
    "normal", "std_normal", "normal_id_glm", "student_t", "cauchy", "double_exponential",
    "logistic", "gumbel", "skew_normal", "skew_double_exponential", "exp_mod_normal",
    "lognormal", "chi_square", "inv_chi_square", "scaled_inv_chi_square", "exponential",
    "gamma", "inv_gamma", "weibull", "frechet", "rayleigh", "pareto", "pareto_type_2",
    "wiener", "beta", "beta_proportion", "von_mises", "uniform", "loglogistic",
    "multi_normal", "multi_normal_prec", "multi_normal_cholesky", "multi_gp",
    "multi_gp_cholesky", "multi_student_t", "multi_student_t_cholesky", "gaussian_dlm_obs",
    "dirichlet", "lkj_corr", "lkj_corr_cholesky", "lkj_cov", "wishart", "wishart_cholesky",
    "inv_wishart", "inv_wishart_cholesky", "matrix_normal_prec", "gaussian_dlm_obs",
    "std_normal", "multi_student_t_cholesky"};
const char* const kDiscrete[] = {
    "bernoulli", "bernoulli_logit", "bernoulli_logit_glm", "binomial", "binomial_logit",
    "binomial_logit_glm", "beta_binomial", "hypergeometric", "categorical", "categorical_logit",
    "categorical_logit_glm", "discrete_range", "ordered_logistic", "ordered_logistic_glm",
    "ordered_probit", "neg_binomial", "neg_binomial_2", "neg_binomial_2_log",
    "neg_binomial_2_log_glm", "poisson", "poisson_log", "poisson_log_glm", "multinomial",
    "multinomial_logit", "dirichlet_multinomial", "beta_neg_binomial"};

// Return elementwise over the first argument's shape (int promoted to real).
const char* const kElementwise[] = {
    "exp", "log", "sqrt", "square", "inv_logit", "logit", "log1p", "expm1", "log1m", "inv",
    "cbrt", "fabs", "Phi", "Phi_approx", "inv_Phi", "lgamma", "tgamma", "digamma", "trigamma",
    "erf", "erfc", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "log2", "log10", "exp2", "inv_sqrt", "inv_square", "log_inv_logit",
    "log1m_inv_logit", "log1m_exp", "log1p_exp", "lambert_w0", "lambert_wm1", "floor", "ceil",
    "round", "trunc", "inv_cloglog", "std_normal_log_qf", "std_normal_qf", "inv_erfc",
    "log_softmax", "softmax", "cumulative_sum", "sort_asc", "sort_desc", "reverse", "pow",
    "fmin", "fmax", "fmod", "fdim", "hypot", "atan2", "lbeta", "lchoose", "binary_log_loss",
    "owens_t", "inc_beta", "log_inc_beta", "gamma_p", "gamma_q", "bessel_first_kind",
    "bessel_second_kind", "modified_bessel_first_kind", "modified_bessel_second_kind",
    "log_modified_bessel_first_kind", "falling_factorial", "rising_factorial",
    "log_falling_factorial", "log_rising_factorial", "lmgamma", "lmultiply", "multiply_log",
    "log_diff_exp", "logit", "beta", "choose", "binomial_coefficient_log", "fma",
    "inv_inc_beta", "log_modified_bessel_first_kind", "identity_matrix", "abs"};

const char* const kReal[] = {
    "mean", "variance", "sd", "log_sum_exp", "dot_product", "dot_self", "squared_distance",
    "distance", "norm", "norm1", "norm2", "prod", "log_mix", "target", "get_lp", "pi", "e",
    "sqrt2", "not_a_number", "positive_infinity", "negative_infinity", "machine_precision",
    "quantile", "log_determinant", "log_determinant_spd", "determinant", "trace",
    "trace_quad_form", "trace_gen_quad_form", "quad_form_sym_scalar", "get_imag", "get_real",
    "variance", "log_sum_exp", "inv_logit_scalar"};

const char* const kInt[] = {"size", "num_elements", "rows", "cols", "int_step", "to_int",
                            "is_inf", "is_nan", "rank", "logical_negation", "choose"};

const char* const kVector[] = {"rep_vector", "to_vector", "col", "diagonal", "linspaced_vector",
                               "one_hot_vector", "zeros_vector", "ones_vector",
                               "uniform_simplex", "eigenvalues_sym", "singular_values",
                               "csr_matrix_times_vector", "mdivide_left_tri_low",
                               "head", "tail", "segment", "append_row", "rows_dot_product",
                               "rows_dot_self", "columns_dot_self_vector",
                               "sum_to_zero_constrain", "log_softmax", "softmax"};
const char* const kRowVector[] = {"rep_row_vector", "to_row_vector", "row", "columns_dot_product",
                                  "columns_dot_self", "linspaced_row_vector",
                                  "one_hot_row_vector", "zeros_row_vector", "ones_row_vector"};
const char* const kMatrix[] = {
    "rep_matrix", "to_matrix", "diag_matrix", "cholesky_decompose", "gp_exp_quad_cov",
    "gp_matern32_cov", "gp_matern52_cov", "gp_exponential_cov", "gp_periodic_cov",
    "cov_exp_quad", "diag_pre_multiply", "diag_post_multiply", "tcrossprod", "crossprod",
    "multiply_lower_tri_self_transpose", "inverse", "inverse_spd", "chol2inv",
    "eigenvectors_sym", "quad_form_diag", "quad_form_sym", "add_diag", "block", "append_col",
    "matrix_exp", "matrix_exp_multiply", "scale_matrix_exp_multiply", "matrix_power",
    "lkj_corr_cholesky_rng", "lkj_corr_rng", "wishart_rng", "inv_wishart_rng", "sub_col",
    "sub_row", "mdivide_right_tri_low", "mdivide_left_spd", "mdivide_right_spd",
    "svd_U", "svd_V", "qr_thin_Q", "qr_thin_R", "qr_Q", "qr_R", "cholesky_factor_corr",
    "identity_matrix", "symmetrize_from_lower_tri", "quad_form", "generalized_inverse"};

// Names accepted with no return-type model (checks switch off on their results).
const char* const kOther[] = {
    "sum", "max", "min", "rep_array", "dims", "to_array_1d", "to_array_2d", "integrate_ode_rk45",
    "integrate_ode_bdf", "integrate_ode_adams", "ode_rk45", "ode_rk45_tol", "ode_bdf",
    "ode_bdf_tol", "ode_adams", "ode_adams_tol", "ode_ckrk", "ode_ckrk_tol", "algebra_solver",
    "algebra_solver_newton", "solve_newton", "solve_powell", "integrate_1d", "map_rect",
    "reduce_sum", "reduce_sum_static", "sort_indices_asc", "sort_indices_desc", "linspaced_array",
    "linspaced_int_array", "one_hot_int_array", "one_hot_array", "zeros_int_array",
    "zeros_array", "ones_int_array", "ones_array", "hmm_marginal", "hmm_latent_rng",
    "hmm_hidden_state_prob", "to_complex", "get_real", "get_imag", "abs", "fft", "inv_fft",
    "fft2", "inv_fft2", "complex_schur_decompose_t", "complex_schur_decompose_u",
    "eigenvalues", "eigenvectors", "cumulative_sum", "append_array", "log_softmax",
    "categorical_rng", "multinomial_rng", "multi_normal_rng", "multi_normal_cholesky_rng",
    "multi_student_t_rng", "dirichlet_rng", "sum", "mdivide_left", "mdivide_right",
    "elt_multiply", "elt_divide", "add", "subtract", "multiply", "divide", "minus", "modulus",
    "transpose", "svd", "csr_extract_w", "csr_extract_v", "csr_extract_u", "csr_to_dense_matrix",
    "norm", "polar", "arg", "conj", "proj", "log_modified_bessel_first_kind", "uniform_simplex",
    "print", "int_step", "norm1", "norm2", "step", "logical_or", "logical_and", "logical_eq",
    "is_inf", "cols", "size"};

struct Table {
  std::set<std::string> functions;
  std::set<std::string> families;
  std::map<std::string, Ret> ret;
};

const Table& table() {
  static const Table table_ = [] {
    Table t;
    for (const char* f : kContinuous) {
      t.families.insert(f);
      for (const char* s : {"_lpdf", "_lupdf", "_cdf", "_lcdf", "_lccdf", "_log", "_cdf_log",
                            "_ccdf_log"})
        t.ret[std::string(f) + s] = Ret::Real;
      t.ret[std::string(f) + "_rng"] = Ret::Other;
    }
    for (const char* f : kDiscrete) {
      t.families.insert(f);
      for (const char* s : {"_lpmf", "_lupmf", "_cdf", "_lcdf", "_lccdf", "_log", "_cdf_log",
                            "_ccdf_log"})
        t.ret[std::string(f) + s] = Ret::Real;
      t.ret[std::string(f) + "_rng"] = Ret::Other;
    }
    for (const char* f : kOther) t.ret.emplace(f, Ret::Other);
    for (const char* f : kElementwise) t.ret[f] = Ret::Elementwise;
    for (const char* f : kReal) t.ret[f] = Ret::Real;
    for (const char* f : kInt) t.ret[f] = Ret::Int;
    for (const char* f : kVector) t.ret[f] = Ret::Vector;
    for (const char* f : kRowVector) t.ret[f] = Ret::RowVector;
    for (const char* f : kMatrix) t.ret[f] = Ret::Matrix;
    // Overloaded on argument types: modelled as Other.
    for (const char* f : {"abs", "sum", "max", "min", "log_softmax", "softmax", "cumulative_sum",
                          "pow", "fmin", "fmax", "choose", "beta", "head", "tail", "segment",
                          "reverse", "sort_asc", "sort_desc", "append_row", "append_col", "block"})
      t.ret[f] = Ret::Other;
    for (const auto& [k, _] : t.ret) t.functions.insert(k);
    return t;
  }();
  return table_;
}

}  // namespace

bool builtin_return(const std::string& name, Ret* ret) {
  auto it = table().ret.find(name);
  if (it == table().ret.end()) return false;
  *ret = it->second;
  return true;
}

bool builtin_family(const std::string& family) { return table().families.count(family) != 0; }

}  // namespace exmc::stan::detail
