// exmc._exmc: the C++ half of the Python module. Programs, compiled densities (for people who
// bring their own algorithm), and the binders of sample.cc, analysis.cc and methods.cc. The
// Python package (python/exmc/*.py) shapes the results into arrays, DataFrames and Fit objects.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common.hpp"
#include "exmc/graph/compile.hpp"
#include "exmc/io/stan_json.hpp"
#include "exmc/services/sample.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::python {

py::list vars_to_list(const std::vector<VarInfo>& vars) {
  py::list out;
  for (const auto& v : vars) {
    py::tuple shape(v.shape.size());
    for (size_t i = 0; i < v.shape.size(); ++i) shape[i] = v.shape[i];
    out.append(py::make_tuple(v.name, shape));
  }
  return out;
}

namespace {

// A compiled log density with the program it came from kept alive.
struct Density {
  ProgramPtr program;
  std::unique_ptr<graph::CompiledDensity> density;
  services::Precision precision = services::Precision::kF64;
  // constrain() at a point with a NaN or infinite coordinate: the density above clamps them to
  // +-200 before exp() (the sampler's guard), which gave NaN as 7.2e86. Compiled on first use.
  std::unique_ptr<graph::CompiledDensity> keeping_non_finite;

  const graph::CompiledDensity& for_constrain(const double* x) {
    if (std::all_of(x, x + dim(), [](double v) { return std::isfinite(v); })) return *density;
    if (!keeping_non_finite) {
      model::CompileOptions o;
      o.keep_non_finite = true;
      o.backend = graph::Backend::kInterpreter;  // constrain() runs the interpreter anyway
      keeping_non_finite = program->compile(o, precision);
    }
    return *keeping_non_finite;
  }

  size_t dim() const { return density->dim(); }

  const double* checked(const py::array_t<double, py::array::c_style | py::array::forcecast>& x) const {
    if (x.ndim() != 1 || static_cast<size_t>(x.shape(0)) != dim())
      throw std::invalid_argument("expected a vector of " + std::to_string(dim()) +
                                  " unconstrained values, got shape " + shape_text(x));
    return x.data();
  }
  static std::string shape_text(const py::array& x) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < x.ndim(); ++i) s += (i ? ", " : "") + std::to_string(x.shape(i));
    return s + (x.ndim() == 1 ? ",)" : ")");
  }
};

}  // namespace

}  // namespace exmc::python

namespace {
// What the constructor of the Python StanError needs; set once when the module loads.
PyObject* g_stan_error = nullptr;
}  // namespace

