// SPDX-License-Identifier: Apache-2.0
// SHOW SNAPSHOT ON r [WHERE SNAPSHOT = 'l' [AND TIMESTAMP = 'ts'] | WHERE SNAPSHOT IN (...)]
// [ORDER BY] [LIMIT]: the labels in the repository with their info objects' timestamps and
// when each expires (BACKUP's ttl); with a timestamp, that info object read and checked, its
// database and brief JSON.
// DROP SNAPSHOT ON r WHERE ... (the same forms, plus TIMESTAMP <= 'ts') and DROP SNAPSHOT l ON r
// [FORCE]: jobs/snapshot_drop.hh does the work; one row says what it freed.
#include "io/when_all.hh"
#include "jobs/job_info.hh"
#include "jobs/job_tracker.hh"
#include "jobs/repository_access.hh"
#include "jobs/snapshot_drop.hh"
#include "jobs/snapshot_ttl.hh"
#include "pipeline/hash.hh"
#include "remote/snapshot_layout.hh"
#include "sql/exec/backup_names.hh"
#include "sql/exec/exec_backup.hh"
#include "sql/privileges.hh"
#include "sql/query_guard.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <set>

namespace tv::sql {

namespace {

constexpr std::string_view where_form =
    "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = '2018-04-18-19-19-10']";
constexpr std::string_view drop_where_form =
    "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = '2018-04-18-19-19-10-000'], "
    "SNAPSHOT IN ('snapshot_1', ...) or [SNAPSHOT = 'your_snapshot_name' AND] TIMESTAMP <= "
    "'2018-04-18-19-19-10-000'";

/// What the WHERE clause asks for.
struct snapshot_filter {
    std::optional<std::set<std::string>> labels;  ///< none: every label
    std::optional<std::string> timestamp;
    std::optional<std::string> timestamp_at_most;  ///< DROP SNAPSHOT only
};

/// The column a side of a comparison names, lower-cased ("snapshot", "timestamp"), if any.
std::optional<std::string> column_of(const expr& e) {
    const auto* c = e.as<column_ref>();
    if (c == nullptr || !c->table.empty() || !c->db.empty()) {
        return std::nullopt;
    }
    std::string name = c->column;
    for (auto& ch : name) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return name;
}

std::optional<std::string> string_of(const expr& e) {
    const auto* l = e.as<literal>();
    if (l == nullptr || l->kind != literal_kind::string) {
        return std::nullopt;
    }
    return l->value;
}

/// `column <op> 'text'`: (column, text).
std::optional<std::pair<std::string, std::string>> equality_of(const expr& e,
                                                               binary_operator op = binary_operator::eq) {
    const auto* b = e.as<binary_op>();
    if (b == nullptr || b->op != op) {
        return std::nullopt;
    }
    auto column = column_of(*b->left);
    auto value = string_of(*b->right);
    if (!column || !value) {
        return std::nullopt;
    }
    return std::make_pair(*column, *value);
}

/// `TIMESTAMP <= 'ts'` (DROP SNAPSHOT only).
std::optional<std::string> at_most_of(const expr& e) {
    auto le = equality_of(e, binary_operator::le);
    if (!le || le->first != "timestamp") {
        return std::nullopt;
    }
    return le->second;
}

sql_result<snapshot_filter> filter_of(const std::optional<expr>& where, bool dropping = false) {
    snapshot_filter filter;
    if (!where) {
        return filter;
    }
    auto refuse = [dropping] { return make_error(errc::parse, "{}", dropping ? drop_where_form : where_form); };
    if (dropping) {
        if (auto at_most = at_most_of(*where)) {
            filter.timestamp_at_most = *at_most;
            return filter;
        }
        const auto* both = where->as<binary_op>();
        if (both != nullptr && both->op == binary_operator::logical_and) {
            for (auto [a, b] : {std::pair{&*both->left, &*both->right},
                                std::pair{&*both->right, &*both->left}}) {
                auto label = equality_of(*a);
                auto at_most = at_most_of(*b);
                if (label && label->first == "snapshot" && at_most) {
                    filter.labels = std::set<std::string>{label->second};
                    filter.timestamp_at_most = *at_most;
                    return filter;
                }
            }
        }
    }
    if (auto eq = equality_of(*where)) {
        if (eq->first != "snapshot") {
            return refuse();
        }
        filter.labels = std::set<std::string>{eq->second};
        return filter;
    }
    if (const auto* in = where->as<in_expr>()) {
        auto column = column_of(*in->value);
        if (in->negated || column != "snapshot" || in->list.empty()) {
            return refuse();
        }
        filter.labels.emplace();
        for (const auto& item : in->list) {
            auto label = string_of(item);
            if (!label) {
                return refuse();
            }
            filter.labels->insert(*label);
        }
        return filter;
    }
    const auto* both = where->as<binary_op>();
    if (both == nullptr || both->op != binary_operator::logical_and) {
        return refuse();
    }
    auto left = equality_of(*both->left);
    auto right = equality_of(*both->right);
    if (!left || !right) {
        return refuse();
    }
    if (left->first == "timestamp") {
        std::swap(left, right);
    }
    if (left->first != "snapshot" || right->first != "timestamp") {
        return refuse();
    }
    filter.labels = std::set<std::string>{left->second};
    filter.timestamp = right->second;
    return filter;
}

/// The row of one info object: its database and brief JSON, or NULLs and the failure in
/// Status.
io::task<row> detail_row(remote::object_store& store, std::string label, std::string timestamp,
                         const remote::snapshot_listing* listing) {
    auto failed = [&](const std::string& why) {
        return row{label, timestamp, cell(), cell(), "ERROR: Failed to get info: " + why, cell()};
    };
    if (listing == nullptr || !listing->info_keys.contains(timestamp)) {
        co_return failed(fmt::format("no snapshot {} with timestamp {}", label, timestamp));
    }
    std::string key = listing->info_keys.at(timestamp);
    auto body = co_await store.get(key);
    if (!body) {
        co_return failed(body.error().message);
    }
    auto named = remote::split_checksum(key);
    std::string got = pipeline::xxh3_128(std::as_bytes(std::span(*body))).hex();
    if (!named || named->second != got) {
        co_return failed(fmt::format("{} does not match its checksum (xxh3-128 {})", key, got));
    }
    auto info = jobs::decode_job_info(*body, key);
    if (!info) {
        co_return failed(info.error().message);
    }
    co_return row{label, timestamp, info->database, jobs::brief_job_info(*info), "OK",
                  job_time_cell(info->expire_time_ms)};
}

/// ExpireTime of a label: one line per line of its Timestamp cell, empty for a snapshot that
/// never expires (or whose info cannot be read); NULL when none of them expires.
io::task<cell> expiry_cell(remote::object_store& store, const remote::snapshot_listing& listing) {
    std::string lines;
    bool any = false;
    for (size_t i = 0; i < listing.timestamps.size(); ++i) {
        std::string line;
        auto key = listing.info_keys.find(listing.timestamps[i]);
        if (key != listing.info_keys.end()) {
            auto expiry = co_await jobs::snapshot_expiry(store, key->second);
            if (expiry && *expiry > 0) {
                line = datetime_text(*expiry);
                any = true;
            }
        }
        lines += i == 0 ? line : "\n" + line;
    }
    co_return any ? cell(lines) : cell();
}

/// The labels a filter names, each from a listing of its own prefix (a repository may hold
/// thousands of snapshots, a page of a thousand keys per request); every label when it names
/// none, or more than a few.
io::task<remote::remote_result<std::vector<remote::snapshot_listing>>> list_filtered(
    remote::object_store& store, std::string root, std::optional<std::set<std::string>> labels) {
    constexpr size_t most_listed_one_by_one = 16;
    if (!labels || labels->size() > most_listed_one_by_one) {
        co_return co_await remote::list_snapshots(store, std::move(root));
    }
    std::vector<io::task<remote::remote_result<std::optional<remote::snapshot_listing>>>> lists;
    for (const auto& label : *labels) {
        lists.push_back(remote::list_snapshot_label(store, root, label));
    }
    auto listed = co_await io::when_all(std::move(lists));
    std::vector<remote::snapshot_listing> out;
    for (auto& one : listed) {
        if (!one) {
            co_return one.error();
        }
        if (*one) {
            out.push_back(std::move(**one));
        }
    }
    co_return out;
}

}  // namespace

io::task<statement_result> show_snapshot(exec_context& ctx, const show_snapshot_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "SHOW SNAPSHOT"); !allowed) {
        co_return allowed.error();
    }
    auto filter = filter_of(s.predicate.where);
    if (!filter) {
        co_return filter.error();
    }
    if (auto bad = check_snapshot_filter_names(s.repository, filter->labels); !bad) {
        co_return bad.error();
    }
    auto repo = jobs::find_repository(ctx.catalog, s.repository);
    if (!repo) {
        co_return job_to_sql(repo.error());
    }
    auto store = repo->open();
    if (!store) {
        co_return job_to_sql(store.error());
    }
    auto listed = co_await list_filtered(**store, repo->root, filter->labels);
    if (!listed) {
        co_return make_error(errc::unknown, "Failed to list snapshots in repository {}: {}", repo->name,
                             listed.error().message);
    }
    std::map<std::string, const remote::snapshot_listing*> by_label;
    for (const auto& l : *listed) {
        by_label[l.label] = &l;
    }
    result_set rs;
    if (filter->timestamp) {
        rs = make_result({"Snapshot", "Timestamp", "Database", "Details", "Status", "ExpireTime"});
        const std::string& label = *filter->labels->begin();
        auto it = by_label.find(label);
        rs.rows.push_back(co_await detail_row(**store, label, *filter->timestamp,
                                              it == by_label.end() ? nullptr : it->second));
    } else {
        rs = make_result({"Snapshot", "Timestamp", "Status", "ExpireTime"});
        std::vector<std::pair<std::string, const remote::snapshot_listing*>> chosen;
        if (filter->labels) {
            for (const auto& label : *filter->labels) {
                auto it = by_label.find(label);
                chosen.emplace_back(label, it == by_label.end() ? nullptr : it->second);
            }
        } else {
            chosen.assign(by_label.begin(), by_label.end());
        }
        for (const auto& [label, l] : chosen) {
            if (l == nullptr || l->timestamps.empty()) {
                rs.rows.push_back(row{label, cell(), "ERROR: no snapshot", cell()});
                continue;
            }
            std::string stamps;
            for (const auto& t : l->timestamps) {
                stamps += stamps.empty() ? t : "\n" + t;
            }
            cell expiry = co_await expiry_cell(**store, *l);
            rs.rows.push_back(row{label, stamps, l->status, std::move(expiry)});
        }
    }
    show_predicate rest = s.predicate;
    rest.where.reset();  // applied above: its columns are not the result's
    if (auto ordered = apply_show_predicate(ctx, rest, rs); !ordered) {
        co_return ordered.error();
    }
    co_return rs;
}

