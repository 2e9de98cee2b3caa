// SPDX-License-Identifier: Apache-2.0
// tv_read_bench: sequential read throughput of our io_uring runtime over a set of files, printed
// as MB/s so that bench/read-bench.sh can set it beside fio's io_uring figure for the same files.
//
// Job shape (the same as `fio --rw=read --file_service_type=sequential --filename=f0:f1:...`):
// one loop on the main thread, one buffer pool of `depth` buffers of `block` bytes registered with
// the ring, and `depth` worker coroutines sharing one cursor that walks the files in order, block
// by block. So exactly `depth` reads are in flight at any time, the files are read one after the
// other, and the next file starts while the tail of the previous one is still in the kernel, as
// fio does. We do not read all files at once (depth / N each, fio's default roundrobin): that
// interleaves N streams, so neighbouring reads can no longer merge into one device request
// (measured with fio on a virtio disk: ~4500 device requests for 4GiB instead of 2000-4000, and
// no faster).
//
// The buffers come from io::buffer_pool, which always backs them with transparent huge pages
// (io/buffer_pool.cc): a buffer on 4KiB pages reaches the block layer as one segment per page,
// so a 1MiB read is 256 segments and splits in two on a device that takes 254 (virtio); from a
// 2MiB page it is one segment, and adjacent reads merge up to the device's max_sectors_kb.
// --verbose reports how much of the pool the kernel actually gave huge pages.
//
// --fixed 0 is for investigating the runtime, not for the headline figure: plain READ instead of
// READ_FIXED.
#include "io/buffer_pool.hh"
#include "io/error.hh"
#include "io/file.hh"
#include "io/log.hh"
#include "io/loop.hh"
#include "io/ops.hh"
#include "io/sync_wait.hh"
#include "io/task.hh"
#include "io/when_all.hh"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace io = tv::io;

namespace {

constexpr std::string_view k_usage = R"(tv_read_bench: sequential read throughput of the tabletvault io_uring runtime.

Usage:
  tv_read_bench --dir DIR --files N --size BYTES [--block BYTES] [--depth D] [--direct 0|1]
                [--fixed 0|1] [--create] [--drop-cache] [--verbose]

  --dir DIR        directory holding DIR/file_0 .. DIR/file_{N-1}
  --files N        number of files
  --size BYTES     size of each file (suffixes k, m, g = KiB, MiB, GiB)
  --block BYTES    read size, a multiple of 4096 (default 1MiB)
  --depth D        reads in flight (default 8)
  --direct 0|1     O_DIRECT (1, default) or the page cache (0)
  --fixed 0|1      register the pool with the ring and use READ_FIXED (1, default) or plain READ (0)
  --create         (re)write the files with pseudo-random content first, then fsync them
  --drop-cache     sync and drop the page cache (echo 3 > /proc/sys/vm/drop_caches) before reading
  --verbose        also print the loop's counters (submitted, completed, parked, max in kernel) and
                   how many of the pool's bytes are on huge pages

Prints one line: tabletvault read: files=.. size=.. block=.. depth=.. direct=.. bytes=.. seconds=..
MB/s=.. (MB = 10^6 bytes); --verbose adds "tabletvault loop: .." and "tabletvault pool: bytes=..
huge_page_bytes=..". Exit codes: 0 success, 1 an I/O error, 2 a bad command line.
)";

constexpr uint64_t k_alignment = io::direct_io_alignment;
constexpr unsigned k_max_depth = 4096;

struct options {
    std::string dir;
    uint64_t files = 0;
    uint64_t size = 0;
    uint64_t block = 1024 * 1024;
    uint64_t depth = 8;
    bool direct = true;
    bool create = false;
    bool drop_cache = false;
    bool verbose = false;
    bool register_buffers = true;
};

