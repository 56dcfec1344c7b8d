// Internal: the built-in name table shared by the checker (semantic.cc).
#pragma once

#include <string>

namespace exmc::stan::detail {

// How a built-in's return type follows from its arguments.
enum class Ret { Elementwise, Real, Int, Vector, RowVector, Matrix, Other };

// False when `name` is no built-in function.
bool builtin_return(const std::string& name, Ret* ret);
// Distribution family (the name after '~').
bool builtin_family(const std::string& family);

}  // namespace exmc::stan::detail
