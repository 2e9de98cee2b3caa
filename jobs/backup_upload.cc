// SPDX-License-Identifier: Apache-2.0
// UPLOADING: resolve, plan, send, journal. See backup_upload.hh for the rules.
#include "jobs/backup_upload.hh"

#include "io/failpoint.hh"
#include "io/log.hh"
#include "io/ops.hh"
#include "io/when_all.hh"
#include "jobs/job_store.hh"
#include "jobs/journaled_transfer.hh"
#include "jobs/local_snapshot.hh"
#include "remote/repository.hh"
#include "remote/snapshot_layout.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

namespace tv::jobs {

namespace {

std::string identity_of(const std::string& root, const std::string& cluster, const cut_file& f) {
    return remote::data_key(root, cluster, f.tablet_id, f.name);
}

/// The name part of a key: what follows the last '/'.
std::string_view leaf_of(std::string_view key) {
    auto slash = key.rfind('/');
    return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

/// The manifests (complete and partial) among a listing of `__ss_`, newest first.
std::vector<std::string> manifests_in(const std::vector<remote::object_info>& listed) {
    std::vector<std::string> keys;
    for (const auto& o : listed) {
        if (leaf_of(o.key).starts_with(remote::manifest_prefix) && remote::split_checksum(o.key)) {
            keys.push_back(o.key);
        }
    }
    // The timestamp is fixed-width right after the prefix, so the leaf orders by time.
    std::sort(keys.begin(), keys.end(),
              [](const std::string& a, const std::string& b) { return leaf_of(a) > leaf_of(b); });
    return keys;
}

/// Files earlier snapshots stored that `cut`'s unresolved files can reuse: same identity, same
/// size, same segment checksum, and the object still listed with room for the bytes. A
/// manifest that cannot be read or checked is skipped with a warning: reuse is an
/// optimisation, never a reason to fail a backup.
io::task<job_result<void>> find_reusable(remote::object_store& store, const std::string& root,
                                         const std::string& cluster, const snapshot_cut& cut,
                                         std::vector<std::optional<file_location>>& where, size_t& unresolved,
                                         std::stop_token stop) {
    // Both listings at once: pages of them are round trips each, in sequence, on a WAN.
    std::vector<io::task<remote::remote_result<std::vector<remote::object_info>>>> lists;
    lists.push_back(store.list(root + "/" + std::string(remote::snapshot_dir_prefix), stop));
    lists.push_back(store.list(fmt::format("{}/{}/{}/", root, remote::data_dir_name, cluster), stop));
    auto listed = co_await io::when_all(std::move(lists));
    if (!listed[0]) {
        co_return from_remote(listed[0].error(), "list earlier snapshots");
    }
    if (!listed[1]) {
        co_return from_remote(listed[1].error(), "list stored data");
    }
    std::vector<std::string> keys = manifests_in(*listed[0]);
    stored_sizes sizes = sizes_of(*listed[1]);
    std::unordered_map<std::string, size_t> wanted;
    for (size_t i = 0; i < cut.files.size(); ++i) {
        if (!where[i]) {
            wanted.emplace(identity_of(root, cluster, cut.files[i]), i);
        }
    }
    for (const auto& key : keys) {
        if (unresolved == 0) {
            break;
        }
        auto body = co_await store.get(key, std::nullopt, stop);
        if (!body) {
            if (stop.stop_requested()) {
                co_return from_remote(body.error(), "read " + key);
            }
            TV_LOG_WARN("backup: not reusing files of {}: {}", key, body.error().message);
            continue;
        }
        auto named = remote::split_checksum(key);
        if (pipeline::xxh3_128(std::as_bytes(std::span(*body))).hex() != named->second) {
            TV_LOG_WARN("backup: not reusing files of {}: its checksum does not match its name", key);
            continue;
        }
        auto manifest = decode_manifest(*body, key);
        if (!manifest) {
            TV_LOG_WARN("backup: not reusing files of {}: {}", key, manifest.error().message);
            continue;
        }
        if (manifest->cluster_id != cluster) {
            continue;
        }
        for (const auto& f : manifest->files) {
            auto it = wanted.find(remote::data_key(root, cluster, f.tablet_id, f.name));
            if (it == wanted.end() || where[it->second]) {
                continue;
            }
            const cut_file& c = cut.files[it->second];
            bool same = f.size == c.size && f.segment_checksum == c.segment_checksum && f.encoding == encoding_none;
            if (same && holds_bytes(sizes, f)) {
                where[it->second] = file_location{f.key, f.hash, f.offset, f.packed};
                --unresolved;
            }
        }
    }
    co_return job_result<void>{};
}

/// Aborts the multipart uploads a run before a restart began for objects this run does not send
/// (a pack whose members changed once some of them were stored), so none is left open in the
/// store. Best effort: an upload the store no longer has is already gone.
io::task<void> abort_stale_uploads(remote::object_store& store, const std::map<std::string, open_upload>& uploads,
                                   const std::set<std::string>& planned, const std::string& label) {
    for (const auto& [key, upload] : uploads) {
        if (planned.contains(key) || upload.upload_id.empty()) {
            continue;
        }
        auto resumed = co_await store.resume_upload(key, upload.upload_id);
        if (!resumed) {
            continue;
        }
        auto aborted = co_await resumed->upload->abort();
        if (!aborted) {
            TV_LOG_WARN("backup {}: could not abort the stale upload of {}: {}", label, key, aborted.error().message);
        }
    }
}

/// One object to send: the cut's files it carries (one, or a pack's members in order).
struct planned_object {
    std::string key;
    std::vector<size_t> files;
    bool pack = false;
};

std::vector<planned_object> plan_objects(const snapshot_cut& cut, const std::vector<std::optional<file_location>>& where,
                                         const std::string& root, const std::string& cluster,
                                         const packing_options& packing) {
    std::vector<planned_object> objects;
    planned_object pack;
    uint64_t pack_bytes = 0;
    std::string pack_members;
    auto close_pack = [&] {
        if (pack.files.empty()) {
            return;
        }
        // Named by its members: the same files make the same pack (a resumed job rewrites
        // identical bytes), different ones never collide.
        pack.key = remote::pack_key(root, cluster,
                                    "p-" + pipeline::xxh3_128(std::as_bytes(std::span(pack_members))).hex());
        pack.pack = true;
        objects.push_back(std::move(pack));
        pack = planned_object{};
        pack_bytes = 0;
        pack_members.clear();
    };
    for (size_t i = 0; i < cut.files.size(); ++i) {
        if (where[i]) {
            continue;
        }
        const cut_file& f = cut.files[i];
        std::string id = identity_of(root, cluster, f);
        if (f.size >= packing.threshold) {
            objects.push_back(planned_object{id, {i}, false});
            continue;
        }
        if (!pack.files.empty() && pack_bytes + f.size > packing.pack_size) {
            close_pack();
        }
        pack.files.push_back(i);
        pack_bytes += f.size;
        pack_members += id;
        pack_members += '\n';
    }
    close_pack();
    return objects;
}

/// Journals progress from the transfer's workers (any loop) on loop 0: files stored, and the
/// parts of multipart uploads so a restart continues them.
class progress_journal final : public journaled_observer {
public:
    progress_journal(const snapshot_cut& cut, const std::vector<planned_object>& objects,
                     const std::vector<pipeline::transfer_entry>& entries, live_job& job, std::string root,
                     std::string cluster)
        : _cut(cut), _objects(objects), _entries(entries), _job(job), _root(std::move(root)),
          _cluster(std::move(cluster)) {}

    void upload_begun(size_t index, const std::string& upload_id, uint64_t part_size) override {
        if (upload_id.empty()) {
            return;
        }
        std::lock_guard lock(_mutex);
        const std::string& key = _entries[index].key;
        auto& upload = _open[key];
        if (upload.upload_id != upload_id || upload.part_size != part_size) {
            upload = open_upload{upload_id, {}, part_size};
        }
        _dirty.insert(key);
    }

    void part_done(size_t index, const remote::uploaded_part& part) override {
        std::lock_guard lock(_mutex);
        const std::string& key = _entries[index].key;
        _open[key].parts[part.number] = {part.etag, part.size};
        _dirty.insert(key);
    }

    void entry_done(size_t index, const pipeline::entry_result& result) override {
        const planned_object& object = _objects[index];
        std::vector<stored_file> files;
        if (result.ok) {
            io::crash_point("backup.upload.after_put");
            uint64_t offset = 0;
            for (size_t k = 0; k < object.files.size(); ++k) {
                const cut_file& f = _cut.files[object.files[k]];
                const pipeline::hash128& hash = object.pack ? result.piece_hashes.at(k) : result.hash;
                files.push_back(stored_file{identity_of(_root, _cluster, f), object.key, hash.hex(),
                                            object.pack ? offset : 0, object.pack});
                offset += f.size;
            }
        }
        std::lock_guard lock(_mutex);
        // A failed upload was aborted: nothing of it is left to resume.
        _open.erase(object.key);
        _dirty.erase(object.key);
        for (auto& f : files) {
            _stored.push_back(std::move(f));
        }
        // Bytes are counted as they go (the transfer's progress); files once durable.
        if (result.ok) {
            _job.files_stored += object.files.size();
        }
    }

    /// Journals what finished since the last call (on the job store's loop).
    io::task<job_result<void>> flush(job_store& store) override {
        std::vector<stored_file> stored;
        std::vector<std::pair<std::string, open_upload>> uploads;
        {
            std::lock_guard lock(_mutex);
            stored.swap(_stored);
            for (const auto& key : _dirty) {
                uploads.emplace_back(key, _open.at(key));
            }
            _dirty.clear();
        }
        for (auto& [key, upload] : uploads) {
            auto put = co_await store.put_upload(_job.record.id, key, upload);
            if (!put) {
                co_return put.error();
            }
        }
        if (!stored.empty()) {
            auto added = co_await store.add_stored(_job.record.id, std::move(stored));
            if (!added) {
                co_return added.error();
            }
        }
        co_return job_result<void>{};
    }

private:
    const snapshot_cut& _cut;
    const std::vector<planned_object>& _objects;
    const std::vector<pipeline::transfer_entry>& _entries;
    live_job& _job;
    std::string _root;
    std::string _cluster;
    std::mutex _mutex;
    std::vector<stored_file> _stored;
    std::map<std::string, open_upload> _open;
    std::set<std::string> _dirty;
};

}  // namespace

stored_sizes sizes_of(const std::vector<remote::object_info>& listed) {
    stored_sizes sizes;
    for (const auto& o : listed) {
        sizes.emplace(o.key, o.size);
    }
    return sizes;
}

bool holds_bytes(const stored_sizes& sizes, const manifest_file& f) {
    auto object = sizes.find(f.key);
    return object != sizes.end() && (f.packed ? object->second >= f.offset + f.size : object->second == f.size);
}

std::vector<std::optional<file_location>> stored_locations(const job_record& job, const snapshot_cut& cut,
                                                           const std::string& root, const std::string& cluster_id) {
    std::vector<std::optional<file_location>> where(cut.files.size());
    for (size_t i = 0; i < cut.files.size(); ++i) {
        auto it = job.stored.find(identity_of(root, cluster_id, cut.files[i]));
        if (it == job.stored.end()) {
            continue;
        }
        if (auto hash = parse_hash128(it->second.hash)) {
            where[i] = file_location{it->second.key, *hash, it->second.offset, it->second.packed};
        }
    }
    return where;
}

io::task<job_result<std::vector<file_location>>> upload_snapshot_files(job_services& services, live_job& job,
                                                                     const repository_access& repo,
                                                                     const snapshot_cut& cut) {
    const std::string cluster = services.catalog.cluster_id();
    std::stop_token stop = job.stop.get_token();
    auto where = stored_locations(job.record, cut, repo.root, cluster);
    size_t unresolved = 0;
    for (size_t i = 0; i < cut.files.size(); ++i) {
        if (where[i]) {
            job.files_stored += 1;
            job.bytes_stored += cut.files[i].size;
        } else {
            ++unresolved;
        }
    }
    if (unresolved != 0) {
        auto store = job.repository_store(repo);
        if (!store) {
            co_return store.error();
        }
        auto found = co_await find_reusable(**store, repo.root, cluster, cut, where, unresolved, stop);
        if (!found) {
            co_return found.error();
        }
    }
    std::vector<planned_object> objects = plan_objects(cut, where, repo.root, cluster, services.packing);
    if (!job.record.uploads.empty()) {
        std::set<std::string> planned;
        for (const auto& o : objects) {
            planned.insert(o.key);
        }
        if (auto store = job.repository_store(repo)) {
            co_await abort_stale_uploads(**store, job.record.uploads, planned, job.record.label);
        }
    }
    std::vector<pipeline::transfer_entry> entries;
    for (const auto& object : objects) {
        pipeline::transfer_entry entry;
        entry.key = object.key;
        for (size_t i : object.files) {
            const cut_file& f = cut.files[i];
            std::string link = snapshot_file_path(services.data_dir, job.record.id, f.tablet_id, f.name);
            entry.size += f.size;
            if (object.pack) {
                entry.pieces.push_back(pipeline::entry_piece{std::move(link), f.size});
            } else {
                entry.local_path = std::move(link);
            }
        }
        if (auto open = job.record.uploads.find(object.key); open != job.record.uploads.end()) {
            entry.resume_upload_id = open->second.upload_id;
            entry.resume_part_size = open->second.part_size;
        }
        entries.push_back(std::move(entry));
    }
    for (size_t i = 0; i < cut.files.size(); ++i) {
        if (where[i] && !job.record.stored.contains(identity_of(repo.root, cluster, cut.files[i]))) {
            job.files_reused += 1;
            job.bytes_reused += cut.files[i].size;
        }
    }

    if (!entries.empty()) {
        progress_journal journal(cut, objects, entries, job, repo.root, cluster);
        repository_access opener_repo = repo;
        pipeline::store_opener open = [opener_repo]() -> remote::remote_result<std::unique_ptr<remote::object_store>> {
            return remote::open_store(opener_repo.config);
        };
        pipeline::transfer_options options = services.upload_options();
        options.way = pipeline::direction::upload;
        auto ran = co_await run_journaled(services, job, entries, options, std::move(open), journal);
        if (!ran) {
            co_return ran.error();
        }
        const pipeline::transfer_report& report = *ran;
        if (report.cancelled || stop.stop_requested()) {
            co_return make_job_error(status_code::common_error, "cancelled");
        }
        size_t resumed = std::count_if(report.entries.begin(), report.entries.end(),
                                       [](const pipeline::entry_result& r) { return r.resumed; });
        if (resumed != 0) {
            TV_LOG_INFO("backup {}: continued {} multipart uploads from the parts stored before the restart",
                        job.record.label, resumed);
        }
        for (size_t e = 0; e < report.entries.size(); ++e) {
            const pipeline::entry_result& r = report.entries[e];
            if (!r.ok) {
                co_return make_job_error(status_code::common_error, r.error);
            }
            uint64_t offset = 0;
            for (size_t k = 0; k < objects[e].files.size(); ++k) {
                size_t i = objects[e].files[k];
                where[i] = file_location{objects[e].key, objects[e].pack ? r.piece_hashes.at(k) : r.hash,
                                         objects[e].pack ? offset : 0, objects[e].pack};
                offset += cut.files[i].size;
            }
        }
    }
    std::vector<file_location> located;
    located.reserve(where.size());
    for (size_t i = 0; i < where.size(); ++i) {
        if (!where[i]) {
            // Every file was resolved, reused or uploaded above; never write a manifest without one.
            co_return make_job_error(status_code::common_error,
                                     fmt::format("{} of tablet {} has no place in the repository",
                                                 cut.files[i].name, cut.files[i].tablet_id));
        }
        located.push_back(std::move(*where[i]));
    }
    co_return located;
}

snapshot_manifest make_manifest(const job_record& job, const snapshot_cut& cut, const std::string& cluster_id,
                                const std::vector<std::optional<file_location>>& where, bool complete) {
    snapshot_manifest m;
    m.format_version = remote::repository_format_version;
    m.label = job.label;
    m.timestamp = job.timestamp;
    m.cluster_id = cluster_id;
    m.complete = complete;
    m.files.reserve(cut.files.size());  // growing by doubling would hold two copies at once
    for (size_t i = 0; i < cut.files.size(); ++i) {
        if (!where[i]) {
            continue;
        }
        const cut_file& f = cut.files[i];
        manifest_file out;
        out.db = f.db;
        out.table = f.table;
        out.partition = f.partition;
        out.index = f.index;
        out.tablet_id = f.tablet_id;
        out.name = f.name;
        out.size = f.size;
        out.rows = f.rows;
        out.version = f.version;
        out.hash = where[i]->hash;
        out.segment_checksum = f.segment_checksum;
        out.key = where[i]->key;
        out.packed = where[i]->packed;
        out.offset = where[i]->offset;
        m.files.push_back(std::move(out));
    }
    return m;
}

}  // namespace tv::jobs
