// exmc-bench: gradient timing (`grad`), sampler runs (`sample`), draws ESS (`ess`) and Exmc's seed
// protocol through the `exmc` command (`seed-table`) on the benchmark models.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_data.hpp"
#include "handwritten.hpp"
#ifdef EXMC_BENCH_HAVE_GRAPH
#include "graph_models.hpp"
#endif
#ifdef EXMC_BENCH_HAVE_BUILDER
#include "exmc/model/examples.hpp"
#endif
#ifdef EXMC_BENCH_HAVE_RUNTIME
#include "exmc/runtime/runtime.hpp"
#endif
#ifdef EXMC_BENCH_HAVE_ANALYSIS
#include "exmc/analysis/convergence.hpp"
#endif
#ifdef EXMC_BENCH_HAVE_SEED_TABLE
#include "seed_table.hpp"
#endif

namespace {

using exmc::LogDensity;
using exmc::bench::BenchData;
using Clock = std::chrono::steady_clock;

volatile double g_sink;  // keeps the timed calls from being optimised away

// Times logp_grad in batches of about batch_ms; median() is over all batches taken.
class GradTimer {
 public:
  GradTimer(const LogDensity& m, const std::vector<double>& x, double batch_ms)
      : m_(m), x_(x), g_(m.dim()) {
    for (int i = 0; i < 3; ++i) acc_ += m_.logp_grad(x_.data(), g_.data());
    long n = 1;
    for (;;) {  // grow until one batch is measurable, then scale to batch_ms
      const double ms = run(n) * 1e-6 * double(n);
      if (ms >= batch_ms / 4 || n > (1L << 30)) {
        n_ = std::max(1L, long(double(n) * batch_ms / std::max(ms, 1e-6)));
        break;
      }
      n *= 4;
    }
  }
  void batch() { samples_.push_back(run(n_)); }
  double median() {
    g_sink = acc_ + g_[0];
    if (samples_.empty()) return NAN;
    auto mid = samples_.begin() + long(samples_.size() / 2);
    std::nth_element(samples_.begin(), mid, samples_.end());
    return *mid;
  }

