// SPDX-License-Identifier: Apache-2.0
// Users and grants: CREATE / ALTER / DROP USER, SET PASSWORD, GRANT / REVOKE of the roles
// db_admin and user_admin and of table-level SELECT / INSERT, SHOW GRANTS. Passwords are
// hashed before they reach the catalog and never shown.
#include "io/ascii.hh"
#include "sql/exec/executor.hh"
#include "sql/privileges.hh"
#include "sql/variables.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

namespace tv::sql {

namespace {

/// The stored hash for an IDENTIFIED BY / SET PASSWORD clause.
sql_result<std::string> password_hash(const std::optional<std::string>& plugin,
                                      const std::optional<std::string>& password, bool hashed) {
    if (plugin && ascii_lower(*plugin) != "mysql_native_password") {
        return not_supported(fmt::format("authentication plugin '{}' (only mysql_native_password)", *plugin));
    }
    if (!password) {
        return std::string{};
    }
    if (hashed) {
        if (!storage::is_native_password_hash(*password)) {
            return make_error(errc::unknown,
                              "Password hash should be a 41-digit hexadecimal number starting with '*'");
        }
        return *password;
    }
    return storage::native_password_hash(*password);
}

io::task<statement_result> create_user(exec_context& ctx, const create_user_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_user_admin, "CREATE USER"); !allowed) {
        co_return allowed.error();
    }
    auto hash = s.auth ? password_hash(s.auth->plugin, s.auth->password, s.auth->hashed) : std::string{};
    if (!hash) {
        co_return hash.error();
    }
    // Checked first so that a bad role cannot leave a user created without it; role names
    // compare case-insensitively, as in GRANT.
    std::vector<std::string> roles;
    for (const auto& role : s.default_roles) {
        roles.push_back(ascii_lower(role));
        if (roles.back() != storage::role_db_admin && roles.back() != storage::role_user_admin) {
            co_return make_error(errc::parse, "Role '{}' does not exist; the roles are {} and {}", role,
                                 storage::role_db_admin, storage::role_user_admin);
        }
    }
    auto created = co_await ctx.catalog.create_user(s.user.name, s.user.host, *hash,
                                                    s.if_not_exists);
    if (!created || s.default_roles.empty()) {
        co_return done(created);
    }
    co_return done(co_await ctx.catalog.grant_roles(s.user.name, s.user.host, std::move(roles)));
}

io::task<statement_result> alter_user(exec_context& ctx, const alter_user_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_user_admin, "ALTER USER"); !allowed) {
        co_return allowed.error();
    }
    if (!s.default_roles.empty()) {
        co_return not_supported("ALTER USER ... DEFAULT ROLE");
    }
    if (ctx.catalog.find_user(s.user.name, s.user.host) == nullptr) {
        if (s.if_exists) {
            co_return ok_result{};
        }
        co_return make_error(errc::cannot_user, "Operation ALTER USER failed for '{}'@'{}'", s.user.name, s.user.host);
    }
    if (!s.auth) {
        co_return ok_result{};
    }
    auto hash = password_hash(s.auth->plugin, s.auth->password, s.auth->hashed);
    if (!hash) {
        co_return hash.error();
    }
    co_return done(co_await ctx.catalog.set_password(s.user.name, s.user.host, *hash));
}

io::task<statement_result> set_password(exec_context& ctx, const set_password_stmt& s) {
    user_identity target{ctx.s.user, ctx.s.host};
    if (s.user && (s.user->name != ctx.s.user || s.user->host != ctx.s.host)) {
        if (auto allowed = require_role(ctx, storage::role_user_admin, "SET PASSWORD FOR another user"); !allowed) {
            co_return allowed.error();
        }
        target = *s.user;
    }
    auto hash = password_hash(std::nullopt, s.password, s.hashed);
    if (!hash) {
        co_return hash.error();
    }
    co_return done(co_await ctx.catalog.set_password(target.name, target.host, *hash));
}

/// SELECT / INSERT (ALL means both) on db.table, "*" for all; anything else is not supported.
sql_result<std::vector<storage::privilege>> table_privileges(const std::vector<std::string>& names) {
    std::vector<storage::privilege> privs;
    for (const auto& n : names) {
        if (n == "SELECT") {
            privs.push_back(storage::privilege::select);
        } else if (n == "INSERT") {
            privs.push_back(storage::privilege::insert);
        } else if (n == "ALL") {
            privs.push_back(storage::privilege::select);
            privs.push_back(storage::privilege::insert);
        } else {
            return not_supported(fmt::format("the {} privilege (SELECT and INSERT are supported; roles db_admin "
                                             "and user_admin cover the rest)",
                                             n));
        }
    }
    return privs;
}

struct table_target {
    std::string db;
    std::string table;
};

sql_result<std::vector<table_target>> table_targets(exec_context& ctx, const privilege_object& o) {
    if (o.type != privilege_object_type::table) {
        return not_supported("privileges on objects other than tables");
    }
    if (o.all_databases) {
        return std::vector<table_target>{{"*", "*"}};
    }
    if (o.all) {
        return std::vector<table_target>{{o.in_database.value_or("*"), "*"}};
    }
    std::vector<table_target> out;
    for (const auto& n : o.names) {
        if (n.name == "*") {
            out.push_back({n.db.empty() ? "*" : n.db, "*"});
            continue;
        }
        auto db = resolve_db(ctx, n.db);
        if (!db) {
            return db.error();
        }
        out.push_back({*db, n.name});
    }
    return out;
}

