// Under `mpirun -n K`, every rank must have been started with the same options: a rank started
// with others (mpirun's "A : B" form, a wrapper that differs per host) silently did its share of
// another job. Each command lists the options that decide what it writes; rank 0's are sent to
// every rank, compared, and all ranks stop together when one differs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "exmc/distributed/world.hpp"

namespace exmc::cli {

using AgreedOptions = std::vector<std::pair<std::string, std::string>>;  // option, value as given

// "" when every rank's options are rank 0's. Otherwise, on every rank, the first option some
// rank has differently ("rank 1 was started with --chains 4, rank 0 with --chains 2: ..."), for
// rank 0 to print. Collective.
inline std::string ranks_disagree(distributed::World& world, const AgreedOptions& mine) {
  std::string root;
  for (const auto& [k, v] : mine) root += k + '\0' + v + '\0';
  world.broadcast(root);
  std::vector<std::string> fields;
  for (size_t i = 0; i < root.size();) {
    const size_t z = root.find('\0', i);
    if (z == std::string::npos) break;
    fields.push_back(root.substr(i, z - i));
    i = z + 1;
  }
  auto shown = [](const std::string& v) { return v.empty() ? std::string("(none)") : v; };
  std::string diff;
  if (world.rank() != 0)
    for (size_t k = 0; k < mine.size() && diff.empty(); ++k) {
      const std::string theirs = 2 * k + 1 < fields.size() ? fields[2 * k + 1] : "?";
      if (theirs != mine[k].second)
        diff = fmt::format("rank {} was started with {} {}, rank 0 with {} {}: every rank must run the same command",
                           world.rank(), mine[k].first, shown(mine[k].second), mine[k].first, shown(theirs));
    }
  // The first differing rank's message reaches everyone: rank 0 says it once for the run.
  uint64_t worst = uint64_t(world.max_to_root(diff.empty() ? 0 : world.rank()));
  world.broadcast(worst);
  if (worst == 0) return "";
  std::string message = diff;
  world.broadcast(message, int(worst));
  return message;
}

}  // namespace exmc::cli
