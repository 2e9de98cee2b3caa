// SPDX-License-Identifier: Apache-2.0
// The catalog's life cycle (open with replay, commit, checkpoint, close) and its read side.
#include "storage/catalog.hh"

#include "io/log.hh"
#include "storage/cluster_id.hh"
#include "storage/journal.hh"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>

namespace tv::storage {

namespace {

// MySQL host patterns: '%' any run of characters, '_' any one character.
bool host_matches(std::string_view pattern, std::string_view host) {
    if (pattern.empty()) {
        return host.empty();
    }
    if (pattern.front() == '%') {
        for (size_t skip = 0; skip <= host.size(); ++skip) {
            if (host_matches(pattern.substr(1), host.substr(skip))) {
                return true;
            }
        }
        return false;
    }
    if (host.empty()) {
        return false;
    }
    if (pattern.front() != '_' && !iequals(pattern.substr(0, 1), host.substr(0, 1))) {
        return false;
    }
    return host_matches(pattern.substr(1), host.substr(1));
}

size_t literal_chars(std::string_view pattern) {
    return static_cast<size_t>(std::count_if(pattern.begin(), pattern.end(), [](char c) { return c != '%' && c != '_'; }));
}

}  // namespace

catalog::catalog() = default;
catalog::~catalog() = default;

io::task<storage_result<std::unique_ptr<catalog>>> catalog::open(std::string data_dir, catalog_options options) {
    auto opened = co_await journal::open(data_dir + "/meta");
    if (!opened) {
        co_return opened.error();
    }
    std::unique_ptr<catalog> c(new catalog());
    c->_options = std::move(options);
    recovered_meta& rec = opened->recovered;
    std::optional<storage_error> failure;
    if (rec.image) {
        auto state = decode_state(*rec.image);
        if (!state) {
            failure = make_error(storage_errc::corrupt_metadata, fmt::format("{}/image.{}: {}", opened->log->dir(),
                                                                             rec.image_seq, state.error().message));
        } else {
            c->_state = std::move(*state);
        }
    }
    for (size_t i = 0; !failure && i < rec.records.size(); ++i) {
        const journal_record& r = rec.records[i];
        auto entry = decode_entry(r.payload);
        if (!entry) {
            failure = make_error(storage_errc::corrupt_metadata, fmt::format("journal record {} in {}: {}", r.seq,
                                                                             opened->log->dir(), entry.error().message));
        } else if (auto applied = apply_entry(c->_state, *entry); !applied) {
            failure = make_error(storage_errc::corrupt_metadata,
                                 fmt::format("journal record {} in {} does not apply: {}", r.seq, opened->log->dir(),
                                             applied.error().message));
        }
    }
    if (failure) {
        co_await opened->log->close();
        co_return *failure;
    }
    c->_root.name = "root";
    c->_root.host = "%";
    c->_root.password_hash = native_password_hash(c->_options.root_password);
    c->_journal = std::move(opened->log);
    c->_data_dir = data_dir;
    auto cluster = co_await open_cluster_id(data_dir);
    if (!cluster) {
        co_await c->_journal->close();
        co_return cluster.error();
    }
    c->_cluster_id = std::move(*cluster);
    c->_reclaimer = std::make_shared<file_reclaimer>(data_dir);
    c->_durable_next_id = c->_state.next_id;
    if (c->_options.sweep_orphans_at_open) {
        c->sweep_orphan_files({});
    }
    TV_LOG_INFO("catalog: opened {} at sequence {} (image at {}, {} journal records replayed)", c->_journal->dir(),
                c->_journal->last_seq(), rec.image_seq, rec.records.size());
    if (rec.records.size() >= c->_options.checkpoint_every) {
        auto hold = co_await c->_write_lock.lock();
        if (auto done = co_await c->checkpoint_locked(); !done) {
            TV_LOG_WARN("catalog: checkpoint after replay failed: {}", done.error().message);
        }
    }
    co_return c;
}

io::task<storage_result<void>> catalog::close() {
    auto hold = co_await _write_lock.lock();
    storage_result<void> done;
    if (_journal) {
        done = co_await checkpoint_locked();
        co_await _journal->close();
    }
    co_return done;
}

void catalog::sweep_orphan_files(const std::set<object_id>& keep) {
    // Files of loads that crashed before publishing, temp files, and files of tablets dropped
    // while a scan still read them: nothing references them any more.
    orphan_report orphans = remove_orphan_files(_state, _data_dir, keep);
    if (orphans.files != 0 || orphans.dirs != 0) {
        TV_LOG_INFO("storage: removed {} orphan files and {} empty tablet directories under {}", orphans.files,
                    orphans.dirs, tablets_root(_data_dir));
    }
    if (!keep.empty()) {
        TV_LOG_INFO("storage: kept the directories of {} tablets a resumed restore is committing", keep.size());
    }
}

bool catalog::journal_failed() const {
    return _journal->failed();
}

io::task<storage_result<void>> catalog::checkpoint() {
    auto hold = co_await _write_lock.lock();
    co_return co_await checkpoint_locked();
}

io::task<storage_result<void>> catalog::checkpoint_locked() {
    if (_journal->failed() || _journal->last_seq() == _journal->image_seq()) {
        co_return storage_result<void>{};
    }
    co_return co_await _journal->write_image(encode_state(_state));
}

io::task<storage_result<void>> catalog::commit(object_id next_id, ops::op change) {
    // The change's own ids (taken from a copy of the counter) are below next_id: the counter
    // passes them before the record is written, since allocate_id() hands out ids from it
    // meanwhile (a load, a restore's plan). Ids skipped when the write fails are never used.
    _state.next_id = std::max(_state.next_id, next_id);
    journal_entry entry{next_id, std::move(change)};
    auto seq = co_await _journal->append(encode_entry(entry));
    if (!seq) {
        co_return seq.error();
    }
    _durable_next_id = next_id;
    // Ids taken from the counter while the record was written are past next_id and stay taken
    // in memory (their takers journal them before using them).
    entry.next_id = std::max(entry.next_id, _state.next_id);
    removed_data removed;
    if (auto applied = apply_entry(_state, entry, &removed); !applied) {
        // Validation passed moments ago under the same lock, so this is a bug. The record is
        // durable: going on would leave memory and disk disagreeing. Stop; a restart fails to
        // replay the record and says which one.
        TV_LOG_ERROR("catalog: journal record {} is durable but does not apply: {}", *seq, applied.error().message);
        std::abort();
    }
    _reclaimer->retire(std::move(removed));
    if (_journal->last_seq() - _journal->image_seq() >= _options.checkpoint_every) {
        if (auto done = co_await checkpoint_locked(); !done) {
            // The change itself is durable in the journal; the next one retries the image.
            TV_LOG_WARN("catalog: checkpoint failed: {}", done.error().message);
        }
    }
    co_return storage_result<void>{};
}

namespace {

/// Ids leased per reserve_ids record: a record (one fdatasync) per this many loads at most.
constexpr object_id id_lease_size = 1024;

}  // namespace

object_id catalog::allocate_id() {
    if (_lease_next < _lease_end) {
        return _lease_next++;
    }
    // Beyond the lease: the in-memory counter moves, and the next record carries it. Never
    // from inside a lease whose record is still being written (ensure_ids_durable).
    _state.next_id = std::max(_state.next_id, _lease_end);
    return _state.next_id++;
}

io::task<storage_result<void>> catalog::ensure_ids_durable(object_id id) {
    auto hold = co_await _write_lock.lock();
    if (id < _durable_next_id) {
        co_return storage_result<void>{};
    }
    object_id lease_start = _state.next_id;
    object_id next = lease_start + id_lease_size;
    // The lease is handed out from now, while its record is written: an id taken meanwhile from
    // the counter would come from inside the lease and be handed out a second time once the
    // lease is in place (two loads writing one <rowset>_0.dat). An id taken from the lease
    // before its record is durable is made durable by this record; its taker's own call waits
    // for the lock and then finds it below _durable_next_id.
    _lease_next = lease_start;
    _lease_end = next;
    ops::reserve_ids change;
    auto done = co_await commit(next, std::move(change));
    if (!done) {
        // Not durable: no id of the lease may be handed out again, and the next lease starts
        // past those already taken (their takers' calls journal it).
        _state.next_id = std::max(_state.next_id, _lease_next);
        _lease_next = 0;
        _lease_end = 0;
        co_return done.error();
    }
    co_return storage_result<void>{};
}

const std::vector<rowset>& catalog::tablet_rowsets(object_id tablet) const {
    static const std::vector<rowset> none;
    auto it = _state.tablet_rowsets.find(tablet);
    return it == _state.tablet_rowsets.end() ? none : it->second;
}

bool catalog::label_used(std::string_view db, std::string_view label) const {
    const database* d = find_database(db);
    return d != nullptr && d->load_labels.contains(std::string(label));
}

std::optional<catalog::load_target> catalog::find_load_target(std::string_view db, std::string_view name) const {
    if (const table* t = find_table(db, name)) {
        load_target target{t->id, {}};
        for (const auto& p : t->partitioning.partitions) {
            target.partitions.push_back(&p);
        }
        return target;
    }
    if (const materialized_view* mv = find_materialized_view(db, name)) {
        load_target target{mv->id, {}};
        if (!mv->columns.empty()) {
            target.partitions.push_back(&mv->storage);
        }
        return target;
    }
    return std::nullopt;
}

io::task<storage_result<void>> catalog::publish_load(load_publication p) {
    auto hold = co_await _write_lock.lock();
    if (auto busy = check_not_restoring(p.db, p.table); !busy) {
        co_return busy.error();
    }
    if (auto d = need_database(p.db); !d) {
        co_return d.error();
    }
    auto changed = [&](std::string detail) {
        return make_error(storage_errc::bad_definition,
                          fmt::format("Table '{}' changed during load: {}", p.table, detail));
    };
    auto target = find_load_target(p.db, p.table);
    if (!target || target->id != p.table_id) {
        // Renamed (or swapped) while it loaded: the load goes to the table it began on, as in
        // StarRocks, whose transactions name tables by id.
        for (const auto& [name, t] : find_database(p.db)->tables) {
            if (t.id == p.table_id) {
                p.table = name;
                target = find_load_target(p.db, p.table);
                break;
            }
        }
        if (auto busy = check_not_restoring(p.db, p.table); !busy) {
            co_return busy.error();
        }
    }
    if (!target) {
        co_return changed("it was dropped");
    }
    if (target->id != p.table_id) {
        co_return changed("it was dropped and created again");
    }
    if (!p.label.empty() && label_used(p.db, p.label)) {
        co_return make_error(storage_errc::bad_definition, fmt::format("Label [{}] has already been used.", p.label));
    }
    std::set<object_id> partitions;
    std::set<object_id> tablets;
    for (const partition* part : target->partitions) {
        partitions.insert(part->id);
        for (const auto& index : part->tablets) {
            tablets.insert(index.tablet_ids.begin(), index.tablet_ids.end());
        }
    }
    for (object_id id : p.overwritten_partitions) {
        if (!partitions.contains(id)) {
            co_return changed("a partition it wrote to was dropped or truncated");
        }
    }
    for (const auto& [tablet, _] : p.rowsets) {
        if (!tablets.contains(tablet)) {
            co_return changed("a partition or index it wrote to was dropped or truncated");
        }
    }
    for (const auto& [id, version] : p.expected_versions) {
        auto it = std::find_if(target->partitions.begin(), target->partitions.end(),
                               [&](const partition* part) { return part->id == id; });
        if (it == target->partitions.end()) {
            co_return changed("a partition it read was dropped or truncated");
        }
        if ((*it)->visible_version != version) {
            co_return make_error(storage_errc::bad_definition,
                                 fmt::format("Table '{}' changed while the statement ran: partition '{}' is at "
                                             "version {}, not {} as read; run the statement again",
                                             p.table, (*it)->name, (*it)->visible_version, version));
        }
    }
    ops::publish_load change;
    change.db = std::move(p.db);
    change.table = std::move(p.table);
    change.table_id = p.table_id;
    change.label = std::move(p.label);
    change.label_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    change.overwritten_partitions = std::move(p.overwritten_partitions);
    for (auto& [tablet, rs] : p.rowsets) {
        change.rowsets.push_back(ops::tablet_rowset{tablet, std::move(rs)});
    }
    co_return co_await commit(_state.next_id, std::move(change));
}

uint64_t catalog::last_sequence() const noexcept {
    return _journal ? _journal->last_seq() : 0;
}

database* catalog::db_mut(std::string_view name) {
    auto it = _state.databases.find(std::string(name));
    return it == _state.databases.end() ? nullptr : &it->second;
}

const database* catalog::find_database(std::string_view name) const {
    auto it = _state.databases.find(std::string(name));
    return it == _state.databases.end() ? nullptr : &it->second;
}

const table* catalog::find_table(std::string_view db, std::string_view name) const {
    const database* d = find_database(db);
    if (d == nullptr) {
        return nullptr;
    }
    auto it = d->tables.find(std::string(name));
    return it == d->tables.end() ? nullptr : &it->second;
}

const view* catalog::find_view(std::string_view db, std::string_view name) const {
    const database* d = find_database(db);
    if (d == nullptr) {
        return nullptr;
    }
    auto it = d->views.find(std::string(name));
    return it == d->views.end() ? nullptr : &it->second;
}

const materialized_view* catalog::find_materialized_view(std::string_view db, std::string_view name) const {
    const database* d = find_database(db);
    if (d == nullptr) {
        return nullptr;
    }
    auto it = d->mvs.find(std::string(name));
    return it == d->mvs.end() ? nullptr : &it->second;
}

const function* catalog::find_function(std::string_view db, std::string_view name,
                                       const std::vector<std::string>& arg_types, bool variadic) const {
    const std::vector<function>* fns = &_state.global_functions;
    if (!db.empty()) {
        const database* d = find_database(db);
        if (d == nullptr) {
            return nullptr;
        }
        fns = &d->functions;
    }
    for (const auto& f : *fns) {
        if (iequals(f.name, name) && f.variadic == variadic && f.arg_types.size() == arg_types.size() &&
            std::equal(f.arg_types.begin(), f.arg_types.end(), arg_types.begin(),
                       [](const std::string& a, const std::string& b) { return iequals(a, b); })) {
            return &f;
        }
    }
    return nullptr;
}

const external_catalog* catalog::find_external_catalog(std::string_view name) const {
    auto it = _state.catalogs.find(std::string(name));
    return it == _state.catalogs.end() ? nullptr : &it->second;
}

std::vector<std::string> catalog::list_databases() const {
    std::vector<std::string> out;
    for (const auto& [name, _] : _state.databases) {
        out.push_back(name);
    }
    return out;
}

const user* catalog::find_user(std::string_view name, std::string_view host) const {
    if (name == _root.name && host == _root.host) {
        return &_root;
    }
    auto it = _state.users.find(user_key{std::string(name), std::string(host)});
    return it == _state.users.end() ? nullptr : &it->second;
}

const user* catalog::match_user(std::string_view name, std::string_view client_host) const {
    if (name == _root.name) {
        return &_root;
    }
    const user* best = nullptr;
    for (const auto& [key, u] : _state.users) {
        if (key.name != name || !host_matches(key.host, client_host)) {
            continue;
        }
        if (key.host == client_host) {
            return &u;
        }
        if (best == nullptr || literal_chars(key.host) > literal_chars(best->host)) {
            best = &u;
        }
    }
    return best;
}

std::vector<const user*> catalog::users() const {
    std::vector<const user*> out{&_root};
    for (const auto& [_, u] : _state.users) {
        out.push_back(&u);
    }
    return out;
}

bool catalog::has_table_privilege(const user& u, privilege p, std::string_view db, std::string_view table) const {
    bool is_root = u.name == _root.name && u.host == _root.host;
    if (is_root || u.roles.contains(std::string(role_db_admin))) {
        return true;
    }
    return std::any_of(u.grants.begin(), u.grants.end(), [&](const table_grant& g) {
        return g.priv == p && (g.db == "*" || g.db == db) && (g.table == "*" || g.table == table);
    });
}

storage_result<const database*> catalog::need_database(std::string_view name) const {
    const database* d = find_database(name);
    if (d == nullptr) {
        return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", name));
    }
    return d;
}

storage_result<const table*> catalog::need_table(std::string_view db, std::string_view name) const {
    auto d = need_database(db);
    if (!d) {
        return d.error();
    }
    const table* t = find_table(db, name);
    if (t == nullptr) {
        return make_error(storage_errc::unknown_table, fmt::format("Unknown table '{}.{}'", db, name));
    }
    return t;
}

bool catalog::name_taken(const database& d, std::string_view name) const {
    std::string key(name);
    if (d.tables.contains(key) || d.views.contains(key) || d.mvs.contains(key)) {
        return true;
    }
    // Synchronous materialized views too, so that DROP MATERIALIZED VIEW names one thing.
    return std::any_of(d.tables.begin(), d.tables.end(),
                       [&](const auto& entry) { return entry.second.find_index(name) != nullptr; });
}

}  // namespace tv::storage
