// Umbrella header for the NUTS sampler: configuration, one-chain sampler, saved adaptation.
//
// Most callers want exmc/runtime/runtime.hpp (run_chains) instead; this is for driving a single
// chain by hand:
//   exmc::nuts::SamplerConfig cfg;               // Stan defaults: 1000 + 1000, diag_e, depth 10
//   exmc::nuts::ChainSampler chain(density, cfg, /*seed=*/1, /*chain=*/0);
//   chain.initialize();
//   for (unsigned i = 0; i < cfg.num_warmup + cfg.num_samples; ++i) chain.iterate();
#pragma once

#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/nuts/chain_sampler.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/nuts/metric.hpp"
#include "exmc/nuts/nuts_tree.hpp"
#include "exmc/nuts/sample_stats.hpp"
#include "exmc/nuts/sampler_config.hpp"
