// exmc batch's output folder: batch.json (the settings and seed, checked by a re-run), one record
// per resolved item under items/ (a re-run skips the completed ones), written atomically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "batch_manifest.hpp"

namespace exmc::cli {

// Written under a temporary name, then renamed: a reader (or a resume) sees all or nothing.
void write_atomically(const std::filesystem::path& path, const std::string& text);

// Creates OUTPUT/items, or refuses an OUTPUT that is (or lies under) a file.
void create_output_folder(const std::string& output, const std::filesystem::path& items_dir);

// items/sim_000012.json (SBC simulations count from 0), items/item_0003.json (fits from 1).
std::string record_name(bool sbc, size_t item);

// Item `item`'s record in items_dir, or {"status": "missing"}.
nlohmann::json read_record(const std::filesystem::path& items_dir, bool sbc, size_t item);

// The CSV temporaries (`out_1.csv.<16 hex>.tmp`) of a fit writing `output` with `chains` chains:
// a batch fit never continues one (it does not checkpoint), so an attempt's are only leftovers.
void remove_fit_temporaries(const std::string& output, unsigned chains);

// An exclusive lock (flock) on OUTPUT/locks/item_NNNN.lock, held while an attempt writes a
// manifest fit's files and released when its process ends, however it ends. Two attempts of one
// item can run at once (a rank presumed dead that was only slow fits on while another rank
// fits the item again): each removed the other's CSV temporaries, both failed at their rename
// and the item failed. The second now waits for the first. `wait` false: only tries. Where the
// file system has no locks, nothing is held (held() false) and the attempt goes on unguarded.
class FitLock {
 public:
  FitLock(const std::filesystem::path& output_dir, size_t item, bool wait);
  ~FitLock();
  FitLock(const FitLock&) = delete;
  FitLock& operator=(const FitLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct BatchPlan {
  uint64_t seed;
  std::vector<size_t> todo;  // the items without a completed record
  size_t earlier_done;
};

// Records `settings` and the seed in DIR/batch.json, or, when an earlier batch recorded them
// there, refuses other settings (naming the first that differs) or another given seed and takes
// the earlier seed. `seed`: the one given, if any; `fresh_seed` when none was given nor recorded.
BatchPlan plan_batch(const std::filesystem::path& dir, const nlohmann::json& settings, bool sbc, size_t items,
                     std::optional<uint64_t> seed, uint64_t fresh_seed);

// What a completed fit's record stands on: its model's and data's content, checked when the
// batch is run again.
nlohmann::json fit_inputs(const ManifestItem& item);

// The completed fits of `plan` checked against what is on disk now. One whose files are gone
// (deleted, moved) is added to plan.todo, to be fitted again, and a note says so; one whose
// model or data changed since (recorded by fit_inputs) is refused: its files hold draws of the
// old one. Returns the notes.
std::vector<std::string> recheck_completed_fits(const std::filesystem::path& items_dir,
                                                const std::vector<ManifestItem>& items, BatchPlan& plan);

}  // namespace exmc::cli
