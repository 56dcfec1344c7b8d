// Umbrella header for running chains:
//   exmc::runtime::RunConfig cfg;                // 4 chains, seed 1, Stan's sampler defaults
//   cfg.sampler.metric_adaptation = exmc::nuts::MetricAdaptation::Gradient;  // nutpie-style
//   auto result = exmc::runtime::run_chains(density, cfg, [](const exmc::runtime::DrawEvent& e) {
//     /* e.chain, e.warmup, e.values (constrained), e.stats */ });
//   result.throw_if_failed();
// For CmdStan CSV files while sampling, see exmc/io/cmdstan_csv_sink.hpp.
#pragma once

#include "exmc/nuts/nuts.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/runtime/progress.hpp"
#include "exmc/runtime/run_chains.hpp"
