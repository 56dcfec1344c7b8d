// Matrix arguments of the multivariate normal family: vectors are read from columns, so an
// N x K matrix (one vector per row) must be refused rather than read as other vectors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exmc/dist/kernel.hpp"

namespace exmc::dist {
namespace {

Arg<double> matrix(const std::vector<double>& v, size_t rows, size_t cols) {
  Arg<double> a;
  a.val = v.data();
  a.size = v.size();
  a.rows = rows;
  a.cols = cols;
  return a;
}

// Three observations of a 2-vector, Sigma 2 x 2.
TEST(MvnLayout, AMatrixWithOneVectorPerRowIsRefused) {
  const std::vector<double> y = {1, 2, 3, 4, 5, 6}, mu = {0, 0}, sigma = {2, 0.5, 0.5, 1}, nu = {4};
  for (const char* family : {"multi_normal", "multi_normal_cholesky", "multi_student_t"}) {
    SCOPED_TRACE(family);
    const DistInfo* d = find_dist(family);
    ASSERT_NE(d, nullptr);
    const bool t = d->arg_names.size() == 4;
    auto args = [&](Arg<double> ya) {
      std::vector<Arg<double>> a = {ya};
      if (t) a.push_back(matrix(nu, 1, 1));
      a.push_back(matrix(mu, 2, 1));
      a.push_back(matrix(sigma, 2, 2));
      return a;
    };
    EXPECT_EQ(d->validate(args(matrix(y, 2, 3)).data()), "");  // K x N: one vector per column
    EXPECT_EQ(d->validate(args(matrix(y, 6, 1)).data()), "");  // flat: consecutive vectors
    const std::string msg = d->validate(args(matrix(y, 3, 2)).data());
    EXPECT_NE(msg.find("y is a 3 x 2 matrix"), std::string::npos) << msg;
    // A location with one vector per observation, given as N x K.
    std::vector<Arg<double>> a = args(matrix(y, 2, 3));
    a[t ? 2 : 1] = matrix(y, 3, 2);
    const std::string mu_msg = d->validate(a.data());
    EXPECT_NE(mu_msg.find("mu is a 3 x 2 matrix"), std::string::npos) << mu_msg;
  }
}

}  // namespace
}  // namespace exmc::dist
