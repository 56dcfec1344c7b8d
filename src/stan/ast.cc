// Names of Stan base types and blocks; Program equality (functions and blocks, not file).
#include "exmc/stan/ast.hpp"

namespace exmc::stan {

const char* base_type_name(BaseType t) {
  switch (t) {
    case BaseType::Int: return "int";
    case BaseType::Real: return "real";
    case BaseType::Complex: return "complex";
    case BaseType::Vector: return "vector";
    case BaseType::RowVector: return "row_vector";
    case BaseType::Matrix: return "matrix";
    case BaseType::ComplexVector: return "complex_vector";
    case BaseType::ComplexRowVector: return "complex_row_vector";
    case BaseType::ComplexMatrix: return "complex_matrix";
    case BaseType::Simplex: return "simplex";
    case BaseType::Ordered: return "ordered";
    case BaseType::PositiveOrdered: return "positive_ordered";
    case BaseType::UnitVector: return "unit_vector";
    case BaseType::SumToZeroVector: return "sum_to_zero_vector";
    case BaseType::CholeskyFactorCorr: return "cholesky_factor_corr";
    case BaseType::CholeskyFactorCov: return "cholesky_factor_cov";
    case BaseType::CorrMatrix: return "corr_matrix";
    case BaseType::CovMatrix: return "cov_matrix";
  }
  return "?";
}

const char* block_name(BlockKind b) {
  switch (b) {
    case BlockKind::Functions: return "functions";
    case BlockKind::Data: return "data";
    case BlockKind::TransformedData: return "transformed data";
    case BlockKind::Parameters: return "parameters";
    case BlockKind::TransformedParameters: return "transformed parameters";
    case BlockKind::Model: return "model";
    case BlockKind::GeneratedQuantities: return "generated quantities";
  }
  return "?";
}

bool Program::operator==(const Program& o) const {
  if (!(functions == o.functions)) return false;
  for (int i = 0; i < kNumBlocks; ++i)
    if (!(blocks[i] == o.blocks[i])) return false;
  return true;
}

}  // namespace exmc::stan
