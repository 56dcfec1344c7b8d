// exmc: sample a Stan program with NUTS, summarise and diagnose the draws.
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return exmc::cli::run(args, std::cout, std::cerr);
}
