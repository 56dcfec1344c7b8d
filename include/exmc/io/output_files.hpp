// Checks and housekeeping for the files a run writes, done before any work starts: an output
// must never be one of the run's inputs, and an output that cannot be created must fail at once,
// not after minutes of sampling.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exmc::io {

// An input of a run ("model", "data", "init", ...) by its role, for the messages.
struct NamedFile {
  std::string role;
  std::string path;  // empty: not given (skipped)
};

// Throws std::runtime_error when `output` is (the same file as) one of `inputs` (naming both
// paths), is a directory, lies in a folder that does not exist or is not writable. `option`
// names the option in the message ("--output"). Same file: std::filesystem::equivalent when
// both exist (hard links, symlinks, "./x" and "x" alike), else equal normalised paths.
void check_output_file(const std::string& output, const std::vector<NamedFile>& inputs,
                       const std::string& option = "--output");

// Removes `path` when it exists as a regular file (or a symlink). Returns whether it removed
// one; throws std::runtime_error when it cannot.
bool remove_previous_output(const std::string& path);

// The bytes the file system holding `folder` has free for this user (statvfs: f_bavail x
// f_frsize); std::nullopt when it cannot tell.
std::optional<uint64_t> free_space(const std::string& folder);
// Replaces what free_space() answers (a test's seam: no disk is filled to test a warning);
// nullptr restores statvfs.
using FreeSpaceQuery = std::optional<uint64_t> (*)(const std::string& folder);
void set_free_space_query(FreeSpaceQuery query);

}  // namespace exmc::io
