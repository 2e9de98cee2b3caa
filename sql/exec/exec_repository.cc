// SPDX-License-Identifier: Apache-2.0
// CREATE [READ ONLY] REPOSITORY, DROP REPOSITORY and SHOW REPOSITORIES (root and db_admin only).
// CREATE validates the location and properties fully, pings the store (writes or reads
// __repo_info), and only then records the repository: an unreachable one is never stored.
#include "jobs/job_tracker.hh"
#include "remote/local_location.hh"
#include "remote/repository.hh"
#include "remote/repository_config.hh"
#include "sql/exec/executor.hh"
#include "sql/exec/backup_names.hh"
#include "sql/privileges.hh"
#include "storage/catalog.hh"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace tv::sql {

namespace {

/// How a remote failure reaches the client: configuration mistakes are the statement's fault
/// (1064, as StarRocks' analyzer errors), missing features are 1235, and a store that does not
/// answer is "Failed to create repository: ..." (StarRocks' words) as 1105.
sql_error remote_to_sql(const remote::remote_error& e) {
    switch (e.code) {
    case remote::remote_errc::bad_config: return sql_error{errc::parse, e.message};
    case remote::remote_errc::not_supported: return sql_error{errc::not_supported_yet, e.message};
    default: return make_error(errc::unknown, "Failed to create repository: {}", e.message);
    }
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}


io::task<statement_result> create_repository(exec_context& ctx, const create_repository_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "CREATE REPOSITORY"); !allowed) {
        co_return allowed.error();
    }
    // Before the ping, which creates __tabletvault_repository_<name> in the store.
    if (auto bad = check_repository_name(s.name); !bad) {
        co_return bad.error();
    }
    if (s.kind == repository_kind::hdfs) {
        co_return make_error(errc::not_supported_yet, "WITH HDFS repositories are not supported; supported locations: {}",
                             remote::supported_locations());
    }
    if (s.broker_name) {
        // There are no brokers: the server reaches stores itself (WITH BROKER without a name).
        co_return make_error(errc::unknown, "broker does not exist: {}", *s.broker_name);
    }
    if (ctx.catalog.find_repository(s.name) != nullptr) {
        co_return make_error(errc::db_create_exists, "repository with same name already exist: {}", s.name);
    }
    auto config = remote::parse_repository_config(s.location, s.properties);
    if (!config) {
        co_return remote_to_sql(config.error());
    }
    if (config->kind == remote::store_kind::local) {
        // Resolved once here, so the ping creates the directories where the check looked.
        remote::local_location_rules rules{ctx.options.data.data_dir, ctx.options.local_repository_roots};
        auto resolved = remote::check_local_location(config->location, config->local_path, rules);
        if (!resolved) {
            co_return remote_to_sql(resolved.error());
        }
        config->local_path = std::move(*resolved);
    }
    auto store = remote::open_store(*config);
    if (!store) {
        co_return remote_to_sql(store.error());
    }
    auto pinged = co_await remote::ping_repository(**store, s.name, s.read_only, now_ms());
    if (!pinged) {
        co_return remote_to_sql(pinged.error());
    }
    storage::repository r;
    r.name = s.name;
    r.create_time_ms = pinged->create_time_ms;
    r.read_only = s.read_only;
    r.location = config->location;
    r.props = s.properties;
    auto created = co_await ctx.catalog.create_repository(std::move(r));
    co_return done(created);
}

io::task<statement_result> drop_repository(exec_context& ctx, const drop_repository_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "DROP REPOSITORY"); !allowed) {
        co_return allowed.error();
    }
    if (auto bad = check_repository_name(s.name); !bad) {
        co_return bad.error();
    }
    if (ctx.options.jobs != nullptr && ctx.options.jobs->repository_in_use(s.name)) {
        co_return make_error(errc::parse, "Backup or restore job is running on this repository. Can not drop it");
    }
    // Metadata only: the store keeps every object, and CREATE REPOSITORY on the same location
    // and name finds them again.
    auto dropped = co_await ctx.catalog.drop_repository(s.name);
    co_return done(dropped);
}

statement_result show_repositories(exec_context& ctx, const show_repositories_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "SHOW REPOSITORIES"); !allowed) {
        return allowed.error();
    }
    result_set rs = make_result({"RepoId", "RepoName", "CreateTime", "IsReadOnly", "Location", "Broker", "ErrMsg"});
    for (const auto& [name, r] : ctx.catalog.repositories()) {
        // Locations never hold secrets (keys go in PROPERTIES), so they are shown as given.
        rs.rows.push_back({std::to_string(r.id), r.name, datetime_text(r.create_time_ms), r.read_only ? "true" : "false",
                           r.location, r.broker.empty() ? "-" : r.broker, cell{}});
    }
    if (auto filtered = apply_show_predicate(ctx, s.predicate, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

}  // namespace

io::task<std::optional<statement_result>> execute_repository_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<create_repository_stmt>(&stmt)) {
        co_return co_await create_repository(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_repository_stmt>(&stmt)) {
        co_return co_await drop_repository(ctx, *s);
    }
    if (const auto* s = std::get_if<show_repositories_stmt>(&stmt)) {
        co_return show_repositories(ctx, *s);
    }
    co_return std::optional<statement_result>{};
}

}  // namespace tv::sql
