// SPDX-License-Identifier: Apache-2.0
// tv_pack_bench: how fast the transfer engine's pack reader (pipeline/pack_files) reads many
// small files into part buffers, hashing every piece as the engine does, at several
// pieces-in-flight settings; 1 is reading them one by one.
//
//     tv_pack_bench --dir DIR [--files 20000] [--size 65536] [--pack 33554432] [--part 16777216]
//                   [--in-flight 1,4,16,64] [--parts 1] [--create] [--drop-cache]
//
// One loop; `--parts` readers (the engine's lanes and workers: parts in flight), each with a
// buffer of a part's size, take the packs' parts in order from one cursor, and read each with
// pack_files::read, `--in-flight` pieces at once, then hash it. --drop-cache (root) empties the
// page cache before each setting's run: a backup reads segment files that are mostly cold.
#include "io/buffer_pool.hh"
#include "io/loop.hh"
#include "io/sync_wait.hh"
#include "io/when_all.hh"
#include "pipeline/pack_files.hh"
#include "pipeline/transfer.hh"

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace tv;

struct options {
    std::string dir;
    uint64_t files = 20000;
    uint64_t size = 64 * 1024;
    uint64_t pack = 32ull << 20;
    uint64_t part = 16ull << 20;
    std::vector<unsigned> in_flight = {1, 4, 16, 64};
    unsigned parts = 1;
    bool create = false;
    bool drop_cache = false;
};

[[noreturn]] void usage(std::string_view why) {
    fmt::print(stderr, "tv_pack_bench: {}\nusage: tv_pack_bench --dir DIR [--files N] [--size BYTES] [--pack BYTES] "
                       "[--part BYTES] [--in-flight A,B,..] [--parts P] [--create] [--drop-cache]\n", why);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(fmt::format("{} needs a value", arg));
            }
            return argv[++i];
        };
        if (arg == "--dir") {
            o.dir = value();
        } else if (arg == "--files") {
            o.files = std::stoull(value());
        } else if (arg == "--size") {
            o.size = std::stoull(value());
        } else if (arg == "--pack") {
            o.pack = std::stoull(value());
        } else if (arg == "--part") {
            o.part = std::stoull(value());
        } else if (arg == "--in-flight") {
            o.in_flight.clear();
            std::string list = value();
            for (size_t at = 0; at < list.size();) {
                size_t comma = std::min(list.find(',', at), list.size());
                o.in_flight.push_back(static_cast<unsigned>(std::stoul(list.substr(at, comma - at))));
                at = comma + 1;
            }
        } else if (arg == "--parts") {
            o.parts = static_cast<unsigned>(std::stoul(value()));
        } else if (arg == "--create") {
            o.create = true;
        } else if (arg == "--drop-cache") {
            o.drop_cache = true;
        } else {
            usage(fmt::format("unknown argument {}", arg));
        }
    }
    if (o.dir.empty() || o.part % 4096 != 0 || o.part == 0 || o.in_flight.empty()) {
        usage("--dir is needed, --part must be a multiple of 4096");
    }
    return o;
}

std::string piece_path(const options& o, uint64_t i) {
    return fmt::format("{}/{:03}/{}.dat", o.dir, i / 1000, i);
}

