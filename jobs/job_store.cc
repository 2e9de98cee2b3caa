// SPDX-License-Identifier: Apache-2.0
// Job records as JSON journal records: {"op":"put","job":{...}}, {"op":"stored",...},
// {"op":"upload",...}, {"op":"clear",...}; an image is {"op":"image","jobs":[...],
// "last_backup_finished":{db: ms}} with each job's progress inline. Decoding is tolerant of
// missing members (a newer field read by an older binary is dropped, an older record read by a
// newer binary takes the defaults).
#include "jobs/job_store.hh"

#include "io/log.hh"
#include "jobs/json_fields.hh"
#include "storage/journal.hh"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace tv::jobs {

namespace json = boost::json;

namespace {

/// Journal records between images: a job writes a handful per state plus one per flush of
/// stored files, so this is an image every few jobs.
constexpr uint64_t image_every = 2000;

job_error store_error(std::string_view what, const std::string& message) {
    return make_job_error(status_code::common_error, fmt::format("job store: {}: {}", what, message));
}

json::array strings(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& s : items) {
        out.push_back(json::value(s));
    }
    return out;
}

std::vector<std::string> strings_of(const json::value* v) {
    std::vector<std::string> out;
    if (v != nullptr && v->is_array()) {
        for (const auto& item : v->get_array()) {
            if (item.is_string()) {
                out.emplace_back(item.get_string());
            }
        }
    }
    return out;
}

std::string text_of(const json::object& o, std::string_view name) {
    return string_of(o.if_contains(name)).value_or(std::string());
}

int64_t int_of(const json::object& o, std::string_view name) {
    const json::value* v = o.if_contains(name);
    if (v == nullptr) {
        return 0;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64()) {
        return static_cast<int64_t>(v->get_uint64());
    }
    return 0;
}

/// [id, key, hash, offset, packed]
json::array stored_json(const stored_file& f) {
    return json::array{f.id, f.key, f.hash, f.offset, f.packed};
}

std::optional<stored_file> stored_of(const json::value& v) {
    const json::array* a = v.if_array();
    if (a == nullptr || a->size() != 5 || !(*a)[0].is_string() || !(*a)[1].is_string() || !(*a)[2].is_string() ||
        !(*a)[4].is_bool()) {
        return std::nullopt;
    }
    auto offset = unsigned_of(&(*a)[3]);
    if (!offset) {
        return std::nullopt;
    }
    return stored_file{std::string((*a)[0].get_string()), std::string((*a)[1].get_string()),
                       std::string((*a)[2].get_string()), *offset, (*a)[4].get_bool()};
}

json::object upload_json(const open_upload& u) {
    json::array parts;
    for (const auto& [number, part] : u.parts) {
        parts.push_back(json::array{number, part.first, part.second});
    }
    return json::object{{"upload_id", u.upload_id}, {"parts", std::move(parts)}, {"part_size", u.part_size}};
}

open_upload upload_of(const json::object& o) {
    open_upload u;
    u.upload_id = text_of(o, "upload_id");
    u.part_size = unsigned_of(o.if_contains("part_size")).value_or(0);
    if (const json::value* parts = o.if_contains("parts"); parts != nullptr && parts->is_array()) {
        for (const auto& p : parts->get_array()) {
            const json::array* a = p.if_array();
            auto number = a != nullptr && a->size() == 3 ? unsigned_of(&(*a)[0]) : std::nullopt;
            auto etag = number ? string_of(&(*a)[1]) : std::nullopt;
            auto size = etag ? unsigned_of(&(*a)[2]) : std::nullopt;
            if (size) {
                u.parts[static_cast<int>(*number)] = {std::move(*etag), *size};
            }
        }
    }
    return u;
}

