#include "exmc/services/program.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "exmc/io/file_bytes.hpp"
#include "exmc/io/init_values.hpp"
#include "exmc/io/stan_json.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/semantic.hpp"
#include "exmc/transform/transform.hpp"
#include "program_limits.hpp"

namespace exmc::services {

Program Program::load(const std::string& model_path, const std::string& data_path,
                      bool vectorize_loops) {
  const auto t0 = std::chrono::steady_clock::now();
  // A directory read as an empty program: `exmc optimize /tmp` wrote lp__ = 0 and exited 0
  // (stan::load_program checks only that the path exists).
  if (std::error_code ec; std::filesystem::is_directory(model_path, ec))
    throw stan::Error(model_path, 0, 0, "cannot read the model file (a directory, not a file)");
  // An unreadable file is load_program's to report.
  if (std::string text; io::read_file_bytes(model_path, text)) detail::check_program_limits(text, model_path);
  Program p;
  stan::LowerOptions lo;
  lo.vectorize_loops = vectorize_loops;
  p.loaded_ = stan::load_program(model_path, data_path, lo);
  p.model_path_ = model_path;
  p.data_path_ = data_path;
  p.load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

Program Program::from_source(const std::string& program_text, const std::string& program_name,
                             const std::string& data_json, bool vectorize_loops) {
  const auto t0 = std::chrono::steady_clock::now();
  detail::check_program_limits(program_text, program_name);
  Program p;
  p.loaded_.program = std::make_unique<stan::Program>(stan::parse(program_text, program_name));
  stan::check(*p.loaded_.program);
  const auto json = data_json.empty() ? io::StanJsonData{} : io::StanJsonData::from_string(data_json, "<data>");
  p.loaded_.data = stan::check_data(*p.loaded_.program, json);
  stan::LowerOptions lo;
  lo.vectorize_loops = vectorize_loops;
  p.loaded_.model = stan::lower_to_model(*p.loaded_.program, p.loaded_.data, lo);
  p.model_path_ = program_name;
  p.load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

std::unique_ptr<graph::CompiledDensity> Program::compile(const model::CompileOptions& options,
                                                         Precision precision) const {
  return precision == Precision::kF32 ? loaded_.model->compile<float>(options)
                                      : loaded_.model->compile<double>(options);
}

std::string Program::model_name() const { return std::filesystem::path(model_path_).stem().string(); }

InitSpec InitSpec::parse(const std::string& text, const std::string& name) {
  InitSpec s;
  s.name = name;
  char* end = nullptr;
  const double r = std::strtod(text.c_str(), &end);
  if (end != text.c_str() && *end == '\0') {
    if (!(r >= 0) || !std::isfinite(r))
      throw std::invalid_argument(name + ": the radius must be a finite number >= 0, got " + text);
    s.radius = r;
    return s;
  }
  if (!std::filesystem::is_regular_file(text))
    throw std::invalid_argument(name + ": '" + text + "' is neither a number nor a readable file");
  s.file = text;
  return s;
}

InitValues known_init_values(std::vector<std::pair<std::string, std::vector<double>>> values,
                             const std::vector<VarInfo>& vars) {
  InitValues out;
  for (auto& [name, value] : values) {
    bool known = false;
    for (const auto& v : vars) known |= v.name == name;
    if (known) out.values.emplace_back(std::move(name), std::move(value));
    else out.ignored.push_back(std::move(name));
  }
  return out;
}

InitValues read_init_file(const std::string& path, const std::vector<VarInfo>& vars) {
  return known_init_values(io::init_values(io::StanJsonData::from_file(path), vars, path), vars);
}

std::string describe_ignored(const std::string& source, const std::vector<std::string>& ignored) {
  std::string names;
  for (const auto& n : ignored) names += (names.empty() ? "'" : ", '") + n + "'";
  return source + ": " + names + (ignored.size() == 1 ? " matches" : " match") + " no parameter of the model; ignored";
}

std::vector<double> initial_point(const LogDensity& density, const InitSpec& init, uint64_t seed,
                                  unsigned index, std::vector<std::string>* warnings) {
  const size_t d = density.dim();
  nuts::SamplerConfig cfg;
  cfg.init_radius = init.radius;
  if (!init.values.empty()) {
    auto values = known_init_values(init.values, density.output_vars());
    cfg.init_values = std::move(values.values);
    if (warnings && !values.ignored.empty()) warnings->push_back(describe_ignored(init.name, values.ignored));
  } else if (!init.file.empty()) {
    auto values = read_init_file(init.file, density.output_vars());
    cfg.init_values = std::move(values.values);
    if (warnings && !values.ignored.empty()) warnings->push_back(describe_ignored(init.name + " " + init.file, values.ignored));
  }
  const nuts::Metric unit = nuts::Metric::diag(std::vector<double>(d, 1.0));
  nuts::Leapfrog integ(density, unit);
  nuts::PhasePoint z(d);
  Rng rng(seed, kInitStream + index);
  try {
    const transform::InteriorOnly interior;  // given values on an edge of their support are refused
    nuts::initialize_point(integ, cfg, rng, z);
  } catch (const nuts::BadInitialValues& e) {
    throw std::invalid_argument(std::string("initialisation: ") + e.what());
  } catch (const nuts::InitError& e) {
    throw std::runtime_error(std::string("initialisation: ") + e.what());
  }
  return z.q;
}

TableBuilder::TableBuilder(const Program& program, const graph::CompiledDensity& density,
                           std::vector<std::string> method_columns, uint64_t seed)
    : density_(density), rng_(seed, kApproxGqStream) {
  const auto vars = density.output_vars();
  auto gq = std::make_unique<stan::GeneratedQuantities>(*program.loaded().program, program.loaded().data, vars);
  table_.columns = std::move(method_columns);
  table_.num_method_columns = table_.columns.size();
  const auto names = flat_names(vars);
  num_values_ = names.size();
  table_.columns.insert(table_.columns.end(), names.begin(), names.end());
  if (!gq->empty()) {
    const auto gq_names = stan::generated_quantities_names(*gq);
    num_gq_ = gq_names.size();
    table_.columns.insert(table_.columns.end(), gq_names.begin(), gq_names.end());
    gq_ = std::move(gq);
  }
  row_.resize(table_.columns.size());
}

TableBuilder::~TableBuilder() = default;

void TableBuilder::add(const double* x, const double* method_values) {
  const size_t m = table_.num_method_columns;
  std::copy(method_values, method_values + m, row_.begin());
  double* values = row_.data() + m;
  density_.constrain(x, values);
  if (gq_) {
    try {
      gq_->eval(values, rng_, values + num_values_);
    } catch (const std::exception& e) {
      // As Stan: the draw keeps its parameters, its generated quantities become NaN.
      std::fill(values + num_values_, values + num_values_ + num_gq_, std::nan(""));
      if (table_.gq_failures++ == 0) table_.first_gq_failure = e.what();
    }
  }
  table_.values.insert(table_.values.end(), row_.begin(), row_.end());
}

}  // namespace exmc::services