void create_files(const options& o) {
    std::mt19937_64 random(42);
    std::string bytes(o.size, '\0');
    for (uint64_t i = 0; i < o.files; ++i) {
        std::string path = piece_path(o, i);
        if (std::filesystem::exists(path) && std::filesystem::file_size(path) == o.size) {
            continue;
        }
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        for (auto& c : bytes) {
            c = static_cast<char>(random());
        }
        std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    ::sync();
}

void drop_caches() {
    ::sync();
    std::FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w");
    if (f == nullptr || std::fputs("3", f) < 0) {
        fmt::print(stderr, "tv_pack_bench: warning: could not drop the page cache (not root?)\n");
    }
    if (f != nullptr) {
        std::fclose(f);
    }
}

/// The packs as the engine has them: a reader each, cut into parts, taken in order.
struct work {
    std::vector<std::unique_ptr<pipeline::pack_files>> readers;
    std::vector<uint64_t> sizes;
    size_t pack = 0;
    uint64_t part = 0;
    uint64_t bytes = 0;
    bool failed = false;
};

/// One part in flight at a time: reads it, `in_flight` pieces at once, and hashes its pieces.
io::task<void> read_parts(work* w, io::buffer_pool* pool) {
    auto buffer = co_await pool->acquire();
    uint64_t part_size = pool->buffer_size();
    while (w->pack < w->readers.size() && !w->failed) {
        size_t pack = w->pack;
        uint64_t part = w->part++;
        uint64_t size = w->sizes[pack];
        if ((part + 1) * part_size >= size) {
            ++w->pack;
            w->part = 0;
        }
        uint64_t length = std::min(part_size, size - part * part_size);
        auto span = buffer->span().first(length);
        auto failed = co_await w->readers[pack]->read(part, span);
        if (failed) {
            fmt::print(stderr, "tv_pack_bench: {}\n", *failed);
            w->failed = true;
            co_return;
        }
        // The engine waits for the part's turn first; with parts overlapping here a piece across
        // two parts may be hashed out of order (a wrong digest), but the bytes hashed, which are
        // what costs, are the same.
        w->readers[pack]->hash(part, span);
        w->bytes += length;
    }
}

io::task<uint64_t> read_packs(const std::vector<std::vector<pipeline::entry_piece>>& packs, io::buffer_pool& pool,
                              unsigned in_flight, unsigned parts) {
    work w;
    uint64_t part_size = pool.buffer_size();
    for (const auto& pieces : packs) {
        uint64_t size = 0;
        for (const auto& p : pieces) {
            size += p.size;
        }
        uint64_t count = std::max<uint64_t>(1, (size + part_size - 1) / part_size);
        w.readers.push_back(std::make_unique<pipeline::pack_files>(pieces, part_size, count, false, in_flight));
        w.sizes.push_back(size);
    }
    std::vector<io::task<void>> tasks;
    for (unsigned i = 0; i < parts; ++i) {
        tasks.push_back(read_parts(&w, &pool));
    }
    co_await io::when_all(std::move(tasks));
    co_return w.failed ? 0 : w.bytes;
}

}  // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    if (o.create) {
        create_files(o);
    }
    std::vector<std::vector<pipeline::entry_piece>> packs(1);
    uint64_t in_pack = 0;
    for (uint64_t i = 0; i < o.files; ++i) {
        if (in_pack + o.size > o.pack && !packs.back().empty()) {
            packs.emplace_back();
            in_pack = 0;
        }
        packs.back().push_back(pipeline::entry_piece{piece_path(o, i), o.size});
        in_pack += o.size;
    }
    io::loop l;
    io::buffer_pool pool(o.part, std::max(1u, o.parts));
    fmt::print("{} files of {} bytes in {} packs of up to {} bytes, parts of {} bytes, {} at once{}\n", o.files,
               o.size, packs.size(), o.pack, o.part, o.parts,
               o.drop_cache ? ", page cache dropped before each run" : "");
    fmt::print("{:>10} {:>10} {:>12} {:>10}\n", "in flight", "seconds", "files/s", "MiB/s");
    for (unsigned k : o.in_flight) {
        if (o.drop_cache) {
            drop_caches();
        }
        auto started = std::chrono::steady_clock::now();
        uint64_t bytes = io::sync_wait(l, read_packs(packs, pool, k, std::max(1u, o.parts)));
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (bytes == 0) {
            return 1;
        }
        fmt::print("{:>10} {:>10.2f} {:>12.0f} {:>10.1f}\n", k, seconds, static_cast<double>(o.files) / seconds,
                   static_cast<double>(bytes) / seconds / (1 << 20));
    }
    return 0;
}