PYBIND11_MODULE(_exmc, m) {
  using namespace exmc;
  using namespace exmc::python;
  m.doc() = "exmc's C++ core: Stan programs compiled to log densities, NUTS and the other methods";
  m.attr("__version__") = "0.1.0";

  // StanError(ValueError) with file, line, column (0 when the error has no position: data
  // errors name the variable instead). Created here so the C++ translator can raise it.
  g_stan_error = PyErr_NewException("exmc.StanError", PyExc_ValueError, nullptr);
  m.attr("StanError") = py::handle(g_stan_error);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const stan::Error& e) {
      py::object inst = py::reinterpret_steal<py::object>(
          PyObject_CallFunction(g_stan_error, "s", e.what()));
      if (!inst) return;  // the call set its own Python error
      inst.attr("file") = e.file();
      inst.attr("line") = e.line();
      inst.attr("column") = e.column();
      inst.attr("message") = e.message();
      const auto* de = dynamic_cast<const stan::DataError*>(&e);
      inst.attr("variable") = de ? py::object(py::str(de->variable())) : py::object(py::none());
      PyErr_SetObject(g_stan_error, inst.ptr());
    } catch (const io::StanJsonError& e) {
      // Malformed data is the caller's value, not a failure of the library.
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  // Parse and check only (no data needed): what exmc.compile() does so errors come early.
  m.def("check_program", [](const std::string& text, const std::string& name) {
    const auto program = stan::parse(text, name);
    stan::check(program);
  }, py::arg("text"), py::arg("name"));

  py::class_<services::Program, std::shared_ptr<services::Program>>(m, "Program")
      .def_static("from_source", [](const std::string& text, const std::string& name, const std::string& data) {
        py::gil_scoped_release release;
        return std::make_shared<services::Program>(services::Program::from_source(text, name, data));
      }, py::arg("text"), py::arg("name"), py::arg("data_json") = "")
      .def_static("load", [](const std::string& model, const std::string& data) {
        py::gil_scoped_release release;
        return std::make_shared<services::Program>(services::Program::load(model, data));
      }, py::arg("model_path"), py::arg("data_path") = "")
      .def_property_readonly("model_name", &services::Program::model_name)
      .def_property_readonly("load_ms", &services::Program::load_ms)
      // propto / jacobian: BridgeStan's log_density options (the constants of ~ statements, the
      // change-of-variables terms); the defaults are the density the sampler runs on.
      .def("compile", [](std::shared_ptr<services::Program> p, const std::string& precision, bool propto,
                         bool jacobian) {
        if (precision != "f64" && precision != "f32")
          throw std::invalid_argument("precision: expected 'f64' or 'f32', got '" + precision + "'");
        auto d = std::make_unique<Density>();
        d->program = p;
        d->precision = precision == "f32" ? services::Precision::kF32 : services::Precision::kF64;
        model::CompileOptions options;
        options.propto = propto;
        options.jacobian = jacobian;
        {
          py::gil_scoped_release release;
          d->density = p->compile(options, d->precision);
        }
        return d;
      }, py::arg("precision") = "f64", py::arg("propto") = true, py::arg("jacobian") = true);

  py::class_<Density>(m, "Density")
      .def("dim", &Density::dim)
      .def("output_vars", [](const Density& d) { return vars_to_list(d.density->output_vars()); })
      .def("flat_names", [](const Density& d) { return flat_names(d.density->output_vars()); })
      .def("unconstrained_names", [](const Density& d) { return d.density->unconstrained_names(); })
      // Without the GIL (the density is re-entrant: LogDensity's contract), so Python threads
      // running their own chains on one BoundModel evaluate in parallel; holding it, two
      // threads took as long as one.
      .def("logp", [](const Density& d, const py::array_t<double, py::array::c_style | py::array::forcecast>& x) {
        const double* px = d.checked(x);
        py::gil_scoped_release release;
        return d.density->logp(px);
      }, py::arg("x"))
      .def("logp_grad", [](const Density& d, const py::array_t<double, py::array::c_style | py::array::forcecast>& x) {
        const double* px = d.checked(x);
        py::array_t<double> g(static_cast<py::ssize_t>(d.dim()));
        double* pg = g.mutable_data();
        double v;
        {
          py::gil_scoped_release release;
          v = d.density->logp_grad(px, pg);
        }
        return py::make_tuple(v, g);
      }, py::arg("x"))
      .def("constrain", [](Density& d, const py::array_t<double, py::array::c_style | py::array::forcecast>& x) {
        const double* px = d.checked(x);
        py::array_t<double> out(static_cast<py::ssize_t>(total_size(d.density->output_vars())));
        d.for_constrain(px).constrain(px, out.mutable_data());
        return out;
      }, py::arg("x"))
      .def("unconstrain", [](const Density& d, const std::vector<std::pair<std::string, std::vector<double>>>& values) {
        py::array_t<double> x(static_cast<py::ssize_t>(d.dim()));
        std::string error;
        // Named after BoundModel.unconstrain's argument (the density's messages name only the variable).
        if (!d.density->unconstrain(values, x.mutable_data(), &error)) throw std::invalid_argument("values: " + error);
        return x;
      }, py::arg("values"))
      .def_property_readonly("backend", [](const Density& d) {
        return d.density->backend() == graph::Backend::kJit ? "jit" : "interpreter";
      });

  bind_sample(m);
  bind_analysis(m);
  bind_methods(m);
}
