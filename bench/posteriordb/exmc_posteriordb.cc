// exmc-posteriordb: run every posteriordb posterior (or a subset) with exmc's NUTS and grade it
// against the gold-standard reference. One row per posterior as it finishes, then a total;
// exit 1 when a gated posterior does not pass (the CI test relies on it), 2 on bad usage.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "posteriordb.hpp"

namespace pdb = exmc::posteriordb;

namespace {

std::string num(double x, int digits) {
  return std::isfinite(x) ? fmt::format("{:.{}f}", x, digits) : std::string("NA");
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

struct Columns {
  bool tsv;
  bool init_columns;  // --init given: init_grad_evals and warmup_grad_evals after grad_evals
  void header() const {
    row({"posterior", "dim", "status", "wall_s", "grad_evals", "min_ess_bulk", "ess_per_s",
         "max_rhat", "divergent", "worst_z_mean", "worst_z_sd", "control", "checks"},
        {"init_grad_evals", "warmup_grad_evals"});
  }
  // `extra` goes after the fifth cell (grad_evals), only with init_columns.
  void row(std::vector<std::string> cells, const std::vector<std::string>& extra) const {
    std::vector<int> widths = {40, 4, 11, 8, 11, 12, 10, 8, 9, 12, 10, 8, 0};
    if (init_columns) {
      cells.insert(cells.begin() + 5, extra.begin(), extra.end());
      widths.insert(widths.begin() + 5, {15, 17});
    }
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (tsv) line += (i ? "\t" : "") + cells[i];
      else if (i == 0) line += fmt::format("{:<{}}", cells[i], widths[i]);
      else if (i + 1 == cells.size()) line += "  " + cells[i];
      else line += fmt::format(" {:>{}}", cells[i], widths[i]);
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run posteriordb posteriors with exmc's NUTS and grade them against the reference"};
  std::string root = EXMC_SHARED_DIR "/posteriordb";
  std::vector<std::string> only;
  bool fast = false, tsv = false, detail = false;
  pdb::RunOptions run;
  app.add_option("--root", root, "posteriordb folder (one sub-folder per posterior)");
  auto* only_opt = app.add_option("--only", only,
                                  "posteriors to run: folder names or model names "
                                  "(kidscore_momiq), comma-separated")
                       ->delimiter(',');
  app.add_flag("--fast", fast, "only the CI subset (see README.md)")->excludes(only_opt);
  app.add_option("--chains", run.chains, "chains per posterior")->check(CLI::Range(1u, 64u));
  app.add_option("--warmup", run.warmup, "warmup iterations per chain");
  app.add_option("--draws", run.draws, "post-warmup draws per chain")->check(CLI::Range(4u, 1000000u));
  app.add_option("--seed", run.seed, "random seed (chains use streams 0..chains-1)");
  app.add_option("--threads", run.threads, "threads for the chains (0: min(chains, cores))");
  bool default_control = false;
  app.add_flag("--default-control", default_control,
               "exmc's default adapt_delta 0.8 and max_treedepth 10 everywhere, not the "
               "reference's settings");
  std::string init = "default";
  auto* init_opt = app.add_option("--init", init,
                                  "how chains start: default (exmc's), or pathfinder (Pathfinder draws "
                                  "as initial points, their variance as the initial inverse metric); "
                                  "given: adds init_grad_evals and warmup_grad_evals columns")
                       ->check(CLI::IsMember({"default", "pathfinder"}));
  std::string precision = "f64";
  app.add_option("--precision", precision, "the density's arithmetic: f64, or f32 (float nodes, double sums)")
      ->check(CLI::IsMember({"f64", "f32"}));
  app.add_flag("--tsv", tsv, "tab-separated output");
  app.add_flag("--detail", detail, "per-quantity comparison for every posterior that does not pass");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is 0; every usage error is 2, as documented
  }
  run.reference_control = !default_control;
  run.single_precision = precision == "f32";
  const bool init_given = init_opt->count() > 0;
  if (init == "pathfinder") run.init = pdb::RunOptions::Init::Pathfinder;

  std::vector<std::string> selection;
  try {
    auto available = pdb::list_posteriors(root);
    if (fast) {
      for (const auto& name : pdb::fast_subset()) only.push_back(name);
    }
    if (only.empty()) {
      selection = available;
    } else {
      for (const auto& name : only) {
        auto matched = pdb::select_posteriors(available, name);
        if (matched.empty()) {
          std::fprintf(stderr, "exmc-posteriordb: no posterior named '%s' under %s\n",
                       name.c_str(), root.c_str());
          return 2;
        }
        for (auto& m : matched)
          if (std::find(selection.begin(), selection.end(), m) == selection.end())
            selection.push_back(m);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exmc-posteriordb: %s\n", e.what());
    return 2;
  }

  std::printf("# exmc-posteriordb: %zu posteriors, %u chains x %u warmup + %u draws, seed %llu, "
              "%s adapt_delta/max_treedepth\n",
              selection.size(), run.chains, run.warmup, run.draws,
              static_cast<unsigned long long>(run.seed),
              default_control ? "default (0.8/10)" : "the reference's");
  if (run.single_precision) std::printf("# precision: f32\n");
  if (init_given) std::printf("# init: %s\n", init.c_str());
  Columns cols{tsv, init_given};
  cols.header();

  auto t0 = std::chrono::steady_clock::now();
  std::vector<pdb::Outcome> outcomes;
  for (const auto& name : selection) {
    auto o = pdb::run_posterior(root, name, run);
    replace_all(o.message, (std::filesystem::path(root) / name).string() + "/", "");
    bool sampled = o.status == pdb::Status::Pass || o.status == pdb::Status::Fail;
    std::string status = pdb::status_name(o.status);
    if (!o.gated) status = "diag:" + status;
    cols.row({o.posterior, o.dim ? std::to_string(o.dim) : "-", status,
              num(o.load_seconds + o.init_seconds + o.sample_seconds, 2),
              sampled ? std::to_string(o.grad_evals) : "-",
              sampled ? num(o.min_ess_bulk, 0) : "-", sampled ? num(o.ess_per_second(), 0) : "-",
              sampled ? num(o.max_rhat, 3) : "-",
              sampled ? std::to_string(o.divergences) : "-",
              sampled ? num(std::abs(o.worst_z_mean), 2) : "-",
              sampled ? num(std::abs(o.worst_z_sd), 2) : "-",
              sampled ? fmt::format("{:g}/{}", o.adapt_delta, o.max_treedepth) : "-",
              o.failures.empty() ? "-" : join(o.failures, " ")},
             {sampled ? std::to_string(o.init_grad_evals) : "-",
              sampled ? std::to_string(o.warmup_grad_evals) : "-"});
    outcomes.push_back(std::move(o));
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  size_t graded = 0, passed = 0, failed = 0, not_lowered = 0, errors = 0, diagnostic = 0;
  for (const auto& o : outcomes) {
    if (!o.gated) {
      ++diagnostic;
      continue;
    }
    ++graded;
    switch (o.status) {
      case pdb::Status::Pass: ++passed; break;
      case pdb::Status::Fail: ++failed; break;
      case pdb::Status::NotLowered: ++not_lowered; break;
      case pdb::Status::Error: ++errors; break;
    }
  }
  std::printf("# total: %zu/%zu passed (%zu failed, %zu not lowered, %zu errors); "
              "%zu diagnostic only; %.1f s\n",
              passed, graded, failed, not_lowered, errors, diagnostic, wall);

  for (const auto& o : outcomes) {
    if (!o.message.empty())
      std::printf("# %s: %s: %s\n", o.posterior.c_str(), pdb::status_name(o.status),
                  o.message.c_str());
  }
  if (detail) {
    for (const auto& o : outcomes) {
      if (o.status != pdb::Status::Fail) continue;
      std::printf("# %s: max R-hat %s (%s), min bulk ESS %s (%s), %llu/%zu divergent\n",
                  o.posterior.c_str(), num(o.max_rhat, 4).c_str(), o.max_rhat_variable.c_str(),
                  num(o.min_ess_bulk, 0).c_str(), o.min_ess_variable.c_str(),
                  static_cast<unsigned long long>(o.divergences), o.post_warmup_draws);
      for (size_t k = 0; k < o.chains.size(); ++k) {
        const auto& ch = o.chains[k];
        std::printf("#   chain %zu: %llu divergent, %llu density faults, step size %.3g, mean tree depth "
                    "%.2f, mean accept_stat %.3f, mean lp__ %.6g\n",
                    k + 1, static_cast<unsigned long long>(ch.divergences),
                    static_cast<unsigned long long>(ch.recoveries), ch.step_size,
                    ch.mean_tree_depth, ch.mean_accept, ch.mean_lp);
      }
      for (const auto& c : o.checks) {
        if (!c.found) {
          std::printf("#   %-16s not among exmc's outputs\n", c.name.c_str());
          continue;
        }
        std::printf("#   %-16s mean %11.5g ref %11.5g z %6s (exmc-only %6s)   sd %11.5g ref %11.5g z %6s (exmc-only %6s)%s\n",
                    c.name.c_str(), c.mean, c.ref_mean, num(c.z_mean, 2).c_str(),
                    num(c.z_mean_exmc, 2).c_str(), c.sd, c.ref_sd, num(c.z_sd, 2).c_str(),
                    num(c.z_sd_exmc, 2).c_str(), c.pass ? "" : "   <-");
      }
    }
  }
  return passed == graded ? 0 : 1;
}
