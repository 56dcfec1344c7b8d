#include "batch_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "cli.hpp"
#include "file_text.hpp"

namespace exmc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The first setting an earlier batch in the same folder recorded differently, as a person would
// fix it: "--draws: 1000 then, 400 now", "the manifest's content changed". The refusal said only
// "other settings or inputs", leaving a user to guess which of a dozen options it meant.
std::string settings_difference(const json& then, const json& now) {
  static const std::map<std::string, std::string> file_keys = {
      {"manifest", "the manifest"}, {"model", "the --sbc model"}, {"simulator", "the --simulator program"},
      {"data", "the --data file"}};
  if (then.value("mode", "") != now.value("mode", ""))
    return fmt::format("a {} batch then, a {} batch now", then.value("mode", "?") == "sbc" ? "--sbc" : "--manifest",
                       now.value("mode", "?") == "sbc" ? "--sbc" : "--manifest");
  for (const auto& [key, value] : now.items()) {
    if (then.contains(key) && then.at(key) == value) continue;
    if (const auto f = file_keys.find(key); f != file_keys.end())
      return then.contains(key) ? f->second + "'s content changed" : f->second + " was not given then";
    std::string option = "--" + key;
    for (char& c : option)
      if (c == '_') c = '-';
    return fmt::format("{}: {} then, {} now", option, then.contains(key) ? then.at(key).dump() : "not given",
                       value.dump());
  }
  return "they were recorded differently";
}

}  // namespace

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + fmt::format(".{}.tmp", ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
    f << text;
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

// --output is a folder the batch creates (or an earlier batch's, to continue). An existing file
// there, or a file where a folder above it should be, made create_directories say only
// "filesystem error: cannot create directories: Not a directory [out/items]".
void create_output_folder(const std::string& output, const fs::path& items_dir) {
  std::error_code ec;
  fs::path norm = fs::path(output).lexically_normal();
  if (!norm.has_filename()) norm = norm.parent_path();  // "out/"
  for (fs::path p = norm; !p.empty(); p = p.parent_path()) {
    if (fs::is_directory(p, ec)) break;
    if (fs::exists(fs::symlink_status(p, ec)))
      throw std::invalid_argument("--output " + output + (p == norm ? " is" : ": " + p.string() + " is") +
                                  " a file, not a folder (the batch writes a folder: its records, status.tsv and "
                                  "each fit's files; give a new folder's name, or an earlier batch's to continue it)");
    if (p == p.parent_path()) break;
  }
  fs::create_directories(items_dir, ec);
  if (ec) throw std::runtime_error("--output " + output + ": cannot create the folder " + items_dir.string() + ": " +
                                   ec.message());
}

FitLock::FitLock(const fs::path& output_dir, size_t item, bool wait) {
  const fs::path dir = output_dir / "locks";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path path = dir / fmt::format("item_{:04d}.lock", item + 1);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open the lock " + path.string() + ": " + std::strerror(errno));
  int rc;
  do rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int e = errno;
    ::close(fd);
    if (!wait && e == EWOULDBLOCK) return;
    // A file system without locks (an NFS mount without its lock service): the attempt goes on
    // unguarded, as before the lock; a try (wait false) holds nothing, so nothing is removed.
    if (e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS || e == EINVAL) return;
    throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(e));
  }
  fd_ = fd;
}

FitLock::~FitLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

std::string record_name(bool sbc, size_t item) {
  return sbc ? fmt::format("sim_{:06d}.json", item) : fmt::format("item_{:04d}.json", item + 1);
}

namespace {

// One of the folder's own JSON files, which a user (or a full disk) may have damaged: refused
// naming it and what to do. nlohmann's own messages named no file ("exmc batch: error:
// [json.exception.parse_error.101] parse error at line 2, column 0: ...", "... key 'settings'
// not found", "type must be number, but is string").
json read_folder_json(const fs::path& path, const char* what, const char* remedy) {
  json j;
  try {
    j = json::parse(read_text(path.string()));
  } catch (const json::exception& e) {  // parse_error, or out_of_range.406 for a number like 1e400
    const std::string m = e.what();
    const auto at = m.find("at line "), bracket = m.find("] ");
    throw std::invalid_argument(fmt::format(
        "{}: not valid JSON ({}): {}", path.string(),
        at != std::string::npos ? m.substr(at) : bracket != std::string::npos ? m.substr(bracket + 2) : m, remedy));
  }
  if (!j.is_object()) throw std::invalid_argument(fmt::format("{}: not {}: {}", path.string(), what, remedy));
  return j;
}

}  // namespace

