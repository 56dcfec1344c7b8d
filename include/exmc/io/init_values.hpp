// A Stan JSON file of constrained values by name (`--init FILE.json`, log_prob's
// `--constrained-params`), checked against the variables they are for.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/io/stan_json.hpp"

namespace exmc::io {

// Every value of `json`, flattened column-major (as LogDensity::unconstrain takes them), in the
// file's order. A value named as one of `vars` must have its shape (a vector[4] given as
// [[1, 2], [3, 4]], a matrix[2, 2] as [[1, 2, 3, 4]] or a vector[1] as 0.5 is refused; an empty
// variable may be given as any empty array); other names are passed through for the caller to
// ignore or warn about. Throws std::invalid_argument "PATH: variable 'NAME': expected ..., found ...".
std::vector<std::pair<std::string, std::vector<double>>> init_values(const StanJsonData& json,
                                                                     const std::vector<VarInfo>& vars,
                                                                     const std::string& path);

}  // namespace exmc::io
