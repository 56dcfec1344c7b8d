// One call from a .stan file and its JSON data to a lowered model: what the `exmc` command,
// the posteriordb harness and embedding programs all need.
#pragma once

#include <memory>
#include <string>

#include "exmc/model/model.hpp"
#include "exmc/stan/ast.hpp"
#include "exmc/stan/data.hpp"
#include "exmc/stan/lower.hpp"

namespace exmc::stan {

struct LoadedProgram {
  // Held by pointer: `data` keeps pointers to the program's declarations.
  std::unique_ptr<Program> program;
  DataEnv data;
  std::unique_ptr<model::Model> model;
};

// Reads, parses and checks `stan_path`, reads `data_path` (Stan JSON; empty: no data file, as
// for a program without data) and checks it against the data block, then lowers the program.
// Throws stan::Error (file:line:column, or the data variable's name) or io::StanJsonError;
// a missing file is an Error naming it.
LoadedProgram load_program(const std::string& stan_path, const std::string& data_path,
                           LowerOptions options = {});

}  // namespace exmc::stan
