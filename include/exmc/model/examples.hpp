// The benchmark models of ../shared/bench written with the builder API, from their Stan JSON
// data. Each reproduces its Stan program's parameterisation (non-centring is off for every
// variable, so centred models stay centred) and its output order (parameters, then
// transformed parameters).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "exmc/model/model.hpp"

namespace exmc::model::examples {

// "simple", "medium", "stress", "eight_schools_centered", "eight_schools_noncentered",
// "funnel", "logistic", "sv", "hier_big", "logistic_big".
const std::vector<std::string>& bench_model_names();

// Builds one of them. Throws std::invalid_argument for an unknown name, or naming the data
// field that is missing or of the wrong size.
std::unique_ptr<Model> bench_model(std::string_view name, const nlohmann::json& data);

// Reads <data_dir>/<name>.json and builds the model.
std::unique_ptr<Model> load_bench_model(std::string_view name, const std::string& data_dir);

}  // namespace exmc::model::examples
