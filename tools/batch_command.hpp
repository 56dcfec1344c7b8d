// `exmc batch`: many fits (a manifest of programs and data, or simulation-based calibration)
// spread over the ranks of `mpirun -n K` with dynamic load balance; see batch_command.cc.
#pragma once

#include <functional>
#include <iosfwd>

namespace CLI {
class App;
}

namespace exmc::cli {

struct BatchCommand {
  CLI::App* app;  // parsed() tells whether it was chosen
  std::function<int(std::ostream& out, std::ostream& err)> run;
};

// Adds the command to `app`; its options live as long as the returned object.
BatchCommand add_batch_command(CLI::App& app);

}  // namespace exmc::cli
