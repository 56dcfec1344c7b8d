// The temporaries of outputs still being written (CmdStanCsvWriter's out.csv.<hex>.tmp), so that
// a command ended by Ctrl-C or SIGTERM before its result exists can remove them: a method that
// has no partial result to keep would otherwise leave a stray temporary beside its output.
#pragma once

#include <string>
#include <vector>

namespace exmc::io {

// open(2)s `path` with `flags` (which include O_CREAT | O_EXCL) and, when it was created, records
// it as an unfinished temporary of this process, as one step with respect to
// remove_tracked_temporaries_for_exit(): a file it created is never missed. Returns the
// descriptor, or -1 with errno set.
int create_tracked_temporary(const std::string& path, int flags, unsigned mode);
// Forgets a temporary (renamed into place, removed, or kept on purpose as a run's partial draws).
void untrack_temporary(const std::string& path);

// Renames `temporary` to `final_path` and forgets it, as one step with respect to
// remove_tracked_temporaries_for_exit(): it sees the temporary either before the rename or not at all.
// Returns rename(2)'s result (errno set on failure; the temporary then stays tracked).
int rename_tracked_temporary(const std::string& temporary, const std::string& final_path);

// Removes every tracked temporary and returns the names removed. For a process about to end:
// the registry stays locked on return, so no rename can complete after it.
std::vector<std::string> remove_tracked_temporaries_for_exit();

}  // namespace exmc::io
