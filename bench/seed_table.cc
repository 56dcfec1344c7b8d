// exmc-bench seed-table: the benchmark protocol of Exmc (the Elixir system exmc re-implements),
// run through the `exmc` command as a user runs it. Per model and precision: one chain, 500
// warmup + 500 draws, seed 42 (the seed's own protocol), plus medians over more seeds; each run is
// a whole `exmc sample` process, timed from spawn to exit, repeated --reps times (interleaved)
// and the median taken. Reports whole-process and sampling milliseconds, the time to the model
// being ready (parse .. machine code), min bulk ESS over the parameters block (exmc's
// rank-normalised bulk ESS), ESS/s per sampling second and per whole-process second, and
// divergences; and divergence totals f64 vs f32 over the seeds.
#include "seed_table.hpp"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "bench_data.hpp"
#include "exmc/analysis/convergence.hpp"
#include "handwritten.hpp"

extern char** environ;

namespace exmc::bench {
namespace {

struct Config {
  std::string exmc = EXMC_BENCH_EXMC_CLI;
  std::string shared_dir = EXMC_SHARED_DIR;
  std::vector<std::string> models = {"simple", "medium", "stress", "eight_schools_centered",
                                     "eight_schools_noncentered", "funnel"};
  std::vector<std::string> precisions = {"f64", "f32"};
  unsigned table_seed = 42;
  std::vector<unsigned> seeds;      // the median seeds (default 1..10)
  std::vector<unsigned> div_seeds;  // extra seeds run once, for divergence totals (default 1..20)
  int reps = 3;
  unsigned warmup = 500, draws = 500;
  std::string out_dir;
};

struct Run {
  std::string model, precision;
  unsigned seed = 0;
  int rep = 0;
  double wall_ms = NAN, cpu_ms = NAN, ready_ms = NAN, warmup_ms = NAN, sampling_ms = NAN;
  double min_ess = NAN;
  long divergences = -1, grad_evals = -1;
  std::string backend = "?";  // from "model ready in ..., machine code)" on stderr
};

std::vector<unsigned> parse_seeds(const std::string& s) {
  std::vector<unsigned> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    if (tok.empty() || tok == "none") continue;
    const auto dash = tok.find('-');
    if (dash != std::string::npos && dash > 0) {
      const unsigned a = unsigned(std::stoul(tok.substr(0, dash))), b = unsigned(std::stoul(tok.substr(dash + 1)));
      if (b < a) throw std::runtime_error("seed range '" + tok + "' is empty");
      for (unsigned k = a; k <= b; ++k) out.push_back(k);
    } else {
      out.push_back(unsigned(std::stoul(tok)));
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (!tok.empty()) out.push_back(tok);
  return out;
}

std::string model_path(const std::string& shared, const std::string& model) {
  return shared + "/bench/models/" + (model == "logistic_big" ? std::string("logistic") : model) + ".stan";
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs argv with stdout to /dev/null and stderr to err_path; returns wall milliseconds from
// spawn to exit, and in cpu_ms the child's user + system CPU time (less sensitive to other
// processes' load than the wall time). Throws on a failed spawn or a non-zero exit (naming the log).
double run_process(const std::vector<std::string>& argv, const std::string& err_path, double& cpu_ms) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error(argv[0] + ": cannot start (errno " + std::to_string(rc) + ")");
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  cpu_ms = (double(ru.ru_utime.tv_sec) + double(ru.ru_stime.tv_sec)) * 1e3 +
           (double(ru.ru_utime.tv_usec) + double(ru.ru_stime.tv_usec)) * 1e-3;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("{} failed (status {}); its stderr: {}", argv[0], status, err_path));
  return ms;
}

// Number just before `marker` in `line` (e.g. "0.0021 seconds (Warm-up)"), NAN when absent.
double number_before(const std::string& line, const std::string& marker) {
  const auto p = line.find(marker);
  if (p == std::string::npos) return NAN;
  size_t b = p;
  while (b > 0 && line[b - 1] == ' ') --b;
  size_t a = b;
  while (a > 0 && line[a - 1] != ' ' && line[a - 1] != '#') --a;
  return std::strtod(line.substr(a, b - a).c_str(), nullptr);
}

double number_after(const std::string& line, const std::string& marker) {
  const auto p = line.find(marker);
  if (p == std::string::npos) return NAN;
  return std::strtod(line.c_str() + p + marker.size(), nullptr);
}

// Reads one exmc CSV: divergences, min bulk ESS over the first `dim` non-diagnostic columns (the
// parameters block, constrained: for these models one column per unconstrained dimension),
// and the timings of its footer.
void read_csv(const std::string& path, size_t dim, Run& r) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::string line;
  std::vector<std::string> names;
  std::vector<std::vector<double>> cols;
  long div = 0;
  size_t div_col = size_t(-1), first_param = size_t(-1);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      const double w = number_before(line, "seconds (Warm-up)");
      if (std::isfinite(w)) r.warmup_ms = w * 1e3;
      const double s = number_before(line, "seconds (Sampling)");
      if (std::isfinite(s)) r.sampling_ms = s * 1e3;
      continue;
    }
    if (names.empty()) {
      names = split(line);
      for (size_t j = 0; j < names.size(); ++j) {
        const auto& n = names[j];
        if (n == "divergent__") div_col = j;
        if (first_param == size_t(-1) && !(n.size() > 2 && n.compare(n.size() - 2, 2, "__") == 0)) first_param = j;
      }
      if (div_col == size_t(-1) || first_param == size_t(-1) || first_param + dim > names.size())
        throw std::runtime_error(path + ": unexpected header");
      cols.assign(dim, {});
      continue;
    }
    const char* p = line.c_str();
    for (size_t j = 0; j < names.size(); ++j) {
      char* end = nullptr;
      const double v = std::strtod(p, &end);
      if (end == p) throw std::runtime_error(path + ": a row that is not numbers");
      if (j == div_col && v != 0) ++div;
      if (j >= first_param && j < first_param + dim) cols[j - first_param].push_back(v);
      p = (*end == ',') ? end + 1 : end;
    }
  }
  if (cols.empty() || cols[0].empty()) throw std::runtime_error(path + ": no draws");
  double m = INFINITY;
  for (const auto& c : cols) m = std::min(m, exmc::analysis::ess_bulk({c.data(), c.size(), 1}));
  r.min_ess = m;
  r.divergences = div;
}