 private:
  double run(long n) {  // ns per call over n calls
    const auto t0 = Clock::now();
    for (long i = 0; i < n; ++i) acc_ += m_.logp_grad(x_.data(), g_.data());
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / double(n);
  }
  const LogDensity& m_;
  const std::vector<double>& x_;
  std::vector<double> g_;
  std::vector<double> samples_;
  long n_ = 1;
  double acc_ = 0;
};

std::vector<double> bench_point(size_t dim, const std::string& model) {
  // A fixed, model-specific point in the typical range of the unconstrained scale.
  std::seed_seq seq(model.begin(), model.end());
  std::mt19937_64 rng(seq);
  std::uniform_real_distribution<double> unif(-1.0, 1.0);
  std::vector<double> x(dim);
  for (auto& v : x) v = unif(rng);
  return x;
}

std::string fmt_ns(double ns) { return std::isfinite(ns) ? fmt::format("{:.1f}", ns) : "NA"; }

struct Options {
  std::string shared_dir = EXMC_SHARED_DIR;
  std::vector<std::string> models;
  // Short batches: on a shared machine a batch shorter than a scheduler slice is rarely
  // preempted, so the median over many of them stays the undisturbed cost.
  int reps = 301;
  double batch_ms = 0.25;
  std::vector<unsigned> seeds = {1, 2, 3, 4, 5};
  std::vector<std::string> metrics = {"windowed", "gradient"};
  std::string out_dir;
#ifdef EXMC_BENCH_HAVE_BUILDER
  std::string graph_style = "builder";
#else
  std::string graph_style = "elementary";
#endif
  unsigned warmup = 1000, samples = 1000;
};

#ifdef EXMC_BENCH_HAVE_GRAPH
exmc::bench::GraphStyle graph_style(const Options& o) {
  if (o.graph_style == "elementary") return exmc::bench::GraphStyle::Elementary;
  if (o.graph_style == "fused") return exmc::bench::GraphStyle::Fused;
  throw std::runtime_error("--graph-style must be builder, elementary or fused, got '" + o.graph_style + "'");
}

// The model as a user declares it: the builder API (model::examples), compiled through the
// model layer's passes; centred as written (Stan's parameterisation, so the work compared is
// the same); "elementary"/"fused" are the hand-built graphs of bench/graph_models.cc.
std::unique_ptr<LogDensity> make_graph(const Options& o, const std::string& name, const BenchData& data,
                                       exmc::bench::Precision precision) {
#ifdef EXMC_BENCH_HAVE_BUILDER
  if (o.graph_style == "builder") {
    auto m = exmc::model::examples::load_bench_model(name, o.shared_dir + "/bench/data");
    exmc::model::CompileOptions co;
    co.ncp = exmc::model::Ncp::kOff;
    if (precision == exmc::bench::Precision::F32) return m->compile<float>(co);
    return m->compile<double>(co);
  }
#endif
  return exmc::bench::make_graph_model(name, data, precision, graph_style(o));
}
#endif

int cmd_grad(const Options& o) {
  std::printf("model\tdim\tgraph_f64_ns\tgraph_f32_ns\thandwritten_ns\n");
  for (const auto& name : o.models) {
    BenchData data(exmc::bench::data_path(o.shared_dir, name));
    std::vector<std::unique_ptr<LogDensity>> impls(3);  // graph f64, graph f32, hand-written
#ifdef EXMC_BENCH_HAVE_GRAPH
    impls[0] = make_graph(o, name, data, exmc::bench::Precision::F64);
    impls[1] = make_graph(o, name, data, exmc::bench::Precision::F32);
#endif
    impls[2] = exmc::bench::make_handwritten(name, data);
    if (impls[0] && impls[0]->dim() != impls[2]->dim())
      throw std::runtime_error(name + ": the graph model has dimension " + std::to_string(impls[0]->dim()) +
                               ", the hand-written one " + std::to_string(impls[2]->dim()));
    const auto x = bench_point(impls[2]->dim(), name);
    std::vector<std::unique_ptr<GradTimer>> timers(3);
    for (size_t k = 0; k < 3; ++k)
      if (impls[k]) timers[k] = std::make_unique<GradTimer>(*impls[k], x, o.batch_ms);
    // Batches interleave across the implementations so load bursts on a shared machine hit
    // all columns alike.
    for (int r = 0; r < o.reps; ++r)
      for (auto& t : timers)
        if (t) t->batch();
    double ns[3];
    for (size_t k = 0; k < 3; ++k) ns[k] = timers[k] ? timers[k]->median() : NAN;
    std::printf("%s\t%zu\t%s\t%s\t%s\n", name.c_str(), impls[2]->dim(), fmt_ns(ns[0]).c_str(),
                fmt_ns(ns[1]).c_str(), fmt_ns(ns[2]).c_str());
    std::fflush(stdout);
  }
  return 0;
}

#ifdef EXMC_BENCH_HAVE_RUNTIME
// One chain per run; writes the sampling draws (constrained parameters) as CSV when asked, so
// bulk ESS can be computed identically for exmc and Stan.
int cmd_sample(const Options& o, const std::string& impl) {
  std::printf("model\timpl\tmetric\tseed\tsampling_s\twarmup_s\tgrad_evals\tdivergences\tstepsize\n");
  for (const auto& name : o.models) {
    BenchData data(exmc::bench::data_path(o.shared_dir, name));
    std::unique_ptr<LogDensity> m;
#ifdef EXMC_BENCH_HAVE_GRAPH
    if (impl == "graph")
      m = make_graph(o, name, data, exmc::bench::Precision::F64);
#endif
    if (impl == "handwritten") m = exmc::bench::make_handwritten(name, data);
    if (!m) throw std::runtime_error("--impl " + impl + " is not available in this build");
    for (const auto& metric : o.metrics) {
      for (unsigned seed : o.seeds) {
        exmc::runtime::RunConfig cfg;
        cfg.num_chains = 1;
        cfg.num_threads = 1;
        cfg.seed = seed;
        cfg.progress.enabled = false;
        cfg.sampler.num_warmup = o.warmup;
        cfg.sampler.num_samples = o.samples;
        cfg.sampler.max_depth = 10;
        cfg.sampler.dual_averaging.delta = 0.8;
        if (metric == "windowed")
          cfg.sampler.metric_adaptation = exmc::nuts::MetricAdaptation::Windowed;
        else if (metric == "gradient")
          cfg.sampler.metric_adaptation = exmc::nuts::MetricAdaptation::Gradient;
        else
          throw std::runtime_error("--metric must be windowed or gradient, got '" + metric + "'");
        auto res = exmc::runtime::run_chains(*m, cfg);
        res.throw_if_failed();
        const auto& c = res.chains.at(0);
        std::printf("%s\t%s\t%s\t%u\t%.6f\t%.6f\t%llu\t%llu\t%.6g\n", name.c_str(), impl.c_str(),
                    metric.c_str(), seed, c.sampling_seconds, c.warmup_seconds,
                    (unsigned long long)c.grad_evals, (unsigned long long)c.divergences,
                    c.adaptation.step_size);
        std::fflush(stdout);
        if (!o.out_dir.empty()) {
          const std::string path =
              fmt::format("{}/exmc_{}_{}_{}_seed{}.csv", o.out_dir, impl, name, metric, seed);
          std::ofstream f(path);
          if (!f) throw std::runtime_error(path + ": cannot write");
          for (size_t j = 0; j < res.names.size(); ++j) f << (j ? "," : "") << res.names[j];
          f << "\n";
          for (size_t i = 0; i < c.num_draws(); ++i) {
            const double* d = c.draw(i);
            for (size_t j = 0; j < c.num_values; ++j) f << (j ? "," : "") << fmt::format("{}", d[j]);
            f << "\n";
          }
        }
      }
    }
  }
  return 0;
}
#endif

#ifdef EXMC_BENCH_HAVE_ANALYSIS
// Min bulk ESS (exmc::analysis::ess_bulk, one chain) over the columns of a plain draws CSV (a
// header of names, quoted or not, then one row of numbers per draw), as both exmc-bench sample
// and bench/stan/run_stan.R write them.
double csv_min_bulk_ess(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(path + ": empty file");
  const size_t ncol = size_t(std::count(line.begin(), line.end(), ',')) + 1;
  std::vector<std::vector<double>> cols(ncol);
  size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    const char* p = line.c_str();
    for (size_t j = 0; j < ncol; ++j) {
      char* end = nullptr;
      const double v = std::strtod(p, &end);
      if (end == p || (j + 1 < ncol && *end != ',') || (j + 1 == ncol && *end != '\0' && *end != '\r'))
        throw std::runtime_error(path + ":" + std::to_string(lineno) + ": expected " +
                                 std::to_string(ncol) + " comma-separated numbers");
      cols[j].push_back(v);
      p = end + 1;
    }
  }
  double m = INFINITY;
  for (const auto& c : cols)
    m = std::min(m, exmc::analysis::ess_bulk({c.data(), c.size(), 1}));
  return m;
}