/// A byte count: digits with an optional binary suffix (k, m, g, t; case-insensitive).
std::optional<uint64_t> parse_bytes(std::string_view text) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data()) {
        return std::nullopt;
    }
    std::string_view suffix(end, static_cast<size_t>(text.data() + text.size() - end));
    if (suffix.size() > 1 && (suffix.ends_with("iB") || suffix.ends_with("ib"))) {
        suffix.remove_suffix(2);  // "MiB" and friends
    }
    unsigned shift = 0;
    if (suffix.empty()) {
        shift = 0;
    } else if (suffix == "k" || suffix == "K") {
        shift = 10;
    } else if (suffix == "m" || suffix == "M") {
        shift = 20;
    } else if (suffix == "g" || suffix == "G") {
        shift = 30;
    } else if (suffix == "t" || suffix == "T") {
        shift = 40;
    } else {
        return std::nullopt;
    }
    if (shift != 0 && value > (UINT64_MAX >> shift)) {
        return std::nullopt;
    }
    return value << shift;
}

/// Parses argv into `opt`; returns an error message for a bad command line.
std::optional<std::string> parse_args(int argc, char** argv, options& opt) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::optional<std::string_view> inline_value;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            inline_value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        auto value = [&]() -> std::optional<std::string_view> {
            if (inline_value) {
                return inline_value;
            }
            if (i + 1 < args.size()) {
                return args[++i];
            }
            return std::nullopt;
        };
        auto bytes_flag = [&](uint64_t& out) -> std::optional<std::string> {
            auto v = value();
            if (!v) {
                return fmt::format("{} needs a value", arg);
            }
            auto n = parse_bytes(*v);
            if (!n) {
                return fmt::format("{}: not a byte count: '{}'", arg, *v);
            }
            out = *n;
            return std::nullopt;
        };
        std::optional<std::string> error;
        if (arg == "--help" || arg == "-h") {
            fmt::print("{}", k_usage);
            std::exit(0);
        } else if (arg == "--dir") {
            auto v = value();
            if (!v || v->empty()) {
                return "--dir needs a directory";
            }
            opt.dir = std::string(*v);
        } else if (arg == "--files") {
            error = bytes_flag(opt.files);
        } else if (arg == "--size") {
            error = bytes_flag(opt.size);
        } else if (arg == "--block") {
            error = bytes_flag(opt.block);
        } else if (arg == "--depth") {
            error = bytes_flag(opt.depth);
        } else if (arg == "--direct") {
            auto v = value();
            if (!v || (*v != "0" && *v != "1")) {
                return "--direct needs 0 or 1";
            }
            opt.direct = *v == "1";
        } else if (arg == "--create" && !inline_value) {
            opt.create = true;
        } else if (arg == "--drop-cache" && !inline_value) {
            opt.drop_cache = true;
        } else if (arg == "--fixed") {
            auto v = value();
            if (!v || (*v != "0" && *v != "1")) {
                return "--fixed needs 0 or 1";
            }
            opt.register_buffers = *v == "1";
        } else if (arg == "--verbose" && !inline_value) {
            opt.verbose = true;
        } else {
            return fmt::format("unknown argument '{}'", args[i]);
        }
        if (error) {
            return error;
        }
    }
    if (opt.dir.empty()) {
        return "--dir is required";
    }
    if (opt.files == 0) {
        return "--files must be at least 1";
    }
    if (opt.size == 0) {
        return "--size must be at least 1 byte";
    }
    if (opt.block == 0 || opt.block % k_alignment != 0 || opt.block > (1u << 30)) {
        return fmt::format("--block must be a non-zero multiple of {} up to 1GiB", k_alignment);
    }
    if (opt.depth == 0 || opt.depth > k_max_depth) {
        return fmt::format("--depth must be between 1 and {}", k_max_depth);
    }
    return std::nullopt;
}

std::string file_path(const options& opt, uint64_t index) {
    return fmt::format("{}/file_{}", opt.dir, index);
}

