#include "exmc/io/run_checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "exmc/core/state_io.hpp"
#include "exmc/io/temporaries.hpp"

namespace exmc::io {
namespace {
// Versions: 2 added the temporary's content hash; 3 the gradient warmup's hand-off point in the
// chain state (nuts::HandoffPoint).
constexpr char kMagic[] = "EXMC-CHAIN-CHECKPOINT-3";

void write_all(int fd, std::string_view bytes, const std::string& tmp) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    }
    done += size_t(n);
  }
}
}  // namespace

std::string checkpoint_path(const std::string& output) { return output + ".checkpoint"; }

void RunCheckpoint::save(const std::string& path) const {
  // The fields, the state (length-prefixed, as StateWriter::bytes) and the checksum of all of it,
  // written in pieces: the state is not copied. Gathered into one string, it was copied once and
  // grown by doubling, several times the state's size at once (a chain's state is 72 bytes a
  // dimension: 7.2 MB at 10^5).
  StateWriter head;
  head.bytes(kMagic);
  head.bytes(fingerprint);
  head.u64(seed);
  head.bytes(run_id);
  head.u64(checkpoint_every);
  head.u64(chain_id);
  head.u64(iterations);
  head.bytes(temp_path);
  head.u64(offset);
  head.u64(rows);
  head.u64(state.size());
  StateWriter tail;
  tail.u64(content_hash);
  StateWriter sum;
  sum.u64(fnv1a64(tail.data(), fnv1a64(state, fnv1a64(head.data()))));

  std::random_device rd;
  const std::string tmp = path + "." + std::to_string(::getpid()) + "." + std::to_string(rd()) + ".tmp";
  // Locked from before its name appears until renamed into place, as the CSV temporaries are
  // (io/temporaries.hpp): a sweep of stale checkpoint temporaries by another run of this output
  // removed a live one between its creation and its rename, and this run failed.
  const int fd = create_tracked_temporary(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  const auto discard = [&] {
    ::close(fd);
    std::remove(tmp.c_str());
    untrack_temporary(tmp);
  };
  try {
    for (const std::string_view piece : {std::string_view(head.data()), std::string_view(state),
                                         std::string_view(tail.data()), std::string_view(sum.data())})
      write_all(fd, piece, tmp);
    if (::fdatasync(fd) != 0) throw std::runtime_error("cannot sync " + tmp + ": " + std::strerror(errno));
  } catch (...) {
    discard();
    throw;
  }
  // Renamed before it is closed: the lock lasts until the name is the checkpoint's.
  if (rename_tracked_temporary(tmp, path) != 0) {
    const int e = errno;
    discard();
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
  ::close(fd);
}

std::optional<RunCheckpoint> RunCheckpoint::load(const std::string& path) {
  // Whether it exists is the open's own answer: asking again afterwards (access) races with a
  // writer that renames the first checkpoint into place in between.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error("cannot read the checkpoint " + path + ": " + std::strerror(errno));
  }
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw std::runtime_error("cannot read the checkpoint " + path + ": " + std::strerror(e));
    }
    bytes.append(buf, size_t(n));
  }
  ::close(fd);
  try {
    if (bytes.size() < 8) throw std::runtime_error("too short");
    const std::string_view body(bytes.data(), bytes.size() - 8);
    StateReader tail(std::string_view(bytes).substr(bytes.size() - 8));
    StateReader r(body);
    if (r.bytes() != kMagic) throw std::runtime_error("not an exmc checkpoint, or one of another version");
    if (tail.u64() != fnv1a64(body)) throw std::runtime_error("damaged (its checksum does not match)");
    RunCheckpoint cp;
    cp.fingerprint = r.bytes();
    cp.seed = r.u64();
    cp.run_id = r.bytes();
    cp.checkpoint_every = static_cast<unsigned>(r.u64());
    cp.chain_id = static_cast<unsigned>(r.u64());
    cp.iterations = r.u64();
    cp.temp_path = r.bytes();
    cp.offset = r.u64();
    cp.rows = r.u64();
    cp.state = r.bytes();
    cp.content_hash = r.u64();
    if (!r.done()) throw std::runtime_error("damaged (trailing bytes)");
    return cp;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("checkpoint " + path + ": " + e.what());
  }
}

std::string fingerprint_difference(const std::string& saved, const std::string& now) {
  std::istringstream a(saved), b(now);
  std::string la, lb;
  while (true) {
    const bool ga = bool(std::getline(a, la)), gb = bool(std::getline(b, lb));
    if (!ga && !gb) return "";
    if (la != lb || ga != gb) {
      const auto key = [](const std::string& l) { return l.substr(0, l.find(" = ")); };
      const auto val = [](const std::string& l) {
        const auto p = l.find(" = ");
        return p == std::string::npos ? std::string("(none)") : l.substr(p + 3);
      };
      if (!ga) return key(lb) + ": not in the checkpoint";
      if (!gb) return key(la) + ": only in the checkpoint";
      if (key(la) != key(lb)) return key(la) + ": differs";
      return key(la) + ": " + val(la) + " when checkpointed, " + val(lb) + " now";
    }
  }
}

}  // namespace exmc::io
