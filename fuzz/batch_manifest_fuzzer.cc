// libFuzzer target: exmc batch's manifest (`exmc batch --manifest FILE`: a JSON array of
// {"model", "data", "output", "seed"} objects, or lines "MODEL DATA [OUTPUT]") ->
// cli::read_manifest (tools/batch_manifest.cc, compiled in), then cli::identical_fits.
// A refusal must be a std::invalid_argument whose message starts with the file's name and a colon
// (exmc batch prints it as the error); anything else (a library's exception with its own wording, a crash,
// a sanitizer report, a leak, a hang) is a finding. What it returns must hold what exmc batch
// relies on: at least one item, each with a model and an output, no two outputs the same.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>

#include "batch_manifest.hpp"

namespace {

const std::string& as_file(const std::string& bytes) {
  static const int fd = memfd_create("manifest", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    __builtin_trap();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string& path = as_file(text);
  std::vector<exmc::cli::ManifestItem> items;
  try {
    items = exmc::cli::read_manifest(path, "/batch-out");
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).rfind(path + ":", 0) != 0) __builtin_trap();  // "PATH: ..." or "PATH:LINE: ..."
    return 0;
  } catch (...) {
    __builtin_trap();
  }
  if (items.empty()) __builtin_trap();
  std::set<std::string> outputs;
  for (const auto& it : items) {
    if (it.model.empty() || it.output.empty()) __builtin_trap();
    if (it.seed && *it.seed > 4294967295ull) __builtin_trap();
    if (!outputs.insert(std::filesystem::absolute(it.output).lexically_normal().string()).second) __builtin_trap();
  }
  (void)exmc::cli::identical_fits(items, 1);
  return 0;
}
