// Shared by the extension's translation units: how a program is held, and the binders.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "exmc/core/log_density.hpp"
#include "exmc/services/program.hpp"

namespace exmc::python {

namespace py = pybind11;

// A loaded program is shared: a Python BoundModel, the densities compiled from it and a running
// sample all keep it alive (GeneratedQuantities points into its AST).
using ProgramPtr = std::shared_ptr<const services::Program>;

// [(name, shape), ...] as Python lists of tuples.
py::list vars_to_list(const std::vector<VarInfo>& vars);

void bind_sample(py::module_& m);
void bind_analysis(py::module_& m);
void bind_methods(py::module_& m);

}  // namespace exmc::python