[[noreturn]] void fail(const std::error_code& ec, std::string_view what) {
    throw std::runtime_error(io::describe(ec, what));
}

// ---- --create ------------------------------------------------------------------------------

/// xorshift64*: cheap, non-zero, incompressible-looking content.
void fill_pseudo_random(std::span<std::byte> out, uint64_t seed) {
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (state == 0) {
        state = 1;
    }
    auto* words = reinterpret_cast<uint64_t*>(out.data());
    size_t count = out.size() / sizeof(uint64_t);
    for (size_t i = 0; i < count; ++i) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        words[i] = (state * 0x2545F4914F6CDD1Dull) | 1;  // never a zero word
    }
    for (size_t i = count * sizeof(uint64_t); i < out.size(); ++i) {
        out[i] = std::byte{0x5a};
    }
}

/// Writes every file through the page cache in 8MiB chunks, then fsyncs it, so that the reads
/// that follow find the data on the device.
io::task<void> create_files(const options& opt) {
    constexpr size_t chunk = 8 * 1024 * 1024;
    io::buffer_pool pool(chunk, 1);
    auto buffer = pool.try_acquire();
    std::span<std::byte> mem = buffer->span();
    for (uint64_t i = 0; i < opt.files; ++i) {
        std::string path = file_path(opt, i);
        auto f = co_await io::open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644, io::direct_mode::off);
        if (!f) {
            fail(f.error(), fmt::format("create {}", path));
        }
        for (uint64_t offset = 0; offset < opt.size; offset += chunk) {
            size_t length = static_cast<size_t>(std::min<uint64_t>(chunk, opt.size - offset));
            fill_pseudo_random(mem.first(length), (i << 40) ^ (offset / chunk + 1));
            auto written = co_await io::write_fully(f->fd(), mem.first(length), offset);
            if (!written) {
                fail(written.error(), fmt::format("write {} at {}", path, offset));
            }
        }
        if (auto synced = co_await io::fsync(f->fd()); !synced) {
            fail(synced.error(), fmt::format("fsync {}", path));
        }
        if (auto closed = co_await f->close(); !closed) {
            fail(closed.error(), fmt::format("close {}", path));
        }
    }
}

// ---- --drop-cache --------------------------------------------------------------------------

void drop_caches() {
    ::sync();
    std::FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w");
    bool ok = f != nullptr && std::fputs("3\n", f) >= 0;
    if (f != nullptr && std::fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        fmt::print(stderr, "tv_read_bench: warning: could not drop the page cache ({}); reading anyway\n",
                   io::errno_text(errno));
    }
}

// ---- --verbose: huge pages ---------------------------------------------------------------

/// AnonHugePages of the mapping that holds the pool, in bytes, from /proc/self/smaps; nullopt
/// when it cannot be read. The pool is its own mapping (its huge-page advice keeps the kernel
/// from merging it with neighbours), so this is the pool's figure.
std::optional<uint64_t> pool_huge_bytes(const io::buffer_pool& pool) {
    const auto base = reinterpret_cast<uintptr_t>(pool.iovecs().front().iov_base);
    std::FILE* f = std::fopen("/proc/self/smaps", "r");
    if (f == nullptr) {
        return std::nullopt;
    }
    std::optional<uint64_t> result;
    bool in_pool = false;
    char line[512];
    while (std::fgets(line, sizeof line, f) != nullptr) {
        unsigned long start = 0;
        unsigned long end = 0;
        unsigned long kib = 0;
        if (std::sscanf(line, "%lx-%lx ", &start, &end) == 2) {
            in_pool = start <= base && base < end;
        } else if (in_pool && std::sscanf(line, "AnonHugePages: %lu kB", &kib) == 1) {
            result = uint64_t{kib} * 1024;
            break;
        }
    }
    std::fclose(f);
    return result;
}

// ---- the read --------------------------------------------------------------------------------

