#include "sample_checkpoint.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "exmc/core/state_io.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"
#include "exmc/io/temporaries.hpp"
#include "file_text.hpp"

namespace exmc::cli {
std::string sample_fingerprint(const SampleOptions& o) {
  std::string s;
  auto line = [&](const char* key, const std::string& value) { s += fmt::format("{} = {}\n", key, value); };
  line("model", content_fingerprint(o.model_path));
  line("data", content_fingerprint(o.data_path));
  line("init", init_file(o.init).empty() ? o.init : "file " + content_fingerprint(o.init));
  line("load-metric", content_fingerprint(o.load_metric));
  line("chains", std::to_string(o.chains));
  line("warmup", std::to_string(o.warmup));
  line("draws", std::to_string(o.draws));
  line("thin", std::to_string(o.thin));
  line("adapt-delta", fmt::format("{:.17g}", o.adapt_delta));
  line("max-depth", std::to_string(o.max_depth));
  line("metric", o.metric);
  line("precision", o.precision);
  line("sig-figs", std::to_string(o.sig_figs));
  line("save-warmup", o.save_warmup ? "yes" : "no");
  line("vectorize", o.vectorize_loops ? "yes" : "no");
  // Another sampler altogether: a NUTS chain's state cannot continue as fixed_param's, nor back.
  line("fixed-param", o.fixed_param ? "yes" : "no");
  return s;
}

void remove_stale_checkpoint_temporaries(const std::string& chain_output) {
  namespace fs = std::filesystem;
  const fs::path cp = io::checkpoint_path(chain_output);
  const std::string prefix = cp.filename().string() + ".";
  std::error_code ec;
  const fs::path folder = cp.has_parent_path() ? cp.parent_path() : fs::path(".");
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > prefix.size() + 4 && name.compare(0, prefix.size(), prefix) == 0 &&
        name.compare(name.size() - 4, 4, ".tmp") == 0)
      io::remove_if_abandoned(e.path().string());  // never one a live run is writing
  }
}

namespace {

// `exmc_run_id` from a CmdStan CSV's header comments; empty when there is none.
std::string csv_run_id(const std::string& path) {
  const auto config = io::read_cmdstan_csv_config(path);
  const auto id = config.find("exmc_run_id");
  return id == config.end() ? "" : id->second;
}

}  // namespace

std::string completed_run_difference(const std::vector<std::string>& chain_outputs,
                                     const std::vector<std::pair<std::string, std::string>>& expected) {
  static const std::map<std::string, std::string> label = {
      {"num_samples", "draws"}, {"num_warmup", "warmup"}, {"num_chains", "chains"}, {"delta", "adapt-delta"},
      {"exmc_metric", "metric"}, {"exmc_precision", "precision"}, {"file", "data"}};
  std::string run_id, first;
  for (const auto& out : chain_outputs) {
    const auto config = io::read_cmdstan_csv_config(out);
    const auto id = config.find("exmc_run_id");
    if (id == config.end()) return out + " was not written by exmc sample (it has no exmc_run_id)";
    if (first.empty()) {
      run_id = id->second;
      first = out;
    } else if (id->second != run_id) {
      return out + " and " + first + " are of different runs";
    }
    for (const auto& [key, want] : expected) {
      const auto got = config.find(key);
      const std::string had = got == config.end() ? "(none)" : got->second;
      char* e1 = nullptr;
      char* e2 = nullptr;
      const double a = std::strtod(had.c_str(), &e1), b = std::strtod(want.c_str(), &e2);
      const bool numbers = !had.empty() && !want.empty() && *e1 == '\0' && *e2 == '\0';
      if (numbers ? a == b : had == want) continue;
      const auto l = label.find(key);
      return fmt::format("{}: {} in {}, {} now", l == label.end() ? key : l->second, had.empty() ? "(none)" : had,
                         out, want.empty() ? "(none)" : want);
    }
  }
  return "";
}

