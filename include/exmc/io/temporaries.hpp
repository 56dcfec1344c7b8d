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
// descriptor, or -1 with errno set. The file is flock(2)ed (exclusively) before its name appears
// (created unnamed, O_TMPFILE, and linked; where the file system has no unnamed files, locked
// right after it is created): the lock lasts while the descriptor is open, and ends with the
// process however it ends (kill -9 too), so other processes can tell a temporary being written
// from one a dead or finished writer left (remove_if_abandoned).
int create_tracked_temporary(const std::string& path, int flags, unsigned mode);

// Removes `path` when it is a regular file that no open descriptor holds locked (its writer
// ended, by kill -9 included, or closed it) and returns whether it did. A temporary a live
// create_tracked_temporary() writer holds is never removed; nor is a file written by a program
// that does not lock (the caller must know the name is a temporary's).
bool remove_if_abandoned(const std::string& path);
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