/// Shared by the workers (all on the one loop thread, so no locking): the cursor over
/// (file, offset) and the totals.
struct read_state {
    const options& opt;
    io::buffer_pool& pool;
    std::vector<io::file> files;
    uint64_t next_file = 0;
    uint64_t next_offset = 0;
    uint64_t bytes = 0;
    uint64_t reads = 0;
    std::optional<std::string> error;  // the first failure; stops every worker

    struct block_ref {
        const io::file* file;
        uint64_t offset;
        uint64_t length;
    };

    /// The next block in file order, or nullopt when everything is handed out (or failed).
    std::optional<block_ref> take() {
        if (error || next_file >= files.size()) {
            return std::nullopt;
        }
        block_ref b{&files[next_file], next_offset, std::min(opt.block, opt.size - next_offset)};
        next_offset += b.length;
        if (next_offset >= opt.size) {
            ++next_file;
            next_offset = 0;
        }
        return b;
    }

    void fail(std::string message) {
        if (!error) {
            error = std::move(message);
        }
    }
};

constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

/// One of `depth` workers: take the next block, take a pool buffer, read the block into it
/// (READ_FIXED when the pool is registered with this ring), count, give the buffer back.
io::task<void> read_worker(read_state& s) {
    while (auto b = s.take()) {
        auto buffer = co_await s.pool.acquire();
        if (!buffer) {
            s.fail("buffer pool: acquire was cancelled");
            co_return;
        }
        std::span<std::byte> mem = buffer->span();
        const int fixed = buffer->fixed_index();
        const int fd = b->file->fd();
        uint64_t done = 0;
        while (done < b->length) {
            uint64_t want = b->length - done;
            if (s.opt.direct) {
                // O_DIRECT moves whole sectors: ask for them and the kernel stops at end of file.
                want = std::min<uint64_t>(align_up(want, k_alignment), mem.size() - done);
            }
            auto span = mem.subspan(done, want);
            auto n = co_await (fixed >= 0 ? io::read_fixed(fd, span, b->offset + done, fixed)
                                          : io::read(fd, span, b->offset + done));
            ++s.reads;
            if (!n) {
                s.fail(io::describe(n.error(), fmt::format("read {} bytes at offset {}", want, b->offset + done)));
                co_return;
            }
            if (*n == 0) {
                s.fail(fmt::format("unexpected end of file at offset {} (is the file shorter than --size?)",
                                   b->offset + done));
                co_return;
            }
            done += std::min<uint64_t>(*n, b->length - done);
        }
        s.bytes += done;
    }
}

struct read_result {
    uint64_t bytes = 0;
    uint64_t reads = 0;
    double seconds = 0;
    bool fixed_buffers = false;
};

io::task<read_result> read_files(const options& opt, io::buffer_pool& pool, bool fixed_buffers) {
    read_state s{opt, pool, {}, 0, 0, 0, 0, std::nullopt};
    s.files.reserve(opt.files);
    // Open (and check) every file before the clock starts, as fio does in its job set-up.
    for (uint64_t i = 0; i < opt.files; ++i) {
        std::string path = file_path(opt, i);
        auto f = co_await io::open_file(path, O_RDONLY, 0, opt.direct ? io::direct_mode::required
                                                                        : io::direct_mode::off);
        if (!f) {
            fail(f.error(), fmt::format("open {}{}", path, opt.direct ? " with O_DIRECT" : ""));
        }
        struct stat st{};
        if (::fstat(f->fd(), &st) != 0) {
            fail(io::errno_error(errno), fmt::format("fstat {}", path));
        }
        if (static_cast<uint64_t>(st.st_size) != opt.size) {
            throw std::runtime_error(fmt::format("{} has {} bytes, not --size {} (run with --create)", path,
                                                 st.st_size, opt.size));
        }
        s.files.push_back(std::move(*f));
    }

    std::vector<io::task<void>> workers;
    workers.reserve(opt.depth);
    for (uint64_t i = 0; i < opt.depth; ++i) {
        workers.push_back(read_worker(s));
    }
    auto start = std::chrono::steady_clock::now();
    co_await io::when_all(std::move(workers));
    auto end = std::chrono::steady_clock::now();

    for (auto& f : s.files) {
        if (auto closed = co_await f.close(); !closed && !s.error) {
            s.fail(io::describe(closed.error(), "close"));
        }
    }
    if (s.error) {
        throw std::runtime_error(*s.error);
    }
    co_return read_result{s.bytes, s.reads, std::chrono::duration<double>(end - start).count(), fixed_buffers};
}