io::task<statement_result> change_privileges(exec_context& ctx, const std::vector<std::string>& names,
                                             const privilege_object& object, const grantee& who, bool grant) {
    if (auto allowed = require_role(ctx, storage::role_user_admin, grant ? "GRANT" : "REVOKE"); !allowed) {
        co_return allowed.error();
    }
    if (who.is_role) {
        co_return not_supported("granting to roles");
    }
    auto privs = table_privileges(names);
    if (!privs) {
        co_return privs.error();
    }
    auto targets = table_targets(ctx, object);
    if (!targets) {
        co_return targets.error();
    }
    for (const auto& t : *targets) {
        // Plain if/else: GCC 12 destroys the result twice in `c ? co_await a : co_await b`.
        auto& p = *privs;
        storage::storage_result<void> r;
        if (grant) {
            r = co_await ctx.catalog.grant_privileges(who.user.name, who.user.host, p, t.db, t.table);
        } else {
            r = co_await ctx.catalog.revoke_privileges(who.user.name, who.user.host, p, t.db, t.table);
        }
        if (!r) {
            co_return to_sql_error(r.error());
        }
    }
    co_return ok_result{};
}

io::task<statement_result> change_roles(exec_context& ctx, const std::vector<std::string>& roles, const grantee& who,
                                        bool grant) {
    if (auto allowed = require_role(ctx, storage::role_user_admin, grant ? "GRANT" : "REVOKE"); !allowed) {
        co_return allowed.error();
    }
    if (who.is_role) {
        co_return not_supported("granting roles to roles");
    }
    if (grant) {
        co_return done(co_await ctx.catalog.grant_roles(who.user.name, who.user.host, roles));
    }
    co_return done(co_await ctx.catalog.revoke_roles(who.user.name, who.user.host, roles));
}

statement_result show_grants(exec_context& ctx, const show_grants_stmt& s) {
    if (s.role) {
        return not_supported("SHOW GRANTS FOR ROLE");
    }
    std::vector<const storage::user*> users;
    if (s.all) {
        if (auto allowed = require_role(ctx, storage::role_user_admin, "SHOW ALL GRANTS"); !allowed) {
            return allowed.error();
        }
        users = ctx.catalog.users();
    } else {
        user_identity who = s.user.value_or(user_identity{ctx.s.user, ctx.s.host});
        if (who.name != ctx.s.user || who.host != ctx.s.host) {
            if (auto allowed = require_role(ctx, storage::role_user_admin, "SHOW GRANTS FOR another user"); !allowed) {
                return allowed.error();
            }
        }
        const storage::user* u = ctx.catalog.find_user(who.name, who.host);
        if (u == nullptr) {
            return make_error(errc::cannot_user, "Operation SHOW GRANTS failed for '{}'@'{}'", who.name, who.host);
        }
        users.push_back(u);
    }
    result_set rs = make_result({"UserIdentity", "Catalog", "Grants"});
    for (const storage::user* u : users) {
        if (u->name == "root") {
            rs.rows.push_back({u->identity(), cell{}, "GRANT root TO " + u->identity()});
            continue;
        }
        if (!u->roles.empty()) {
            std::string roles;
            for (const auto& r : u->roles) {
                roles += fmt::format("{}{}", roles.empty() ? "" : ", ", r);
            }
            rs.rows.push_back({u->identity(), cell{}, fmt::format("GRANT {} TO {}", roles, u->identity())});
        }
        for (const auto& g : u->grants) {
            std::string on = g.table == "*" ? (g.db == "*" ? "ALL TABLES IN ALL DATABASES"
                                                           : fmt::format("ALL TABLES IN DATABASE {}", g.db))
                                            : fmt::format("TABLE {}.{}", g.db, g.table);
            rs.rows.push_back({u->identity(), "default_catalog",
                               fmt::format("GRANT {} ON {} TO USER {}", storage::privilege_name(g.priv), on,
                                           u->identity())});
        }
    }
    return rs;
}

}  // namespace

io::task<std::optional<statement_result>> execute_user_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<create_user_stmt>(&stmt)) {
        co_return co_await create_user(ctx, *s);
    }
    if (const auto* s = std::get_if<alter_user_stmt>(&stmt)) {
        co_return co_await alter_user(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_user_stmt>(&stmt)) {
        if (auto allowed = require_role(ctx, storage::role_user_admin, "DROP USER"); !allowed) {
            co_return allowed.error();
        }
        co_return done(co_await ctx.catalog.drop_user(s->user.name, s->user.host, s->if_exists));
    }
    if (const auto* s = std::get_if<set_password_stmt>(&stmt)) {
        co_return co_await set_password(ctx, *s);
    }
    if (const auto* s = std::get_if<grant_role_stmt>(&stmt)) {
        co_return co_await change_roles(ctx, s->roles, s->to, true);
    }
    if (const auto* s = std::get_if<revoke_role_stmt>(&stmt)) {
        co_return co_await change_roles(ctx, s->roles, s->from, false);
    }
    if (const auto* s = std::get_if<grant_privilege_stmt>(&stmt)) {
        co_return co_await change_privileges(ctx, s->privileges, s->object, s->to, true);
    }
    if (const auto* s = std::get_if<revoke_privilege_stmt>(&stmt)) {
        co_return co_await change_privileges(ctx, s->privileges, s->object, s->from, false);
    }
    if (const auto* s = std::get_if<show_grants_stmt>(&stmt)) {
        co_return show_grants(ctx, *s);
    }
    co_return std::optional<statement_result>{};
}

}  // namespace tv::sql
