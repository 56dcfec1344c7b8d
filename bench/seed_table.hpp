// exmc-bench seed-table: Exmc's benchmark protocol (1 chain, 500 + 500, seed 42, f64 and f32)
// through whole `exmc sample` processes; see bench/README.md.
#pragma once

namespace exmc::bench {

// argv: the options after `seed-table`. Prints markdown tables on stdout; returns the exit status.
int cmd_seed_table(int argc, char** argv);

}  // namespace exmc::bench
