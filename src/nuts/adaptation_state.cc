// JSON persistence of the adapted step size and metric.
#include "exmc/nuts/adaptation_state.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace exmc::nuts {

Metric AdaptationState::metric() const {
  return metric_kind == MetricKind::Diag ? Metric::diag(inv_metric)
                                         : Metric::dense(inv_metric, dim);
}

AdaptationState AdaptationState::from(double step_size, const Metric& m) {
  AdaptationState s;
  s.step_size = step_size;
  s.dim = m.dim();
  // A low-rank metric is saved as the dense matrix it stands for.
  s.metric_kind = m.kind() == MetricKind::Diag ? MetricKind::Diag : MetricKind::Dense;
  s.inv_metric = m.kind() == MetricKind::LowRank ? m.to_dense() : m.inv();
  return s;
}

AdaptationState AdaptationState::from(double step_size, Metric&& m) {
  if (m.kind() == MetricKind::LowRank) return from(step_size, static_cast<const Metric&>(m));
  AdaptationState s;
  s.step_size = step_size;
  s.dim = m.dim();
  s.metric_kind = m.kind();
  s.inv_metric = std::move(m).release_inv();
  return s;
}

std::string AdaptationState::to_json() const {
  nlohmann::json j;
  j["stepsize"] = step_size;
  j["metric"] = metric_kind == MetricKind::Diag ? "diag_e" : "dense_e";
  if (metric_kind == MetricKind::Diag) {
    j["inv_metric"] = inv_metric;
  } else {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; i < dim; ++i) {
      std::vector<double> r(dim);
      for (size_t k = 0; k < dim; ++k) r[k] = inv_metric[k * dim + i];
      rows.push_back(r);
    }
    j["inv_metric"] = rows;
  }
  return j.dump(2);
}

AdaptationState AdaptationState::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("adaptation state is not valid JSON: ") + e.what());
  }
  AdaptationState s;
  // A CmdStan metric file has only "inv_metric"; the step size then starts at 1 as in CmdStan.
  if (j.contains("stepsize")) {
    if (!j["stepsize"].is_number() || !(j["stepsize"].get<double>() > 0))
      throw std::invalid_argument("adaptation state: \"stepsize\" must be a positive number");
    s.step_size = j["stepsize"].get<double>();
  }
  if (!j.contains("inv_metric") || !j["inv_metric"].is_array())
    throw std::invalid_argument("adaptation state: \"inv_metric\" must be an array");
  const auto& m = j["inv_metric"];
  const bool dense = !m.empty() && m[0].is_array();
  if (j.contains("metric")) {
    // A number or an array here escaped as nlohmann's "[json.exception.type_error.302] type must
    // be string, but is number", which exmc sample printed without the file's name.
    if (!j["metric"].is_string())
      throw std::invalid_argument("adaptation state: \"metric\" must be \"diag_e\" or \"dense_e\"");
    const std::string kind = j["metric"].get<std::string>();
    if (kind != "diag_e" && kind != "dense_e")
      throw std::invalid_argument("adaptation state: \"metric\" must be diag_e or dense_e, got " +
                                  kind);
    if ((kind == "dense_e") != dense)
      throw std::invalid_argument("adaptation state: \"metric\" is " + kind +
                                  " but \"inv_metric\" has the other shape");
  }
  s.dim = m.size();
  s.metric_kind = dense ? MetricKind::Dense : MetricKind::Diag;
  if (!dense) {
    for (size_t i = 0; i < m.size(); ++i) {
      if (!m[i].is_number())
        throw std::invalid_argument("adaptation state: inv_metric[" + std::to_string(i) +
                                    "] is not a number");
      s.inv_metric.push_back(m[i].get<double>());
    }
  } else {
    // Every row checked before the d x d matrix is allocated: 30,000 empty rows (a 210 KB file)
    // allocated 7 GB and took 51 s before the first row was refused. A row's entries are checked
    // too: a string among them escaped as nlohmann's "type must be number, but is string".
    for (size_t i = 0; i < s.dim; ++i) {
      if (!m[i].is_array() || m[i].size() != s.dim)
        throw std::invalid_argument("adaptation state: inv_metric row " + std::to_string(i) +
                                    " must have " + std::to_string(s.dim) + " numbers");
      for (size_t k = 0; k < s.dim; ++k)
        if (!m[i][k].is_number())
          throw std::invalid_argument("adaptation state: inv_metric[" + std::to_string(i) + "][" +
                                      std::to_string(k) + "] is not a number");
    }
    s.inv_metric.assign(s.dim * s.dim, 0.0);
    for (size_t i = 0; i < s.dim; ++i)
      for (size_t k = 0; k < s.dim; ++k) s.inv_metric[k * s.dim + i] = m[i][k].get<double>();
  }
  s.metric();  // validates positivity / definiteness with a clear message
  return s;
}

void AdaptationState::save(const std::string& path) const {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write adaptation state to " + path);
  f << to_json() << "\n";
  if (!f) throw std::runtime_error("error writing adaptation state to " + path);
}

AdaptationState AdaptationState::load(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read adaptation state from " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return from_json(ss.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

}  // namespace exmc::nuts