json::object job_json(const job_record& j, bool with_progress) {
    json::array tables;
    for (const auto& t : j.selection.tables) {
        tables.push_back(json::object{{"name", t.name}, {"partitions", strings(t.partitions)}});
    }
    json::object o{
        {"id", j.id},
        {"type", j.type == job_type::backup ? "backup" : "restore"},
        {"db", j.db},
        {"db_id", j.db_id},
        {"label", j.label},
        {"repository", j.repository},
        {"timestamp", j.timestamp},
        {"state", job_state_name(j.state)},
        {"create_time_ms", j.create_time_ms},
        {"snapshot_finished_ms", j.snapshot_finished_ms},
        {"upload_finished_ms", j.upload_finished_ms},
        {"finished_ms", j.finished_ms},
        {"timeout_s", j.timeout_s},
        {"max_speed_kbps", j.max_speed_kbps},
        {"ttl_s", j.ttl_s},
        {"expire_time_ms", j.expire_time_ms},
        {"objects_text", j.objects_text},
        {"tables", std::move(tables)},
        {"views", strings(j.selection.views)},
        {"materialized_views", strings(j.selection.materialized_views)},
        {"functions", strings(j.selection.functions)},
        {"catalogs", strings(j.selection.catalogs)},
        {"status_code", status_code_name(j.status.code)},
        {"status_message", j.status.message},
        {"meta_key", j.meta_key},
        {"manifest_key", j.manifest_key},
        {"files_total", j.files_total},
        {"bytes_total", j.bytes_total},
        {"files_reused", j.files_reused},
        {"bytes_reused", j.bytes_reused},
    };
    if (j.type == job_type::restore) {
        const restore_details& r = j.restore;
        o["restore"] = json::object{
            {"info_key", r.info_key},
            {"snapshot_timestamp", r.snapshot_timestamp},
            {"allow_load", r.allow_load},
            {"replication_num", r.replication_num},
            {"meta_version", r.meta_version},
            {"starrocks_meta_version", r.starrocks_meta_version},
            {"meta_prepared_ms", r.meta_prepared_ms},
            {"selection", r.selection},
        };
    }
    if (with_progress) {
        json::array stored;
        for (const auto& [id, f] : j.stored) {
            stored.push_back(stored_json(f));
        }
        json::object uploads;
        for (const auto& [key, u] : j.uploads) {
            uploads[key] = upload_json(u);
        }
        o["stored"] = std::move(stored);
        o["uploads"] = std::move(uploads);
    }
    return o;
}

job_state state_of(std::string_view name) {
    // A state this binary does not know cannot be resumed by it.
    return parse_job_state(name).value_or(job_state::cancelled);
}

status_code code_of(std::string_view name) {
    for (int c = 0; c <= static_cast<int>(status_code::unsupported); ++c) {
        if (status_code_name(static_cast<status_code>(c)) == name) {
            return static_cast<status_code>(c);
        }
    }
    return status_code::common_error;
}

job_record job_of(const json::object& o) {
    job_record j;
    j.id = static_cast<uint64_t>(int_of(o, "id"));
    j.type = text_of(o, "type") == "restore" ? job_type::restore : job_type::backup;
    j.db = text_of(o, "db");
    j.db_id = int_of(o, "db_id");
    j.label = text_of(o, "label");
    j.repository = text_of(o, "repository");
    j.timestamp = text_of(o, "timestamp");
    j.state = state_of(text_of(o, "state"));
    j.create_time_ms = int_of(o, "create_time_ms");
    j.snapshot_finished_ms = int_of(o, "snapshot_finished_ms");
    j.upload_finished_ms = int_of(o, "upload_finished_ms");
    j.finished_ms = int_of(o, "finished_ms");
    j.timeout_s = int_of(o, "timeout_s");
    j.max_speed_kbps = int_of(o, "max_speed_kbps");
    j.ttl_s = int_of(o, "ttl_s");
    j.expire_time_ms = int_of(o, "expire_time_ms");
    j.objects_text = text_of(o, "objects_text");
    if (const json::value* tables = o.if_contains("tables"); tables != nullptr && tables->is_array()) {
        for (const auto& t : tables->get_array()) {
            if (const json::object* to = t.if_object()) {
                j.selection.tables.push_back({text_of(*to, "name"), strings_of(to->if_contains("partitions"))});
            }
        }
    }
    j.selection.views = strings_of(o.if_contains("views"));
    j.selection.materialized_views = strings_of(o.if_contains("materialized_views"));
    j.selection.functions = strings_of(o.if_contains("functions"));
    j.selection.catalogs = strings_of(o.if_contains("catalogs"));
    j.status = make_job_error(code_of(text_of(o, "status_code")), text_of(o, "status_message"));
    j.meta_key = text_of(o, "meta_key");
    j.manifest_key = text_of(o, "manifest_key");
    j.files_total = static_cast<uint64_t>(int_of(o, "files_total"));
    j.bytes_total = static_cast<uint64_t>(int_of(o, "bytes_total"));
    j.files_reused = static_cast<uint64_t>(int_of(o, "files_reused"));
    j.bytes_reused = static_cast<uint64_t>(int_of(o, "bytes_reused"));
    if (const json::value* restore = o.if_contains("restore"); restore != nullptr && restore->is_object()) {
        const json::object& r = restore->get_object();
        j.restore.info_key = text_of(r, "info_key");
        j.restore.snapshot_timestamp = text_of(r, "snapshot_timestamp");
        const json::value* allow = r.if_contains("allow_load");
        j.restore.allow_load = allow != nullptr && allow->is_bool() && allow->get_bool();
        j.restore.replication_num = int_of(r, "replication_num");
        j.restore.meta_version = int_of(r, "meta_version");
        j.restore.starrocks_meta_version = int_of(r, "starrocks_meta_version");
        j.restore.meta_prepared_ms = int_of(r, "meta_prepared_ms");
        j.restore.selection = text_of(r, "selection");
    }
    if (const json::value* stored = o.if_contains("stored"); stored != nullptr && stored->is_array()) {
        for (const auto& s : stored->get_array()) {
            if (auto f = stored_of(s)) {
                j.stored[f->id] = std::move(*f);
            }
        }
    }
    if (const json::value* uploads = o.if_contains("uploads"); uploads != nullptr && uploads->is_object()) {
        for (const auto& [key, u] : uploads->get_object()) {
            if (u.is_object()) {
                j.uploads[std::string(key)] = upload_of(u.get_object());
            }
        }
    }
    return j;
}

}  // namespace

