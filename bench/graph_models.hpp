// The ten benchmark models written against the graph API, compiled in f64 or f32.
#pragma once

#include <memory>
#include <string>

#include "bench_data.hpp"
#include "exmc/core/log_density.hpp"

namespace exmc::bench {

enum class Precision { F64, F32 };

// Elementary: each `~` written out as the elementary ops of the terms Stan keeps.
// Fused: each `~` one dist_lpdf node (the kernels of src/dist, propto), as the model layer emits.
enum class GraphStyle { Elementary, Fused };

// The same density as make_handwritten (same parameter order, transforms, dropped constants
// and output_vars), built with the graph API in the given style and compiled by
// exmc::graph::compile<T>.
std::unique_ptr<LogDensity> make_graph_model(const std::string& model, const BenchData& data,
                                             Precision precision,
                                             GraphStyle style = GraphStyle::Elementary);

}  // namespace exmc::bench
