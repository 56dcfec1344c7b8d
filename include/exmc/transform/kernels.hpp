// The constraint transforms as standalone kernels, instantiated for float and double.
//
// Every transform maps an unconstrained x to a constrained y and reports log|J|. Conventions:
//  - constrain(x, ..., y) writes y and returns log|J| (accumulated in double);
//  - vjp(x, y, gy, glj, ..., gx) ADDS to gx the gradient of  L = <gy, y(x)> + glj * log|J|(x),
//    i.e. the chain rule through y plus glj times d log|J| / dx; gradients with respect to
//    bound arguments are ADDED to their `grad` pointers when those are non-null;
//  - unconstrain(y, ..., x) returns "" on success, else what is wrong ("value -1 at index 2 is
//    below the lower bound 0"); the caller prefixes the variable's name.
// Matrices are column-major. Unconstrained coordinates of triangular factors run over the lower
// triangle row by row (Stan's order). Bound arguments broadcast: size 1 or size n.
#pragma once

#include <cstddef>
#include <string>

namespace exmc::transform {

template <class T>
struct BoundArg {
  const T* val = nullptr;
  size_t size = 0;  // 0: absent; 1: scalar; n: one per element
  T* grad = nullptr;
  T at(size_t i) const { return val[size == 1 ? 0 : i]; }
};

// Elementwise, n elements. lower: y = lb + exp(x). upper: y = ub - exp(x).
template <class T> double lower_constrain(const T* x, size_t n, BoundArg<T> lb, T* y);
template <class T> void lower_vjp(const T* x, const T* y, const T* gy, double glj, size_t n, BoundArg<T> lb, T* gx);
template <class T> std::string lower_unconstrain(const T* y, size_t n, BoundArg<T> lb, T* x);

template <class T> double upper_constrain(const T* x, size_t n, BoundArg<T> ub, T* y);
template <class T> void upper_vjp(const T* x, const T* y, const T* gy, double glj, size_t n, BoundArg<T> ub, T* gx);
template <class T> std::string upper_unconstrain(const T* y, size_t n, BoundArg<T> ub, T* x);

// y = lb + (ub - lb) inv_logit(x) (Stan's); an infinite bound falls back to lower/upper/identity
// for that element.
template <class T> double lower_upper_constrain(const T* x, size_t n, BoundArg<T> lb, BoundArg<T> ub, T* y);
template <class T> void lower_upper_vjp(const T* x, const T* y, const T* gy, double glj, size_t n, BoundArg<T> lb,
                                        BoundArg<T> ub, T* gx);
template <class T> std::string lower_upper_unconstrain(const T* y, size_t n, BoundArg<T> lb, BoundArg<T> ub, T* x);

// y = offset + multiplier * x. An absent offset is 0, an absent multiplier 1.
template <class T> double offset_multiplier_constrain(const T* x, size_t n, BoundArg<T> off, BoundArg<T> mult, T* y);
template <class T> void offset_multiplier_vjp(const T* x, const T* y, const T* gy, double glj, size_t n,
                                              BoundArg<T> off, BoundArg<T> mult, T* gx);
template <class T> std::string offset_multiplier_unconstrain(const T* y, size_t n, BoundArg<T> off,
                                                             BoundArg<T> mult, T* x);

// y = lb + log(1 + exp(x)); an absent lb is 0. An alternative positive transform whose
// Jacobian does not blow up for large x.
template <class T> double softplus_constrain(const T* x, size_t n, BoundArg<T> lb, T* y);
template <class T> void softplus_vjp(const T* x, const T* y, const T* gy, double glj, size_t n, BoundArg<T> lb, T* gx);
template <class T> std::string softplus_unconstrain(const T* y, size_t n, BoundArg<T> lb, T* x);

// Vectors of length K (K unconstrained coordinates).
template <class T> double ordered_constrain(const T* x, size_t K, T* y);
template <class T> void ordered_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx);
template <class T> std::string ordered_unconstrain(const T* y, size_t K, T* x);

template <class T> double positive_ordered_constrain(const T* x, size_t K, T* y);
template <class T> void positive_ordered_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx);
template <class T> std::string positive_ordered_unconstrain(const T* y, size_t K, T* x);

// Simplex of length K from K-1 coordinates (Stan's centred stick-breaking).
template <class T> double simplex_constrain(const T* x, size_t K, T* y);
template <class T> void simplex_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx);
template <class T> std::string simplex_unconstrain(const T* y, size_t K, T* x);

// Unit vector of length K from K coordinates: y = x/|x|, "log|J|" = -|x|^2/2 (Stan's), which
// makes the direction uniform and pins the radius.
template <class T> double unit_vector_constrain(const T* x, size_t K, T* y);
template <class T> void unit_vector_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx);
template <class T> std::string unit_vector_unconstrain(const T* y, size_t K, T* x);

// Cholesky factor of a K x K correlation matrix from K(K-1)/2 coordinates (tanh-CPCs).
template <class T> double cholesky_corr_constrain(const T* x, size_t K, T* y);
template <class T> void cholesky_corr_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx);
template <class T> std::string cholesky_corr_unconstrain(const T* y, size_t K, T* x);

// Cholesky factor of a covariance matrix, M x N with M >= N, from N(N+1)/2 + (M-N)N coordinates
// (diagonal through exp).
template <class T> double cholesky_cov_constrain(const T* x, size_t M, size_t N, T* y);
template <class T> void cholesky_cov_vjp(const T* x, const T* y, const T* gy, double glj, size_t M, size_t N, T* gx);
template <class T> std::string cholesky_cov_unconstrain(const T* y, size_t M, size_t N, T* x);

// K x K correlation matrix (K(K-1)/2 coordinates) and covariance matrix (K(K+1)/2), both as
// L L^T of the factors above. `work` holds 2 K^2 elements of scratch.
template <class T> double corr_matrix_constrain(const T* x, size_t K, T* y, T* work);
template <class T> void corr_matrix_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx, T* work);
template <class T> std::string corr_matrix_unconstrain(const T* y, size_t K, T* x);

template <class T> double cov_matrix_constrain(const T* x, size_t K, T* y, T* work);
template <class T> void cov_matrix_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx, T* work);
template <class T> std::string cov_matrix_unconstrain(const T* y, size_t K, T* x);

}  // namespace exmc::transform
