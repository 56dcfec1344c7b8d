// Writes posteriordb programs in the pre-2.33 array syntax for tests/stan/pdb_golden.R (Debian's
// rstan is Stan 2.21): pdb_old_syntax SHARED_DIR OUT_DIR NAME... writes OUT_DIR/NAME.stan.
// Built-in names Stan 2.21 lacks are spelled as 2.21 does (gp_exp_quad_cov -> cov_exp_quad).
#include <fstream>
#include <iostream>
#include <regex>
#include <string>

#include "exmc/stan/parser.hpp"
#include "exmc/stan/printer.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: pdb_old_syntax SHARED_DIR OUT_DIR NAME...\n";
    return 2;
  }
  const std::string shared = argv[1], out = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string name = argv[i];
    try {
      exmc::stan::Program p = exmc::stan::parse_file(shared + "/posteriordb/" + name + "/model.stan");
      exmc::stan::use_old_array_syntax(p);
      const std::string text =
          std::regex_replace(exmc::stan::print_program(p), std::regex(R"(\bgp_exp_quad_cov\()"), "cov_exp_quad(");
      std::ofstream f(out + "/" + name + ".stan");
      f << text;
      if (!f) throw std::runtime_error("cannot write " + out + "/" + name + ".stan");
    } catch (const std::exception& e) {
      std::cerr << name << ": " << e.what() << "\n";
      return 1;
    }
  }
  return 0;
}
