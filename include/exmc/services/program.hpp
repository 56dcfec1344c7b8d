// A Stan program and its data, read, checked and lowered once, then compiled with the options
// each method needs; and the conversion of unconstrained draws into CmdStan's rows (constrained
// values, then generated quantities). What the command, the harnesses and a Python module share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exmc/core/approx_draws.hpp"
#include "exmc/graph/compile.hpp"
#include "exmc/model/model.hpp"
#include "exmc/stan/generated_quantities.hpp"
#include "exmc/stan/load.hpp"

namespace exmc::services {

enum class Precision { kF64, kF32 };

// Rng streams of the services (per seed): the initial point, and generated quantities of
// approximate draws. NUTS chains use streams 0..chains-1 and GeneratedQuantities::kGqStreamBase + c.
inline constexpr uint64_t kInitStream = 2'000'000;
inline constexpr uint64_t kApproxGqStream = 3'000'000;

class Program {
 public:
  // Throws stan::Error (file:line:column or the data variable) or io::StanJsonError.
  static Program load(const std::string& model_path, const std::string& data_path,
                      bool vectorize_loops = true);
  // The same from text in memory: a Stan program (errors name `program_name`) and its data as
  // Stan JSON text ("" or "{}" for none). What the Python module uses for strings and dicts.
  static Program from_source(const std::string& program_text, const std::string& program_name,
                             const std::string& data_json, bool vectorize_loops = true);

  std::unique_ptr<graph::CompiledDensity> compile(const model::CompileOptions& options = {},
                                                  Precision precision = Precision::kF64) const;

  const std::string& model_path() const { return model_path_; }
  const std::string& data_path() const { return data_path_; }
  std::string model_name() const;  // the file's stem, as CmdStan names a model
  const stan::LoadedProgram& loaded() const { return loaded_; }
  double load_ms() const { return load_ms_; }

 private:
  stan::LoadedProgram loaded_;
  std::string model_path_, data_path_;
  double load_ms_ = 0;
};

// Where a method starts: a radius R (uniform(-R, R) on the unconstrained scale) or a Stan JSON
// file of constrained values, as `exmc sample --init`.
struct InitSpec {
  double radius = 2;
  std::string file;
  // Constrained values by name, flattened column-major (what a Python dict gives); replaces
  // `file`. Names that match no parameter are ignored with a warning, as a file's are.
  std::vector<std::pair<std::string, std::vector<double>>> values;
  // How messages name the setting: "--init" for the command, "init" for Python's argument.
  std::string name = "--init";
  // A number, or a file path; errors start with `name`.
  static InitSpec parse(const std::string& text, const std::string& name = "--init");
};

// Initial values for the names among `vars`; other names are ignored, as Stan does, and listed
// in `ignored` so the caller can warn about a misspelt name (or a fit's generated quantities
// passed back as initial values).
struct InitValues {
  std::vector<std::pair<std::string, std::vector<double>>> values;
  std::vector<std::string> ignored;
};
InitValues known_init_values(std::vector<std::pair<std::string, std::vector<double>>> values,
                             const std::vector<VarInfo>& vars);
// The same for a Stan JSON init file's values (column-major, as LogDensity::unconstrain takes them).
InitValues read_init_file(const std::string& path, const std::vector<VarInfo>& vars);
// "SOURCE: 'a', 'b' match no parameter of the model; ignored" (SOURCE: "--init FILE", "the
// initial values", ...)
std::string describe_ignored(const std::string& source, const std::vector<std::string>& ignored);

// A point with finite log density and gradient (nuts' initialiser: its messages name the
// variables at fault). Draws from Rng(seed, kInitStream + index). Throws std::runtime_error.
// Names of an init file that match no variable are appended to *warnings (as a sentence).
std::vector<double> initial_point(const LogDensity& density, const InitSpec& init, uint64_t seed,
                                  unsigned index = 0, std::vector<std::string>* warnings = nullptr);

// Rows as CmdStan writes them: the method's own columns first, then every constrained value
// (parameters, transformed parameters) and the generated quantities.
struct DrawTable {
  std::vector<std::string> columns;
  size_t num_method_columns = 0;
  std::vector<double> values;  // row-major
  uint64_t gq_failures = 0;    // rows whose generated quantities failed (written as NaN)
  std::string first_gq_failure;

  size_t num_rows() const { return columns.empty() ? 0 : values.size() / columns.size(); }
  const double* row(size_t i) const { return values.data() + i * columns.size(); }
};

// Fills a DrawTable from unconstrained points: `method_values` has method_columns.size() values
// per point (row-major). Generated quantities of point i draw from Rng(seed, kApproxGqStream).
class TableBuilder {
 public:
  TableBuilder(const Program& program, const graph::CompiledDensity& density,
               std::vector<std::string> method_columns, uint64_t seed);
  ~TableBuilder();
  void add(const double* x, const double* method_values);
  DrawTable take() { return std::move(table_); }

 private:
  const graph::CompiledDensity& density_;
  std::unique_ptr<stan::GeneratedQuantities> gq_;
  size_t num_values_ = 0, num_gq_ = 0;
  Rng rng_;
  std::vector<double> row_;
  DrawTable table_;
};

}  // namespace exmc::services
