// Draws container lookups.
#include "exmc/analysis/draws.hpp"

#include <stdexcept>

namespace exmc::analysis {

size_t Draws::index_of(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  throw std::out_of_range("no variable named '" + name + "' in the draws");
}

}  // namespace exmc::analysis
