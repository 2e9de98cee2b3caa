// SPDX-License-Identifier: Apache-2.0
// Garbage collection of a repository's data, run by DROP SNAPSHOT under its drop lease when no
// other lease is live (see snapshot_drop.hh and docs/repository-gc.md):
//   - every manifest left (complete or partial) is read and checked; one that cannot be read
//     stops the collection before anything is deleted;
//   - packs whose unreferenced share reaches the threshold are repacked: the live files copied
//     into a new pack, every manifest that used the old one rewritten (new manifest, then a new
//     info naming it, then the old info and manifest removed), and only then the old pack is
//     garbage like any other object;
//   - data objects no manifest references and last written before the grace period are deleted.
#include "jobs/snapshot_drop.hh"

#include "io/failpoint.hh"
#include "io/log.hh"
#include "io/ops.hh"
#include "jobs/job_info.hh"
#include "jobs/repository_access.hh"
#include "jobs/snapshot_manifest.hh"
#include "remote/snapshot_layout.hh"

#include <fmt/format.h>

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace tv::jobs {

namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string_view leaf_of(std::string_view key) {
    auto slash = key.rfind('/');
    return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

std::string_view parent_of(std::string_view key) {
    auto slash = key.rfind('/');
    return slash == std::string_view::npos ? std::string_view{} : key.substr(0, slash);
}

/// Reads `key` and checks it against the checksum in its name.
io::task<job_result<std::string>> read_checked(remote::object_store& store, std::string key, std::stop_token stop) {
    auto named = remote::split_checksum(key);
    if (!named) {
        co_return make_job_error(status_code::bad_file, fmt::format("{} has no checksum in its name", key));
    }
    auto body = co_await store.get(key, std::nullopt, stop);
    if (!body) {
        co_return from_remote(body.error(), "read " + key);
    }
    if (pipeline::xxh3_128(bytes_of(*body)).hex() != named->second) {
        co_return make_job_error(status_code::bad_file, fmt::format("{} does not match its checksum", key));
    }
    co_return std::move(*body);
}


struct loaded_manifest {
    std::string key;
    snapshot_manifest manifest;
};

/// A pack's live files: their ranges (offset, size), each once.
using live_ranges = std::set<std::pair<uint64_t, uint64_t>>;

/// A repacked pack: its new key and where each old offset went.
struct repacked {
    std::string key;
    std::map<uint64_t, uint64_t> new_offset;
};

/// Copies the live ranges of `old_key` into a new pack next to it; the new name follows from
/// the old one and the ranges, so a re-run after a crash writes the same object again.
io::task<job_result<repacked>> repack(remote::object_store& store, std::string old_key, const live_ranges& ranges,
                                      std::stop_token stop) {
    std::string members = old_key;
    for (const auto& [offset, size] : ranges) {
        members += fmt::format("\n{}+{}", offset, size);
    }
    repacked out;
    out.key = fmt::format("{}/r-{}", parent_of(old_key), pipeline::xxh3_128(bytes_of(members)).hex());
    std::string body;
    for (const auto& [offset, size] : ranges) {
        remote::byte_range range;
        range.offset = offset;
        range.length = size;
        auto part = co_await store.get(old_key, range, stop);
        if (!part) {
            co_return from_remote(part.error(), "read " + old_key);
        }
        if (part->size() != size) {
            co_return make_job_error(status_code::bad_file,
                                     fmt::format("{} is shorter than its manifests say: repacking stopped", old_key));
        }
        out.new_offset[offset] = body.size();
        body += *part;
    }
    auto put = co_await store.put(out.key, bytes_of(body), stop);
    if (!put) {
        co_return from_remote(put.error(), "write " + out.key);
    }
    co_return out;
}

/// Points `m` at the new packs, writes it under a new key, then a new info for each info object
/// that named the old key, then removes the old ones.
io::task<job_result<void>> rewrite_manifest(remote::object_store& store, const std::string& root,
                                            loaded_manifest& m, const std::map<std::string, repacked>& packs,
                                            std::stop_token stop) {
    for (auto& f : m.manifest.files) {
        auto it = packs.find(f.key);
        if (f.packed && it != packs.end()) {
            f.offset = it->second.new_offset.at(f.offset);
            f.key = it->second.key;
        }
    }
    auto base = remote::split_checksum(m.key);
    auto new_key = co_await put_checksummed(store, base->first, encode_manifest(m.manifest), stop);
    if (!new_key) {
        co_return new_key.error();
    }
    if (*new_key == m.key) {
        co_return job_result<void>{};
    }
    std::vector<std::string> old_keys;
    auto infos = co_await store.list(remote::info_key_base(root, m.manifest.label, m.manifest.timestamp) + ".", stop);
    if (!infos) {
        co_return from_remote(infos.error(), "list snapshot infos");
    }
    for (const auto& o : *infos) {
        auto text = co_await read_checked(store, o.key, stop);
        if (!text) {
            co_return text.error();
        }
        auto info = decode_job_info(*text, o.key);
        if (!info) {
            co_return info.error();
        }
        if (info->manifest_key != m.key) {
            continue;
        }
        info->manifest_key = *new_key;
        auto base_of_info = remote::split_checksum(o.key);
        auto written = co_await put_checksummed(store, base_of_info->first, encode_job_info(*info), stop);
        if (!written) {
            co_return written.error();
        }
        if (*written != o.key) {
            old_keys.push_back(o.key);
        }
    }
    old_keys.push_back(m.key);
    if (auto removed = co_await remove_keys(store, std::move(old_keys), stop); !removed) {
        co_return removed.error();
    }
    m.key = *new_key;
    io::crash_point("drop.repack.after_manifest");
    co_return job_result<void>{};
}

io::task<job_result<std::vector<loaded_manifest>>> load_manifests(remote::object_store& store, std::string root,
                                                                  std::stop_token stop) {
    auto listed = co_await store.list(fmt::format("{}/{}", root, remote::snapshot_dir_prefix), stop);
    if (!listed) {
        co_return from_remote(listed.error(), "list snapshots");
    }
    std::vector<loaded_manifest> out;
    for (const auto& o : *listed) {
        if (!leaf_of(o.key).starts_with(remote::manifest_prefix)) {
            continue;
        }
        auto text = co_await read_checked(store, o.key, stop);
        if (!text) {
            co_return make_job_error(text.error().code, fmt::format("no data was deleted: {}", text.error().message));
        }
        auto manifest = decode_manifest(*text, o.key);
        if (!manifest) {
            co_return make_job_error(manifest.error().code,
                                     fmt::format("no data was deleted: {}", manifest.error().message));
        }
        out.push_back(loaded_manifest{o.key, std::move(*manifest)});
    }
    co_return out;
}

}  // namespace

io::task<job_result<void>> collect_garbage(remote::object_store& store, const std::string& root,
                                           const gc_options& options, int64_t now_ms, drop_report& report,
                                           std::stop_token stop) {
    auto manifests = co_await load_manifests(store, root, stop);
    if (!manifests) {
        co_return manifests.error();
    }
    std::unordered_set<std::string> whole;           // objects referenced as one file each
    std::unordered_map<std::string, live_ranges> in_packs;
    for (const auto& m : *manifests) {
        for (const auto& f : m.manifest.files) {
            if (f.packed) {
                in_packs[f.key].emplace(f.offset, f.size);
            } else {
                whole.insert(f.key);
            }
        }
    }
    auto objects = co_await store.list(fmt::format("{}/{}/", root, remote::data_dir_name), stop);
    if (!objects) {
        co_return from_remote(objects.error(), "list stored data");
    }
    const int64_t cutoff = now_ms - options.grace_ms;
    std::map<std::string, repacked> packs;
    std::vector<remote::object_info> garbage;
    for (const auto& o : *objects) {
        auto live = in_packs.find(o.key);
        if (whole.contains(o.key)) {
            continue;
        }
        if (live != in_packs.end()) {
            uint64_t live_bytes = 0;
            for (const auto& [offset, size] : live->second) {
                live_bytes += size;
            }
            uint64_t dead = o.size > live_bytes ? o.size - live_bytes : 0;
            bool worth = options.repack_threshold_pct > 0 && o.size > 0 &&
                         dead * 100 >= static_cast<uint64_t>(options.repack_threshold_pct) * o.size;
            if (!worth) {
                continue;
            }
            auto made = co_await repack(store, o.key, live->second, stop);
            if (!made) {
                co_return made.error();
            }
            packs.emplace(o.key, std::move(*made));
            report.packs_repacked += 1;
            report.bytes_repacked += live_bytes;
            report.bytes_freed += dead;
            continue;
        }
        if (o.modified_ms >= cutoff) {
            report.objects_kept_young += 1;  // maybe a backup's, not yet in a manifest
            continue;
        }
        garbage.push_back(o);
    }
    for (auto& m : *manifests) {
        bool uses = std::any_of(m.manifest.files.begin(), m.manifest.files.end(),
                                [&](const manifest_file& f) { return f.packed && packs.contains(f.key); });
        if (!uses) {
            continue;
        }
        auto rewritten = co_await rewrite_manifest(store, root, m, packs, stop);
        if (!rewritten) {
            co_return rewritten.error();
        }
    }
    // A repack a crashed run began writes the same new pack again: listed as unreferenced above,
    // it is referenced now.
    std::set<std::string> made_now;
    for (const auto& [old_key, made] : packs) {
        made_now.insert(made.key);
    }
    std::vector<std::string> doomed;
    for (const auto& o : garbage) {
        if (!made_now.contains(o.key)) {
            doomed.push_back(o.key);
            report.objects_freed += 1;
            report.bytes_freed += o.size;
        }
    }
    for (const auto& [old_key, made] : packs) {
        doomed.push_back(old_key);
    }
    if (!packs.empty()) {
        TV_LOG_INFO("DROP SNAPSHOT: repacked {} packs ({} live bytes copied)", report.packs_repacked,
                    report.bytes_repacked);
    }
    // What is doomed was decided from the manifests listed above: a backup that chose to reuse
    // one of these objects since then must hold a lease that blocked this run (drop_and_collect).
    if (auto pause = io::failpoint_delay("drop.delete.before"); pause.count() > 0) {
        (void)co_await io::sleep(pause, stop);
    }
    // In two halves, so that a crash test can stop it midway (nothing else tells them apart).
    std::vector<std::string> first_half(doomed.begin(), doomed.begin() + static_cast<std::ptrdiff_t>(doomed.size() / 2));
    doomed.erase(doomed.begin(), doomed.begin() + static_cast<std::ptrdiff_t>(first_half.size()));
    if (auto removed = co_await remove_keys(store, std::move(first_half), stop); !removed) {
        co_return removed.error();
    }
    io::crash_point("drop.delete.midway");
    auto removed = co_await remove_keys(store, std::move(doomed), stop);
    if (!removed) {
        co_return removed.error();
    }
    co_return job_result<void>{};
}

}  // namespace tv::jobs