// From exmc's stderr: "model ready in X ms" and "N gradient evaluations".
void read_log(const std::string& path, Run& r) {
  std::ifstream in(path);
  std::string line;
  long g = -1;
  while (std::getline(in, line)) {
    const double ready = number_after(line, "model ready in ");
    if (std::isfinite(ready)) {
      r.ready_ms = ready;
      const auto a = line.rfind(", "), b = line.rfind(')');
      if (a != std::string::npos && b != std::string::npos && b > a + 2) r.backend = line.substr(a + 2, b - a - 2);
    }
    const auto p = line.find(" gradient evaluations");
    if (p == std::string::npos) continue;
    size_t a = p;
    while (a > 0 && std::isdigit(static_cast<unsigned char>(line[a - 1]))) --a;
    if (a < p) g = std::stol(line.substr(a, p - a));
  }
  r.grad_evals = g;
}

std::string fnum(double v, int prec = 1) {
  if (!std::isfinite(v)) return "NA";
  if (std::fabs(v) >= 1e4) return fmt::format("{:.0f}", v);
  return fmt::format("{:.{}f}", v, prec);
}

struct Cell {  // one (model, precision, seed): reps combined
  double wall_ms, cpu_ms, ready_ms, sampling_ms, ess;
  long div, grads;
  bool consistent;  // every rep gave the same draws (ESS and divergences)
};

}  // namespace

