#include "batch_manifest.hpp"

#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "file_text.hpp"

namespace exmc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Paths in a manifest are relative to its folder.
std::string resolve(const fs::path& base, const std::string& p) {
  if (p.empty() || p == "-") return "";
  const fs::path q(p);
  return q.is_absolute() ? p : (base / q).lexically_normal().string();
}

}  // namespace

// A JSON array of {"model", "data", "output", "seed"} objects, or lines "MODEL DATA OUTPUT"
// (whitespace-separated; DATA "-" for none; OUTPUT optional; # starts a comment).
std::vector<ManifestItem> read_manifest(const std::string& path, const std::string& out_dir) {
  const std::string text = read_text(path);
  const fs::path base = fs::path(path).parent_path();
  std::vector<ManifestItem> items;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{')
    throw std::invalid_argument(path + ": a JSON manifest is an array of fits: [{\"model\": ..., \"data\": ...}, ...]");
  if (first != std::string::npos && text[first] == '[') {
    // Checked here with the file and item named: nlohmann's own errors named neither
    // ("[json.exception.type_error.302] type must be string"), a seed of -1 became 2^64 - 1 and
    // 1e20 a wrapped value (exmc sample refuses both), and a misspelt key ("sed") was ignored.
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      // "[json.exception.parse_error.101] parse error at line L, column C: ...", or (a number too
      // large for a double, "seed": 1e400) "[json.exception.out_of_range.406] number overflow
      // parsing '1e400'", which escaped a catch of parse_error alone and was printed as it is.
      const std::string m = e.what();
      const auto at = m.find("at line ");
      const auto bracket = m.find("] ");
      throw std::invalid_argument(path + ": invalid JSON " +
                                  (at != std::string::npos ? m.substr(at)
                                   : bracket != std::string::npos ? "(" + m.substr(bracket + 2) + ")" : m));
    }
    for (size_t i = 0; i < doc.size(); ++i) {
      const json& j = doc[i];
      const std::string where = fmt::format("{}: item {}", path, i + 1);
      if (!j.is_object()) throw std::invalid_argument(where + ": expected an object {\"model\": ..., \"data\": ...}");
      for (const auto& [key, value] : j.items())
        if (key != "model" && key != "data" && key != "output" && key != "seed")
          throw std::invalid_argument(where + ": unknown key '" + key + "' (model, data, output, seed)");
      auto text_of = [&](const char* key) {
        if (!j.at(key).is_string()) throw std::invalid_argument(where + ": '" + key + "' must be a string (a path)");
        return j.at(key).get<std::string>();
      };
      if (!j.contains("model")) throw std::invalid_argument(where + ": no 'model'");
      ManifestItem it;
      it.model = resolve(base, text_of("model"));
      // "" or "-" (no file, as data's "-") became an empty path: the item failed later as
      // "rank 0: : error: cannot read the model file (no such file)", naming no file or item.
      if (it.model.empty())
        throw std::invalid_argument(where + ": 'model' must name a Stan program, got " + j.at("model").dump());
      if (j.contains("data")) it.data = resolve(base, text_of("data"));
      if (j.contains("output")) it.output = resolve(base, text_of("output"));
      if (j.contains("seed")) {
        const json& sd = j.at("seed");
        if (!sd.is_number_unsigned() || sd.get<unsigned long long>() > 4294967295ull)
          throw std::invalid_argument(where + ": 'seed' must be an integer in 0..4294967295, got " + sd.dump());
        it.seed = sd.get<unsigned long long>();
      }
      items.push_back(std::move(it));
    }
  } else {
    std::istringstream in(text);
    std::string line;
    for (size_t number = 1; std::getline(in, line); ++number) {
      if (const auto h = line.find('#'); h != std::string::npos) line.resize(h);
      std::istringstream ls(line);
      std::vector<std::string> f;
      for (std::string w; ls >> w;) f.push_back(w);
      if (f.empty()) continue;
      if (f.size() > 3) throw std::invalid_argument(path + ": a line has more than MODEL DATA OUTPUT: " + line);
      ManifestItem it;
      it.model = resolve(base, f[0]);
      if (it.model.empty())  // "-" stands for no data; a fit needs a model
        throw std::invalid_argument(fmt::format("{}:{}: the model is '-': MODEL DATA [OUTPUT] needs a Stan program "
                                                "first ('-' is for DATA, a program without data)",
                                                path, number));
      if (f.size() > 1) it.data = resolve(base, f[1]);
      if (f.size() > 2) it.output = resolve(base, f[2]);
      items.push_back(std::move(it));
    }
  }
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].output.empty()) items[i].output = (fs::path(out_dir) / fmt::format("item_{:04d}", i + 1) / "output.csv").string();
  if (items.empty()) throw std::invalid_argument(path + ": no items");
  // Two fits writing one output: the second overwrote the first's files and both were "done".
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string key = fs::absolute(items[i].output).lexically_normal().string();
    const auto [at, fresh] = seen.emplace(key, i);
    if (!fresh)
      throw std::invalid_argument(fmt::format("{}: items {} and {} both write {}", path, at->second + 1, i + 1,
                                              items[i].output));
  }
  return items;
}

std::vector<std::string> identical_fits(const std::vector<ManifestItem>& items, unsigned long long batch_seed) {
  std::vector<std::string> warnings;
  std::map<std::string, size_t> first;
  const auto key_path = [](const std::string& p) {
    return p.empty() ? std::string("-") : fs::absolute(p).lexically_normal().string();
  };
  for (size_t i = 0; i < items.size(); ++i) {
    const unsigned long long seed = items[i].seed ? *items[i].seed : batch_seed;
    const std::string key = key_path(items[i].model) + '\n' + key_path(items[i].data) + '\n' + std::to_string(seed);
    const auto [at, fresh] = first.emplace(key, i);
    if (!fresh)
      warnings.push_back(fmt::format(
          "warning: items {} and {} are the same fit (model {}, data {}, seed {}): their draws will be identical; "
          "for replicates give each its own \"seed\" (a JSON manifest)",
          at->second + 1, i + 1, items[i].model, items[i].data.empty() ? "-" : items[i].data, seed));
  }
  return warnings;
}

}  // namespace exmc::cli