io::task<statement_result> drop_snapshot(exec_context& ctx, const drop_snapshot_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "DROP SNAPSHOT"); !allowed) {
        co_return allowed.error();
    }
    auto tracker = need_tracker(ctx, "DROP SNAPSHOT");
    if (!tracker) {
        co_return tracker.error();
    }
    if (s.label && s.where) {
        co_return make_error(errc::parse, "DROP SNAPSHOT names its snapshot either before ON or in WHERE, not both");
    }
    auto filter = filter_of(s.where, true);
    if (!filter) {
        co_return filter.error();
    }
    jobs::snapshot_choice choice;
    choice.labels = s.label ? std::optional(std::set<std::string>{*s.label}) : filter->labels;
    choice.timestamp = filter->timestamp;
    choice.timestamp_at_most = filter->timestamp_at_most;
    for (const auto* ts : {&choice.timestamp, &choice.timestamp_at_most}) {
        if (*ts && !remote::parse_snapshot_timestamp(**ts)) {
            co_return make_error(errc::parse, "Invalid timestamp '{}': it should look like 2018-04-18-19-19-10-000",
                                 **ts);
        }
    }
    auto repo = jobs::find_repository(ctx.catalog, s.repository);
    if (!repo) {
        co_return job_to_sql(repo.error());
    }
    if (repo->read_only) {
        co_return make_error(errc::parse, "Repository {} is read only: DROP SNAPSHOT cannot delete from it",
                             repo->name);
    }
    std::stop_token stop;
    if (ctx.guard != nullptr) {
        stop = ctx.guard->token();
    }
    auto report = co_await jobs::drop_snapshots(*repo, ctx.catalog.cluster_id(), std::move(choice),
                                                (*tracker)->drop_options(), stop);
    if (!report) {
        co_return job_to_sql(report.error());
    }
    result_set rs = make_result({"SnapshotsDropped", "ObjectsFreed", "BytesFreed", "PacksRepacked", "BytesRepacked",
                                 "ObjectsKeptInGrace", "Status"});
    rs.rows.push_back(row{job_number_cell(report->snapshots_dropped), job_number_cell(report->objects_freed),
                          job_number_cell(report->bytes_freed), job_number_cell(report->packs_repacked),
                          job_number_cell(report->bytes_repacked), job_number_cell(report->objects_kept_young),
                          report->status});
    co_return rs;
}

}  // namespace tv::sql