std::string_view job_state_name(job_state s) noexcept {
    switch (s) {
    case job_state::pending: return "PENDING";
    case job_state::snapshoting: return "SNAPSHOTING";
    case job_state::upload_snapshot: return "UPLOAD_SNAPSHOT";
    case job_state::uploading: return "UPLOADING";
    case job_state::save_meta: return "SAVE_META";
    case job_state::upload_info: return "UPLOAD_INFO";
    case job_state::download: return "DOWNLOAD";
    case job_state::downloading: return "DOWNLOADING";
    case job_state::commit: return "COMMIT";
    case job_state::committing: return "COMMITTING";
    case job_state::finished: return "FINISHED";
    case job_state::cancelled: return "CANCELLED";
    }
    return "CANCELLED";
}

std::optional<job_state> parse_job_state(std::string_view name) noexcept {
    for (int s = 0; s <= static_cast<int>(job_state::cancelled); ++s) {
        if (job_state_name(static_cast<job_state>(s)) == name) {
            return static_cast<job_state>(s);
        }
    }
    return std::nullopt;
}

bool is_done(job_state s) noexcept {
    return s == job_state::finished || s == job_state::cancelled;
}

job_store::~job_store() = default;

io::task<job_result<std::unique_ptr<job_store>>> job_store::open(std::string data_dir) {
    std::string dir = data_dir + "/jobs";
    auto opened = co_await storage::journal::open(dir);
    if (!opened) {
        co_return store_error(fmt::format("open {}", dir), opened.error().message);
    }
    std::unique_ptr<job_store> store(new job_store());
    store->_journal = std::move(opened->log);
    if (opened->recovered.image) {
        store->apply(*opened->recovered.image);
    }
    for (const auto& record : opened->recovered.records) {
        store->apply(record.payload);
    }
    store->_records_since_image = opened->recovered.records.size();
    co_return store;
}

const job_record* job_store::last_job(const std::string& db) const {
    auto it = _last_by_db.find(db);
    if (it == _last_by_db.end()) {
        return nullptr;
    }
    auto job = _jobs.find(it->second);
    return job == _jobs.end() ? nullptr : &job->second;
}

