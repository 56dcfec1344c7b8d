// The ten benchmark models written against the graph API, compiled in f64 or f32.
#pragma once

#include <memory>
#include <string>

#include "bench_data.hpp"
#include "exmc/core/log_density.hpp"

namespace exmc::bench {

enum class Precision { F64, F32 };

// The same density as make_handwritten (same parameter order, transforms, dropped constants
// and output_vars), built from elementary graph ops the way a Stan-to-graph translation
// would write it, then compiled by exmc::graph::compile<T>.
std::unique_ptr<LogDensity> make_graph_model(const std::string& model, const BenchData& data,
                                             Precision precision);

}  // namespace exmc::bench