int run(const options& opt) {
    // Enough ring for every read at once (the loop parks beyond 2 * entries anyway).
    io::loop_options loop_opts;
    loop_opts.entries = std::max<unsigned>(256, static_cast<unsigned>(opt.depth));
    io::loop loop(loop_opts);

    if (opt.create) {
        std::error_code ec;
        std::filesystem::create_directories(opt.dir, ec);
        if (ec) {
            fail(ec, fmt::format("create directory {}", opt.dir));
        }
        auto start = std::chrono::steady_clock::now();
        io::sync_wait(loop, create_files(opt));
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print(stderr, "tv_read_bench: created {} files of {} bytes in {} ({:.3f} s)\n", opt.files, opt.size,
                   opt.dir, seconds);
    }

    io::buffer_pool pool(static_cast<size_t>(opt.block), static_cast<size_t>(opt.depth));
    // Unregistered (--fixed 0), fixed_index() is -1 and the workers use plain READ.
    bool fixed_buffers = false;
    if (opt.register_buffers) {
        if (auto ec = pool.register_with(loop)) {
            fmt::print(stderr, "tv_read_bench: warning: {}; using plain reads\n",
                       io::describe(ec, "registering the buffers with the ring"));
        } else {
            fixed_buffers = true;
        }
    }

    if (opt.drop_cache) {
        drop_caches();
    }

    read_result r = io::sync_wait(loop, read_files(opt, pool, fixed_buffers));
    const uint64_t expected = opt.files * opt.size;
    if (r.bytes != expected) {
        fmt::print(stderr, "tv_read_bench: read {} bytes, expected {} ({} files of {})\n", r.bytes, expected,
                   opt.files, opt.size);
        return 1;
    }
    const double mb_s = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0.0;
    const double mib_s = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / (1024.0 * 1024.0) : 0.0;
    fmt::print("tabletvault read: files={} size={} block={} depth={} direct={} bytes={} seconds={:.3f} "
               "MB/s={:.1f} MiB/s={:.1f} fixed_buffers={}\n",
               opt.files, opt.size, opt.block, opt.depth, opt.direct ? 1 : 0, r.bytes, r.seconds, mb_s, mib_s,
               r.fixed_buffers ? 1 : 0);
    if (opt.verbose) {
        const io::loop_stats& st = loop.stats();
        fmt::print("tabletvault loop: reads={} submitted={} completed={} parked={} resubmitted={} max_in_kernel={}\n",
                   r.reads, st.submitted, st.completed, st.parked, st.resubmitted, st.max_in_kernel);
        const uint64_t pool_bytes = opt.block * opt.depth;
        if (auto huge = pool_huge_bytes(pool)) {
            fmt::print("tabletvault pool: bytes={} huge_page_bytes={}\n", pool_bytes, std::min(*huge, pool_bytes));
        } else {
            fmt::print("tabletvault pool: bytes={} huge_page_bytes=unknown\n", pool_bytes);
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    if (auto error = parse_args(argc, argv, opt)) {
        fmt::print(stderr, "tv_read_bench: {}\nRun `tv_read_bench --help` for usage.\n", *error);
        return 2;
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        fmt::print(stderr, "tv_read_bench: error: {}\n", e.what());
        return 1;
    }
}