void job_store::apply(const std::string& payload) {
    std::error_code ec;
    json::value doc = parse_document(payload, ec);
    if (ec || !doc.is_object()) {
        // The journal's checksums passed, so this is a record a newer binary wrote in a shape
        // this one cannot read: skip it rather than refuse to start.
        TV_LOG_WARN("job store: skipping an unreadable record: {}", ec ? ec.message() : "not an object");
        return;
    }
    const json::object& o = doc.get_object();
    std::string op = text_of(o, "op");
    auto job_id = static_cast<uint64_t>(int_of(o, "job"));
    auto put_job = [&](job_record j) {
        auto previous = _last_by_db.find(j.db);
        if (previous != _last_by_db.end() && previous->second != j.id) {
            _jobs.erase(previous->second);
        }
        _last_by_db[j.db] = j.id;
        if (j.type == job_type::backup && j.state == job_state::finished) {
            auto& finished = _last_backup_finished[j.db];
            finished = std::max(finished, j.finished_ms);
        }
        auto& slot = _jobs[j.id];
        if (j.stored.empty() && j.uploads.empty()) {
            j.stored = std::move(slot.stored);
            j.uploads = std::move(slot.uploads);
        }
        slot = std::move(j);
    };
    if (op == "image") {
        _jobs.clear();
        _last_by_db.clear();
        _last_backup_finished.clear();
        if (const json::value* jobs = o.if_contains("jobs"); jobs != nullptr && jobs->is_array()) {
            for (const auto& j : jobs->get_array()) {
                if (j.is_object()) {
                    put_job(job_of(j.get_object()));
                }
            }
        }
        if (const json::value* finished = o.if_contains("last_backup_finished");
            finished != nullptr && finished->is_object()) {
            for (const auto& [db, ms] : finished->get_object()) {
                if (ms.is_int64()) {
                    auto& kept = _last_backup_finished[std::string(db)];
                    kept = std::max(kept, ms.get_int64());
                }
            }
        }
    } else if (op == "put") {
        if (const json::value* j = o.if_contains("job"); j != nullptr && j->is_object()) {
            put_job(job_of(j->get_object()));
        }
    } else if (op == "stored") {
        auto it = _jobs.find(job_id);
        if (it == _jobs.end()) {
            return;
        }
        if (const json::value* files = o.if_contains("files"); files != nullptr && files->is_array()) {
            for (const auto& item : files->get_array()) {
                if (auto f = stored_of(item)) {
                    it->second.uploads.erase(f->key);
                    std::string id = f->id;
                    it->second.stored[id] = std::move(*f);
                }
            }
        }
    } else if (op == "upload") {
        auto it = _jobs.find(job_id);
        const json::value* upload = o.if_contains("upload");
        if (it != _jobs.end() && upload != nullptr && upload->is_object()) {
            it->second.uploads[text_of(o, "key")] = upload_of(upload->get_object());
        }
    } else if (op == "clear") {
        if (auto it = _jobs.find(job_id); it != _jobs.end()) {
            it->second.stored.clear();
            it->second.uploads.clear();
        }
    }
}

std::string job_store::image() const {
    json::array jobs;
    for (const auto& [id, job] : _jobs) {
        jobs.push_back(job_json(job, true));
    }
    json::object finished;
    for (const auto& [db, ms] : _last_backup_finished) {
        finished[db] = ms;
    }
    return json::serialize(
        json::object{{"op", "image"}, {"jobs", std::move(jobs)}, {"last_backup_finished", std::move(finished)}});
}

io::task<job_result<void>> job_store::append(std::string payload) {
    auto hold = co_await _append_lock.lock();
    auto appended = co_await _journal->append(payload);
    if (!appended) {
        co_return store_error("write the jobs journal", appended.error().message);
    }
    apply(payload);
    if (++_records_since_image >= image_every) {
        auto written = co_await _journal->write_image(image());
        if (written) {
            _records_since_image = 0;
        } else {
            TV_LOG_WARN("job store: image failed, the journal keeps everything: {}", written.error().message);
        }
    }
    co_return job_result<void>{};
}

// Each payload is built in a named local before the co_await: GCC 12 miscompiles braced
// initializers inside a co_await expression (docs/architecture.md).
io::task<job_result<void>> job_store::put(job_record job) {
    std::string payload = json::serialize(json::object{{"op", "put"}, {"job", job_json(job, false)}});
    co_return co_await append(std::move(payload));
}

void job_store::put_unjournaled(const job_record& job) {
    apply(json::serialize(json::object{{"op", "put"}, {"job", job_json(job, false)}}));
}

io::task<job_result<void>> job_store::add_stored(uint64_t job_id, std::vector<stored_file> files) {
    json::array list;
    for (const auto& f : files) {
        list.push_back(stored_json(f));
    }
    std::string payload =
        json::serialize(json::object{{"op", "stored"}, {"job", job_id}, {"files", std::move(list)}});
    co_return co_await append(std::move(payload));
}

io::task<job_result<void>> job_store::put_upload(uint64_t job_id, std::string key, open_upload upload) {
    std::string payload = json::serialize(
        json::object{{"op", "upload"}, {"job", job_id}, {"key", key}, {"upload", upload_json(upload)}});
    co_return co_await append(std::move(payload));
}

io::task<job_result<void>> job_store::clear_progress(uint64_t job_id) {
    std::string payload = json::serialize(json::object{{"op", "clear"}, {"job", job_id}});
    co_return co_await append(std::move(payload));
}

io::task<void> job_store::close() {
    if (!_journal) {
        co_return;
    }
    if (_records_since_image > 0) {
        auto written = co_await _journal->write_image(image());
        if (!written) {
            TV_LOG_WARN("job store: image at close failed, the journal keeps everything: {}",
                        written.error().message);
        }
    }
    co_await _journal->close();
}

}  // namespace tv::jobs
