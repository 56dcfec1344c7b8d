// smc service: tempered SMC on the full joint density (every constant kept), so its log Z is the
// log marginal likelihood; with several runs, its standard error across them.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "exmc/services/methods.hpp"
#include "timing.hpp"

namespace exmc::services {
using detail::Clock;
using detail::seconds_since;

namespace {

// How many of the final particles are different points (resampling copies them; only mutation
// moves the copies apart). The rows are ordered in place by index, not copied into a set (2,000
// particles of a 3,845-dimension model were 60 MB of copies).
size_t distinct_particles(const ApproxDraws& p) {
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto row = [&](size_t i) { return p.draw(i); };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::lexicographical_compare(row(a), row(a) + p.dim, row(b), row(b) + p.dim);
  });
  size_t distinct = order.empty() ? 0 : 1;
  for (size_t k = 1; k < order.size(); ++k)
    distinct += !std::equal(row(order[k]), row(order[k]) + p.dim, row(order[k - 1]));
  return distinct;
}

MethodRun run_method(const Program& program, const SmcSettings& s, uint64_t seed) {
  MethodRun run;
  model::CompileOptions co;
  co.propto = false;  // every constant: log Z is then the evidence
  const auto density = detail::compile_timed(program, co, run);
  detail::require_parameters(program, *density);
  const detail::CancellableDensity ld(*density, s.cancel);
  smc::SmcOptions options = s.options;
  if (s.cancel) {
    // Stages go on to beta = 1 with every mutation rejected: the end of a stage is where to stop.
    options.on_stage = [cancel = s.cancel, user = s.options.on_stage](size_t stage, const smc::SmcStage& st) {
      detail::throw_if_cancelled(cancel);
      if (user) user(stage, st);
    };
  }
  const auto t0 = Clock::now();

  // One run: the seed itself. Several: the seeds smc_log_evidence gives its runs, so the estimate
  // is the one it would give; the draws are the first run's.
  smc::SmcResult first;
  std::vector<double> log_z;
  std::string collapsed;  // the first run whose particles end as copies of a few points
  std::string unagreed;   // the first run whose refit passes ended still changing its evidence
  size_t stages = 0, unsettled = 0;  // over every run (the last pass's stages)
  for (unsigned r = 0; r < std::max(1u, s.runs); ++r) {
    const uint64_t run_seed = s.runs <= 1 ? seed : Rng(seed, (uint64_t(4) << 60) | r).next_u64();
    detail::throw_if_cancelled(s.cancel);
    auto result = smc::smc(ld, options, run_seed);
    log_z.push_back(result.log_marginal_likelihood);
    stages += result.stages.size();
    for (const auto& st : result.stages) unsettled += st.unsettled;
    run.grad_evals += result.grad_evals;
    run.logp_evals += result.logp_evals;
    // A reference far narrower than the posterior, or a kernel that cannot move in it (the imh
    // normal on a multimodal posterior), leaves the mutations rejecting everything: the stages
    // still reach beta = 1 and give a number, and the particles are copies of a few points.
    const size_t distinct = distinct_particles(result.particles);
    if (collapsed.empty() && 2 * distinct < result.particles.size())
      collapsed = fmt::format("{}only {} of the {} particles are distinct at the end (the last stage's mutations "
                              "accepted {:.2f} of their proposals): the particles hardly moved, so the draws are "
                              "copies of a few points and the log marginal likelihood is unreliable; try the hmc "
                              "kernel, a reference scale that covers the posterior, or more particles",
                              s.runs > 1 ? fmt::format("run {}: ", r + 1) : "", distinct,
                              result.particles.size(), result.stages.back().acceptance);
    // The refit passes stop once one agrees with the one before (SmcOptions::refit_agreement);
    // still changing at the last, the tempering has not found the evidence: from a reference of
    // sd 1e-300 a 3-dimension normal's (0) went -2069 -> -25.7 in one refit.
    const auto& z = result.pass_log_marginal_likelihoods;
    if (unagreed.empty() && !z.empty() && !(std::abs(result.log_marginal_likelihood - z.back()) < s.options.refit_agreement))
      unagreed = fmt::format(
          "{}the log marginal likelihood still moved from {} to {} in the last of {} refit passes (each tempers "
          "again from a normal fitted to the particles; they stop once two agree within {}): the particles and "
          "the log marginal likelihood are not to be trusted; raise --refit-passes, or use a reference scale "
          "that covers the posterior",
          s.runs > 1 ? fmt::format("run {}: ", r + 1) : "", format_number(z.back()),
          format_number(result.log_marginal_likelihood), z.size(), format_number(s.options.refit_agreement));
    if (r == 0) first = std::move(result);
  }
  run.seconds = seconds_since(t0);

  double mean = 0, ss = 0;
  for (double z : log_z) mean += z / double(log_z.size());
  for (double z : log_z) ss += (z - mean) * (z - mean);
  const double se = log_z.size() > 1 ? std::sqrt(ss / double(log_z.size() - 1) / double(log_z.size())) : 0.0;
  run.extra.push_back({"exmc_log_marginal_likelihood", format_number(mean, 12)});
  if (s.runs > 1) run.extra.push_back({"exmc_log_marginal_likelihood_se", format_number(se, 12)});
  const auto& o = s.options;
  const smc::SmcOptions d;
  const bool hmc = o.kernel == smc::SmcOptions::Kernel::kHmc;
  auto& b = run.method_block;
  b.push_back("method = smc");
  b.push_back("  smc");
  b.push_back(config_line(2, "num_particles", std::to_string(o.num_particles), o.num_particles == d.num_particles));
  b.push_back(config_line(2, "kernel", hmc ? "hmc" : "imh", !hmc));
  b.push_back(config_line(2, "target_ess", format_number(o.target_ess), o.target_ess == d.target_ess));
  b.push_back(config_line(2, "max_mutation_steps", std::to_string(o.max_mutation_steps),
                          o.max_mutation_steps == d.max_mutation_steps));
  b.push_back(config_line(2, "reference_scale", format_number(o.reference_scale), o.reference_scale == d.reference_scale));
  b.push_back(config_line(2, "runs", std::to_string(s.runs), s.runs == 1));
  b.push_back(config_line(2, "refit_passes", std::to_string(o.refit_passes), o.refit_passes == d.refit_passes));
  // Not among CmdStan-shaped method lines (CmdStan has no smc): recorded when it was changed.
  if (o.correlation_threshold != d.correlation_threshold)
    run.extra.push_back({"exmc_correlation_threshold", format_number(o.correlation_threshold)});

  std::string line = "log marginal likelihood " + format_number(mean);
  if (s.runs > 1) line += " (se " + format_number(se) + " over " + std::to_string(s.runs) + " runs)";
  else line += " (one run: --runs 4 gives a standard error)";
  run.notes.push_back(line);
  if (first.pass_log_marginal_likelihoods.empty()) {
    run.notes.push_back(std::to_string(first.stages.size()) + " tempering stages");
  } else {
    // The first pass, from N(0, s^2 I), and the refit passes' own evidence: a large change says
    // the path from that reference missed mass (helper 41: a narrow regression 8-22 nats low).
    std::string passes;
    for (double z : first.pass_log_marginal_likelihoods) passes += (passes.empty() ? "" : ", ") + format_number(z);
    run.notes.push_back(fmt::format(
        "{} tempering stages from the reference and earlier passes, then {} from a normal fitted to the "
        "particles ({} refit pass{}; the log marginal likelihood of the passes before: {}){}",
        first.earlier_pass_stages, first.stages.size(), first.pass_log_marginal_likelihoods.size(),
        first.pass_log_marginal_likelihoods.size() == 1 ? "" : "es", passes, s.runs > 1 ? " in run 1" : ""));
  }
  if (!unagreed.empty())
    run.warnings.push_back(unagreed);
  if (!collapsed.empty()) run.warnings.push_back(collapsed);
  // A stage whose last round still moved the particles (SmcStage::unsettled): on sblri-blr with
  // 2 rounds per stage the particles ended at sigma 14.7 (posterior 0.96) without a word.
  if (unsettled > 0)
    run.warnings.push_back(fmt::format(
        "{} of {} tempering stages reached --max-mutation-steps {} with the particles still moving (their mean "
        "log density still changing beyond its noise): the particles and the log marginal likelihood may be off; "
        "raise --max-mutation-steps",
        unsettled, stages, o.max_mutation_steps));
  // The imh kernel proposes from normals fitted to the particles of other folds (smc's
  // FoldProposals); with fewer particles than d^2 those fits are poor enough that the population
  // still contracts across stages and the log evidence comes out biased upward, while its
  // standard error across runs stays small. Measured on a d-dimension standard normal (log
  // evidence 0), 16 runs each, mean (se), since a stage's rounds go on while the particles move
  // (helper 34; docs/methods.md): d = 50: 500 particles +0.15 (0.05), 1,000 +0.04 (0.02), 2,000
  // +0.005 (0.017), 4,000 -0.006 (0.009). (Before: 500 +2.08, 1,000 +0.080.)
  const size_t dim = density->dim();
  if (!hmc && double(o.num_particles) < double(dim) * double(dim))
    run.warnings.push_back(fmt::format(
        "the imh kernel proposes from normals fitted to the particles, and {} particles in {} dimensions (fewer "
        "than {} squared) are too few for those fits: the log marginal likelihood is biased upward (by about 0.15 on a "
        "50-dimension normal with 500 particles, 0.04 with 1,000), by more than its standard error says; use "
        "--kernel hmc, or --particles {} or more",
        o.num_particles, dim, dim, dim * dim));

  TableBuilder table(program, *density, {"lp__"}, seed);
  const auto& draws = first.particles;
  for (size_t i = 0; i < draws.size(); ++i) {
    detail::throw_if_cancelled(s.cancel);
    table.add(draws.draw(i), &draws.log_p[i]);
  }
  run.draws = table.take();
  detail::warn_of_runaway_values(run);
  return run;
}

}  // namespace

MethodRun smc(const Program& program, const SmcSettings& s, uint64_t seed) {
  return detail::cancellable(s.cancel, [&] { return run_method(program, s, seed); });
}

}  // namespace exmc::services
