// libFuzzer target: a Stan program and its data through the front end, as
// services::Program::from_source does it: parse, check, bind the data, lower to a model;
// then compile the log density and evaluate it once.
// The input is the program text, then optionally a NUL byte and the data as Stan JSON.
// A clean std::exception (stan::Error, io::StanJsonError, a documented limit) is a pass;
// a crash, sanitizer report, leak or hang is a finding.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "exmc/io/stan_json.hpp"
#include "exmc/stan/data.hpp"
#include "exmc/stan/lower.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/semantic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string program_text = input.substr(0, nul);
  const std::string data_text = nul == std::string::npos ? std::string() : input.substr(nul + 1);
  try {
    // The same steps, in the same order, as services::Program::from_source (which would pull
    // in every inference method's library for nothing).
    const auto program = exmc::stan::parse(program_text, "fuzz.stan");
    exmc::stan::check(program);
    const auto json = data_text.empty() ? exmc::io::StanJsonData{}
                                        : exmc::io::StanJsonData::from_string(data_text, "<data>");
    const auto env = exmc::stan::check_data(program, json);
    const auto model = exmc::stan::lower_to_model(program, env, {});
    // Then what every method does first: compile the log density and evaluate it (with its
    // gradient and the constrained values) at the origin of the unconstrained space.
    const auto density = model->compile<double>();
    const size_t dim = density->dim();
    if (dim > 100000) return 0;
    std::vector<double> x(dim, 0.0), g(dim, 0.0);
    (void)density->logp_grad(x.data(), g.data());
    size_t out = 0;
    for (const auto& v : density->output_vars()) out += v.size();
    if (out > 1000000) return 0;
    std::vector<double> constrained(out);
    density->constrain(x.data(), constrained.data());
  } catch (const std::exception&) {
  }
  return 0;
}
