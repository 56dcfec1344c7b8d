#include "exmc/stan/load.hpp"

#include <filesystem>

#include "exmc/io/stan_json.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {

LoadedProgram load_program(const std::string& stan_path, const std::string& data_path,
                           LowerOptions options) {
  if (!std::filesystem::exists(stan_path))
    throw Error(stan_path, 0, 0, "cannot read the model file (no such file)");
  LoadedProgram out;
  out.program = std::make_unique<Program>(parse_file(stan_path));
  check(*out.program);
  io::StanJsonData json;
  if (!data_path.empty()) {
    if (!std::filesystem::exists(data_path))
      throw Error(data_path, 0, 0, "cannot read the data file (no such file)");
    json = io::StanJsonData::from_file(data_path);
  }
  out.data = check_data(*out.program, json);
  out.model = lower_to_model(*out.program, out.data, options);
  return out;
}

}  // namespace exmc::stan
