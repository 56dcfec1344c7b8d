// Output formats shared by the analysis layer's printers (summary, sampler stats, LOO).
#pragma once

#include <string>

namespace exmc::analysis {

enum class Format { Table, Csv, Json };
// Parses "table" | "csv" | "json"; throws std::invalid_argument naming the bad value.
Format parse_format(const std::string& s);

}  // namespace exmc::analysis
