// exmc batch's manifest: the fits to run, as a JSON array of {"model", "data", "output", "seed"}
// objects or lines "MODEL DATA [OUTPUT]".
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace exmc::cli {

struct ManifestItem {
  std::string model, data, output;
  std::optional<unsigned long long> seed;
};

// The manifest at `path`, paths resolved against its folder; an item without an output writes
// OUT_DIR/item_NNNN/output.csv. Throws std::invalid_argument naming the file and item.
std::vector<ManifestItem> read_manifest(const std::string& path, const std::string& out_dir);

// Warnings for items that are the same fit as an earlier one (the same model and data files and
// the same seed, `batch_seed` for an item without one): their draws are identical, where a user
// listing a fit twice most likely wanted replicates.
std::vector<std::string> identical_fits(const std::vector<ManifestItem>& items, unsigned long long batch_seed);

}  // namespace exmc::cli