std::vector<std::string> csv_temporaries(const std::string& chain_output) {
  namespace fs = std::filesystem;
  std::vector<std::string> found;
  const fs::path out(chain_output);
  const std::string prefix = out.filename().string() + ".";
  std::error_code ec;
  const fs::path folder = out.has_parent_path() ? out.parent_path() : fs::path(".");
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    // out_2.csv.<16 hex>.tmp, as io::CmdStanCsvWriter names its temporaries
    if (name.size() != prefix.size() + 16 + 4 || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - 4, 4, ".tmp") != 0)
      continue;
    const std::string hex = name.substr(prefix.size(), 16);
    if (hex.find_first_not_of("0123456789abcdef") != std::string::npos || !e.is_regular_file(ec)) continue;
    found.push_back((out.has_parent_path() ? out.parent_path() / name : fs::path(name)).string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::string> remove_run_temporaries(const std::string& chain_output, const std::string& run_id,
                                                const std::string& keep) {
  namespace fs = std::filesystem;
  std::vector<std::string> removed;
  if (run_id.empty()) return removed;
  const std::string kept = keep.empty() ? "" : fs::path(keep).filename().string();
  for (const auto& p : csv_temporaries(chain_output)) {
    if (fs::path(p).filename().string() == kept || csv_run_id(p) != run_id) continue;
    // Not one a live process holds (another process of this run, or another --resume of it).
    if (io::remove_if_abandoned(p)) removed.push_back(p);
  }
  return removed;
}

void sweep_earlier_temporaries(const std::vector<std::string>& chain_outputs, const std::vector<std::string>& own,
                               bool checkpoint_replaced, std::ostream& err) {
  namespace fs = std::filesystem;
  std::string removed, in_use, resumable;
  const auto add = [](std::string& to, const std::string& name) { to += (to.empty() ? "" : ", ") + name; };
  for (size_t c = 0; c < chain_outputs.size(); ++c) {
    std::string continued;  // the file name the chain's checkpoint continues
    if (!checkpoint_replaced) {
      try {
        if (const auto cp = io::RunCheckpoint::load(io::checkpoint_path(chain_outputs[c])))
          continued = fs::path(cp->temp_path).filename().string();
      } catch (const std::exception&) {
        // A damaged checkpoint continues nothing (--resume says so).
      }
    }
    const std::string own_name = fs::path(own.at(c)).filename().string();
    for (const auto& p : csv_temporaries(chain_outputs[c])) {
      const std::string name = fs::path(p).filename().string();
      if (name == own_name) continue;
      if (name == continued) add(resumable, p);
      else if (io::remove_if_abandoned(p)) add(removed, p);
      else add(in_use, p);
    }
  }
  if (!removed.empty())
    err << "exmc: removed the draws an earlier, interrupted or killed run of this output left under temporary names "
           "(no process was writing them, and no checkpoint continues them): "
        << removed << "\n";
  if (!in_use.empty())
    err << "exmc: warning: " << in_use << " (temporaries of this output) are being written by another running "
        << "process, probably another exmc run with this --output: left as they are; the two runs replace each "
           "other's files\n";
  if (!resumable.empty())
    err << "exmc: " << resumable << " (an interrupted run's draws) left as they are: their checkpoints can still "
        << "continue them (the interrupted command with --resume, which replaces this run's files)\n";
}

std::optional<ResumePoint> find_resume_point(const SampleOptions& opts, const std::string& fingerprint,
                                             const std::vector<std::string>& chain_outputs) {
  ResumePoint rp;
  std::optional<io::RunCheckpoint> first;  // a copy: rp.chains grows
  std::string first_path;
  for (const auto& out : chain_outputs) {
    const auto path = io::checkpoint_path(out);
    auto cp = io::RunCheckpoint::load(path);
    if (cp) {
      if (const auto diff = io::fingerprint_difference(cp->fingerprint, fingerprint); !diff.empty())
        throw std::invalid_argument("--resume: this is not the run " + path + " was written for (" + diff + ")");
      if (opts.seed_given && opts.seed != cp->seed)
        throw std::invalid_argument(fmt::format("--resume: the checkpointed run has seed {}, not {}", cp->seed,
                                                opts.seed));
    }
    rp.chains.push_back(std::move(cp));
    const auto& got = rp.chains.back();
    if (!got) continue;
    if (!first) {
      first = got;
      first_path = path;
    } else if (got->run_id != first->run_id || got->seed != first->seed) {
      throw std::invalid_argument("--resume: " + path + " and " + first_path +
                                  " are checkpoints of different runs");
    }
  }
  if (!first) {
    // A run checkpointed with one chain writes out.csv, with several out_1.csv ...: the same
    // command with --chains changed between 1 and more looked under the other names, found
    // nothing and started afresh ("no checkpoint"), leaving the interrupted run's checkpoints and
    // temporaries behind while the user thought it resumed. Refused as any other change is.
    const std::string other = io::checkpoint_path(chain_output_path(opts.output, 0, opts.chains == 1 ? 2 : 1));
    std::optional<io::RunCheckpoint> cp;
    try {
      cp = io::RunCheckpoint::load(other);
    } catch (const std::exception&) {
      cp.reset();  // damaged: not this run's to judge
    }
    if (cp)
      if (const auto diff = io::fingerprint_difference(cp->fingerprint, fingerprint); !diff.empty())
        throw std::invalid_argument("--resume: this is not the run " + other + " was written for (" + diff + ")");
    return std::nullopt;
  }
  rp.seed = first->seed;
  rp.run_id = first->run_id;
  rp.checkpoint_every = first->checkpoint_every;
  return rp;
}

}  // namespace exmc::cli
