// libFuzzer target: CmdStan CSV text -> io::parse_cmdstan_csv, then what `exmc summary` and
// `exmc diagnose` do with the chains (analysis::read_cmdstan_run's steps, then the summary and
// the diagnosis). A NUL byte separates chains (at most 4), so mismatched chains are tried too.
// A clean std::exception is a pass; a crash, sanitizer report, leak or hang is a finding.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "exmc/analysis/cmdstan.hpp"
#include "exmc/analysis/diagnose.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> texts;
  size_t start = 0;
  while (texts.size() < 3) {
    const size_t nul = input.find('\0', start);
    if (nul == std::string::npos) break;
    texts.push_back(input.substr(start, nul - start));
    start = nul + 1;
  }
  texts.push_back(input.substr(start));
  try {
    namespace an = exmc::analysis;
    an::CmdStanRun run;
    for (size_t i = 0; i < texts.size(); ++i)
      run.chains.push_back(exmc::io::parse_cmdstan_csv(texts[i], "chain" + std::to_string(i) + ".csv"));
    for (const auto& c : run.chains) {
      if (c.values.size() != c.num_rows * c.columns.size()) __builtin_trap();
      for (const auto& col : c.columns) (void)c.column(col);
    }
    an::check_one_run(run.chains);
    run.draws = an::draws_from_cmdstan(run.chains);
    run.stats = an::sampler_stats_from_cmdstan(run.chains);
    const auto summary = an::summarise(run.draws);
    (void)an::format_summary(summary, an::Format::Table);
    (void)an::format_summary(summary, an::Format::Json);
    (void)an::format_sampler_stats(run.stats, an::Format::Csv);
    (void)an::diagnose(summary, run.stats, run.chains.size());
  } catch (const std::exception&) {
  }
  return 0;
}