int cmd_ess(const std::vector<std::string>& files) {
  for (const auto& f : files) std::printf("%s\t%.10g\n", f.c_str(), csv_min_bulk_ess(f));
  return 0;
}
#endif

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= s.size()) {
    size_t q = s.find(',', p);
    if (q == std::string::npos) q = s.size();
    if (q > p) out.push_back(s.substr(p, q - p));
    p = q + 1;
  }
  return out;
}

void usage() {
  std::fprintf(stderr,
               "usage: exmc-bench grad   [--models a,b] [--reps N] [--batch-ms MS] [--shared DIR]\n"
               "                         [--graph-style builder|elementary|fused]\n"
               "       exmc-bench sample [--models a,b] [--seeds 1,2,..] [--metric windowed,gradient]\n"
               "                         [--impl graph|handwritten] [--graph-style builder|elementary|fused]\n"
               "                         [--out DIR] [--warmup N] [--samples N]\n"
               "       exmc-bench ess FILE.csv...   (min bulk ESS per draws CSV, exmc's diagnostics)\n"
               "       exmc-bench seed-table [--models a,b] [--precision f64,f32] [--seeds 1-10] [--div-seeds 1-20]\n"
               "                         [--reps 3] [--table-seed 42] [--warmup 500] [--draws 500] [--out DIR]\n"
               "                         [--exmc PATH]   (Exmc's protocol through whole `exmc sample` runs)\n"
               "Models default to all ten; --shared is the folder holding bench/models and bench/data.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  const std::string cmd = argv[1];
#ifdef EXMC_BENCH_HAVE_SEED_TABLE
  if (cmd == "seed-table") {
    try {
      return exmc::bench::cmd_seed_table(argc - 2, argv + 2);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exmc-bench: %s\n", e.what());
      return 1;
    }
  }
#endif
#ifdef EXMC_BENCH_HAVE_ANALYSIS
  if (cmd == "ess") {
    try {
      return cmd_ess(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exmc-bench: %s\n", e.what());
      return 1;
    }
  }
#endif
  Options o;
  o.models = exmc::bench::model_names();
#ifdef EXMC_BENCH_HAVE_GRAPH
  std::string impl = "graph";
#else
  std::string impl = "handwritten";
#endif
  try {
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      auto val = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--models") o.models = split(val());
      else if (a == "--reps") o.reps = std::stoi(val());
      else if (a == "--batch-ms") o.batch_ms = std::stod(val());
      else if (a == "--shared") o.shared_dir = val();
      else if (a == "--seeds") {
        o.seeds.clear();
        for (const auto& s : split(val())) o.seeds.push_back(unsigned(std::stoul(s)));
      } else if (a == "--metric") o.metrics = split(val());
      else if (a == "--impl") impl = val();
      else if (a == "--out") o.out_dir = val();
      else if (a == "--graph-style") o.graph_style = val();
      else if (a == "--warmup") o.warmup = unsigned(std::stoul(val()));
      else if (a == "--samples") o.samples = unsigned(std::stoul(val()));
      else if (a == "-h" || a == "--help") {
        usage();
        return 0;
      } else throw std::runtime_error("unknown option '" + a + "'");
    }
    if (o.reps < 1) throw std::runtime_error("--reps must be >= 1");
    for (const auto& m : o.models) {
      const auto& all = exmc::bench::model_names();
      if (std::find(all.begin(), all.end(), m) == all.end())
        throw std::runtime_error("unknown model '" + m + "'");
    }
    if (cmd == "grad") return cmd_grad(o);
#ifdef EXMC_BENCH_HAVE_RUNTIME
    if (cmd == "sample") return cmd_sample(o, impl);
#endif
    usage();
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exmc-bench: %s\n", e.what());
    return 1;
  }
}