int cmd_seed_table(int argc, char** argv) {
  Config c;
  c.seeds = parse_seeds("1-10");
  c.div_seeds = parse_seeds("1-20");
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--models") c.models = split(val());
    else if (a == "--precision") c.precisions = split(val());
    else if (a == "--seeds") c.seeds = parse_seeds(val());
    else if (a == "--div-seeds") c.div_seeds = parse_seeds(val());
    else if (a == "--table-seed") c.table_seed = unsigned(std::stoul(val()));
    else if (a == "--reps") c.reps = std::stoi(val());
    else if (a == "--warmup") c.warmup = unsigned(std::stoul(val()));
    else if (a == "--draws") c.draws = unsigned(std::stoul(val()));
    else if (a == "--exmc") c.exmc = val();
    else if (a == "--shared") c.shared_dir = val();
    else if (a == "--out") c.out_dir = val();
    else throw std::runtime_error("seed-table: unknown option '" + a + "'");
  }
  if (c.reps < 1) throw std::runtime_error("--reps must be >= 1");
  for (const auto& p : c.precisions)
    if (p != "f64" && p != "f32") throw std::runtime_error("--precision takes f64 and/or f32, got '" + p + "'");
  if (access(c.exmc.c_str(), X_OK) != 0) throw std::runtime_error(c.exmc + ": not an executable (--exmc PATH)");

  // Timed seeds: the table seed and the median seeds, --reps times each; divergence-only seeds once.
  std::vector<unsigned> timed = {c.table_seed};
  for (unsigned s : c.seeds)
    if (std::find(timed.begin(), timed.end(), s) == timed.end()) timed.push_back(s);
  std::vector<unsigned> once;
  for (unsigned s : c.div_seeds)
    if (std::find(timed.begin(), timed.end(), s) == timed.end()) once.push_back(s);

  std::map<std::string, size_t> dims;
  for (const auto& m : c.models) {
    BenchData data(data_path(c.shared_dir, m));
    dims[m] = make_handwritten(m, data)->dim();
  }

  char tmpl[] = "/tmp/exmc-seed-table.XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("cannot create a scratch folder under /tmp");
  const std::string scratch = tmpl;

  std::vector<Run> runs;
  auto one = [&](const std::string& m, const std::string& p, unsigned seed, int rep) {
    Run r;
    r.model = m;
    r.precision = p;
    r.seed = seed;
    r.rep = rep;
    const std::string csv = scratch + "/out.csv", log = scratch + "/err.log";
    r.wall_ms = run_process({c.exmc, "sample", model_path(c.shared_dir, m), "--data", data_path(c.shared_dir, m),
                             "--chains", "1", "--warmup", std::to_string(c.warmup), "--draws",
                             std::to_string(c.draws), "--seed", std::to_string(seed), "--precision", p,
                             "--output", csv},
                            log, r.cpu_ms);
    read_csv(csv, dims.at(m), r);
    read_log(log, r);
    std::remove(csv.c_str());
    std::remove(log.c_str());
    runs.push_back(r);
  };
  const size_t total = (size_t(c.reps) * timed.size() + once.size()) * c.models.size() * c.precisions.size();
  size_t done = 0;
  // Reps outermost, so a load burst on a shared machine lands on one rep of many configurations
  // rather than on every rep of one.
  for (int rep = 1; rep <= c.reps; ++rep)
    for (const auto& m : c.models)
      for (unsigned s : timed)
        for (const auto& p : c.precisions) {
          one(m, p, s, rep);
          if (++done % 20 == 0) std::fprintf(stderr, "seed-table: %zu/%zu runs\n", done, total);
        }
  for (const auto& m : c.models)
    for (unsigned s : once)
      for (const auto& p : c.precisions) {
        one(m, p, s, 0);
        if (++done % 20 == 0) std::fprintf(stderr, "seed-table: %zu/%zu runs\n", done, total);
      }
  rmdir(scratch.c_str());

  // Combine reps: median times; draws must agree between reps (the run is a function of the seed).
  std::map<std::tuple<std::string, std::string, unsigned>, Cell> cells;
  {
    std::map<std::tuple<std::string, std::string, unsigned>, std::vector<const Run*>> by;
    for (const auto& r : runs) by[{r.model, r.precision, r.seed}].push_back(&r);
    for (const auto& [k, rs] : by) {
      std::vector<double> w, cp, rd, s;
      bool same = true;
      for (const Run* r : rs) {
        w.push_back(r->wall_ms);
        cp.push_back(r->cpu_ms);
        rd.push_back(r->ready_ms);
        s.push_back(r->sampling_ms);
        same = same && r->divergences == rs[0]->divergences && r->min_ess == rs[0]->min_ess;
      }
      same = same && std::all_of(rs.begin(), rs.end(), [&](const Run* r) { return r->grad_evals == rs[0]->grad_evals; });
      cells[k] = {median(w), median(cp), median(rd), median(s), rs[0]->min_ess, rs[0]->divergences, rs[0]->grad_evals, same};
    }
  }

  std::string md;
  auto row_header = [&](bool seeds_col) {
    md += std::string("| model | precision | whole process ms | its CPU ms | model ready ms | sampling ms | gradients | min bulk ESS | "
                      "ESS/s (sampling) | ESS/s (whole process) | divergences |") +
          (seeds_col ? " divergences (total) |" : "") + "\n";
    md += std::string("|---|---|---|---|---|---|---|---|---|---|---|") + (seeds_col ? "---|" : "") + "\n";
  };
  bool inconsistent = false;
  md += fmt::format("Seed {} ({} warmup + {} draws, 1 chain; times: median of {} runs):\n\n", c.table_seed, c.warmup,
                    c.draws, c.reps);
  row_header(false);
  for (const auto& m : c.models)
    for (const auto& p : c.precisions) {
      const Cell& x = cells.at({m, p, c.table_seed});
      inconsistent = inconsistent || !x.consistent;
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", m, p, fnum(x.wall_ms),
                        fnum(x.cpu_ms), fnum(x.ready_ms), fnum(x.sampling_ms, 2), x.grads, fnum(x.ess), fnum(x.ess / (x.sampling_ms * 1e-3), 0),
                        fnum(x.ess / (x.wall_ms * 1e-3), 0), x.div);
    }
  if (!c.seeds.empty()) {
    md += fmt::format("\nMedians over seeds {}-{} ({} seeds; each seed's times the median of {} runs):\n\n",
                      *std::min_element(c.seeds.begin(), c.seeds.end()),
                      *std::max_element(c.seeds.begin(), c.seeds.end()), c.seeds.size(), c.reps);
    row_header(true);
    for (const auto& m : c.models)
      for (const auto& p : c.precisions) {
        std::vector<double> w, cp, rd, s, e, es, ew, dv, gr;
        long dtot = 0;
        for (unsigned seed : c.seeds) {
          const Cell& x = cells.at({m, p, seed});
          inconsistent = inconsistent || !x.consistent;
          w.push_back(x.wall_ms);
          cp.push_back(x.cpu_ms);
          rd.push_back(x.ready_ms);
          s.push_back(x.sampling_ms);
          e.push_back(x.ess);
          es.push_back(x.ess / (x.sampling_ms * 1e-3));
          ew.push_back(x.ess / (x.wall_ms * 1e-3));
          dv.push_back(double(x.div));
          gr.push_back(double(x.grads));
          dtot += x.div;
        }
        md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", m, p, fnum(median(w)),
                          fnum(median(cp)), fnum(median(rd)), fnum(median(s), 2), fnum(median(gr), 0), fnum(median(e)), fnum(median(es), 0),
                          fnum(median(ew), 0), fnum(median(dv), 1), dtot);
      }
  }
  // Divergence totals per precision over the median seeds and over all seeds run.
  std::set<unsigned> all_seeds(c.div_seeds.begin(), c.div_seeds.end());
  all_seeds.insert(c.seeds.begin(), c.seeds.end());
  if (!all_seeds.empty()) {
    auto range = [](const std::set<unsigned>& s) {
      return fmt::format("{} seeds ({}-{})", s.size(), *s.begin(), *s.rbegin());
    };
    const std::set<unsigned> med(c.seeds.begin(), c.seeds.end());
    md += "\nDivergences (post-warmup), totals over seeds:\n\n| model |";
    std::vector<std::pair<std::string, std::set<unsigned>>> groups;
    if (!med.empty()) groups.push_back({range(med), med});
    if (all_seeds != med) groups.push_back({range(all_seeds), all_seeds});
    for (const auto& g : groups)
      for (const auto& p : c.precisions) md += fmt::format(" {} {} |", p, g.first);
    md += "\n|---|";
    for (size_t k = 0; k < groups.size() * c.precisions.size(); ++k) md += "---|";
    md += "\n";
    for (const auto& m : c.models) {
      md += "| " + m + " |";
      for (const auto& g : groups)
        for (const auto& p : c.precisions) {
          long t = 0;
          for (unsigned s : g.second) t += cells.at({m, p, s}).div;
          md += fmt::format(" {} |", t);
        }
      md += "\n";
    }
  }
  {
    std::map<std::string, int> backends;
    for (const auto& r : runs) ++backends[r.backend];
    md += "\nBackend (from exmc's stderr):";
    for (const auto& [k, n] : backends) md += fmt::format(" {} runs {};", n, k);
    md.back() = '.';
    md += "\n";
  }
  if (inconsistent)
    md += "\nWARNING: some configuration gave different draws between repeated runs of one seed.\n";
  std::fputs(md.c_str(), stdout);

  if (!c.out_dir.empty()) {
    const std::string tsv = c.out_dir + "/seed_table_runs.tsv", tab = c.out_dir + "/seed_table.md";
    std::ofstream f(tsv);
    if (!f) throw std::runtime_error(tsv + ": cannot write");
    f << "model\tprecision\tseed\trep\twall_ms\tcpu_ms\tready_ms\twarmup_ms\tsampling_ms\tgrad_evals\tmin_bulk_ess\tdivergences\tbackend\n";
    for (const auto& r : runs)
      f << fmt::format("{}\t{}\t{}\t{}\t{:.3f}\t{:.3f}\t{:.3f}\t{:.4f}\t{:.4f}\t{}\t{:.4f}\t{}\t{}\n", r.model, r.precision,
                       r.seed, r.rep, r.wall_ms, r.cpu_ms, r.ready_ms, r.warmup_ms, r.sampling_ms, r.grad_evals, r.min_ess,
                       r.divergences, r.backend);
    std::ofstream t(tab);
    if (!t) throw std::runtime_error(tab + ": cannot write");
    t << md;
    std::fprintf(stderr, "seed-table: wrote %s and %s\n", tsv.c_str(), tab.c_str());
  }
  return inconsistent ? 3 : 0;
}

}  // namespace exmc::bench