json read_record(const fs::path& items_dir, bool sbc, size_t item) {
  const fs::path rec = items_dir / record_name(sbc, item);
  if (!fs::exists(rec)) return json{{"status", "missing"}};
  const char* remedy = "remove it to run the item again";
  json j = read_folder_json(rec, "an item's record", remedy);
  // What the batch reads of a record without asking: the status, the counters of status.tsv, a
  // completed fit's files and the inputs' fingerprints.
  const auto is = [&](const char* key, bool (json::*type)() const) { return !j.contains(key) || (j[key].*type)(); };
  bool fine = j.contains("status") && j["status"].is_string() && is("attempts", &json::is_number_integer) &&
              is("rank", &json::is_number_integer) && is("inputs", &json::is_object);
  if (fine && j.contains("inputs"))
    for (const auto& [key, value] : j["inputs"].items()) fine = fine && value.is_string();
  if (fine && !sbc && j["status"] == "ok") {
    fine = j.contains("result") && j["result"].is_object() && j["result"].contains("files") &&
           j["result"]["files"].is_array();
    for (const auto& f : fine ? j["result"]["files"] : json::array()) fine = fine && f.is_string();
  }
  if (fine && sbc && j["status"] == "ok") {
    // A simulation's ranks, one per name: fewer were read past their end in the SBC summary.
    const json& r = j.contains("result") ? j["result"] : json();
    fine = r.is_object();
    for (const char* key : {"simulation", "fit_seed", "divergences"})
      fine = fine && r.contains(key) && r[key].is_number_unsigned();
    fine = fine && r.contains("names") && r["names"].is_array() && r.contains("ranks") && r["ranks"].is_array() &&
           r["ranks"].size() == r["names"].size();
    for (const auto& n : fine ? r["names"] : json::array()) fine = fine && n.is_string();
    for (const auto& k : fine ? r["ranks"] : json::array())
      fine = fine && k.is_number_unsigned() && k.get<uint64_t>() <= 4294967295u;
  }
  if (!fine) throw std::invalid_argument(fmt::format("{}: not an item's record as exmc batch writes it: {}", rec.string(), remedy));
  return j;
}

void remove_fit_temporaries(const std::string& output, unsigned chains) {
  for (unsigned c = 0; c < chains; ++c) {
    const fs::path out(chain_output_path(output, c, chains));
    const std::string prefix = out.filename().string() + ".";
    const fs::path folder = out.has_parent_path() ? out.parent_path() : fs::path(".");
    std::error_code ec;
    std::vector<fs::path> stale;
    for (const auto& e : fs::directory_iterator(folder, ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() == prefix.size() + 20 && name.compare(0, prefix.size(), prefix) == 0 &&
          name.compare(name.size() - 4, 4, ".tmp") == 0 &&
          name.find_first_not_of("0123456789abcdef", prefix.size()) == name.size() - 4)
        stale.push_back(e.path());
    }
    for (const auto& p : stale) fs::remove(p, ec);
  }
}

BatchPlan plan_batch(const fs::path& dir, const json& settings, bool sbc, size_t items,
                     std::optional<uint64_t> seed, uint64_t fresh_seed) {
  BatchPlan plan{seed ? *seed : fresh_seed, {}, 0};
  const fs::path batch_file = dir / "batch.json";
  if (fs::exists(batch_file)) {
    const char* remedy = "remove it (the batch's settings are then those of this run), or use another --output";
    const auto earlier = read_folder_json(batch_file, "a batch's settings", remedy);
    if (!earlier.contains("settings") || !earlier["settings"].is_object() || !earlier.contains("seed") ||
        !earlier["seed"].is_number_unsigned())
      throw std::invalid_argument(fmt::format("{}: not a batch's settings (an object with \"settings\" and "
                                              "\"seed\"): {}", batch_file.string(), remedy));
    json then = earlier.at("settings");
    then.erase("simulations");  // recorded by earlier versions; an SBC may go on with more
    if (then != settings)
      throw std::invalid_argument(dir.string() + " holds a batch with other settings or inputs (" +
                                  batch_file.string() + ": " + settings_difference(then, settings) +
                                  "); use the same options, or another --output");
    const uint64_t earlier_seed = earlier.at("seed").get<uint64_t>();
    if (seed && earlier_seed != *seed)
      throw std::invalid_argument(fmt::format("{} holds a batch with seed {}, not {}", dir.string(), earlier_seed, *seed));
    plan.seed = earlier_seed;
  } else {
    write_atomically(batch_file, json{{"settings", settings}, {"seed", plan.seed}}.dump(1) + "\n");
  }
  for (size_t i = 0; i < items; ++i) {
    if (read_record(dir / "items", sbc, i).value("status", "") == "ok") ++plan.earlier_done;
    else plan.todo.push_back(i);
  }
  return plan;
}

json fit_inputs(const ManifestItem& item) {
  return {{"model", content_fingerprint(item.model)}, {"data", content_fingerprint(item.data)}};
}

std::vector<std::string> recheck_completed_fits(const fs::path& items_dir, const std::vector<ManifestItem>& items,
                                                BatchPlan& plan) {
  std::vector<std::string> notes;
  std::vector<size_t> again;
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::find(plan.todo.begin(), plan.todo.end(), i) != plan.todo.end()) continue;
    const json rec = read_record(items_dir, false, i);
    if (const auto inputs = rec.find("inputs"); inputs != rec.end()) {  // records before it had none
      const json now = fit_inputs(items[i]);
      for (const char* key : {"model", "data"})
        if (inputs->value(key, "") != now.at(key))
          throw std::invalid_argument(fmt::format(
              "item {}: its {} file {} changed since it was fitted ({}): its files hold draws of the old one. Give "
              "another --output, or remove that record to fit it again",
              i + 1, key, key == std::string("model") ? items[i].model : items[i].data,
              (items_dir / record_name(false, i)).string()));
    }
    std::string gone;
    for (const auto& f : rec.at("result").at("files"))
      if (gone.empty() && !fs::is_regular_file(f.get<std::string>())) gone = f.get<std::string>();
    if (gone.empty()) continue;
    again.push_back(i);
    notes.push_back(fmt::format("item {} was done, but {} is gone: it is fitted again", i + 1, gone));
  }
  plan.todo.insert(plan.todo.end(), again.begin(), again.end());
  std::sort(plan.todo.begin(), plan.todo.end());
  plan.earlier_done -= again.size();
  return notes;
}

}  // namespace exmc::cli
