// `exmc optimize | laplace | pathfinder | variational | smc | generate_quantities | log_prob`: thin shells over
// exmc::services.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace exmc::cli {

struct MethodCommand {
  CLI::App* app;  // parsed() tells whether this command was chosen
  std::function<int(std::ostream& out, std::ostream& err)> run;
};

// Adds the commands to `app`; their options live as long as the returned objects.
std::vector<MethodCommand> add_method_commands(CLI::App& app);

// `exmc generate_quantities` (generate_quantities_command.cc), one of add_method_commands'.
MethodCommand add_generate_quantities_command(CLI::App& app);

// `exmc log_prob` (log_prob_command.cc), one of add_method_commands'.
MethodCommand add_log_prob_command(CLI::App& app);

// For a method command's catch (...): writes the exception being handled as every method command
// does (a Stan error's own file:line text; out of memory with its likely cause; otherwise
// "exmc NAME: error: ..."), and returns the exit status, 1. Rethrows what is no std::exception.
int report_method_failure(std::string_view name, std::ostream& err);

}  // namespace exmc::cli
